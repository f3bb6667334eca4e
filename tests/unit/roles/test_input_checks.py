# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The callers of the role ``cx.api_auth.input_checks`` against its argument spec.

The callers import the role with ``rolespec_validate: false`` (Ansible's validation would be one more task per
host, which costs each tenant's run a worker process): this test does that validation instead, on the
callers' YAML, with the same validator (``ArgumentSpecValidator``, what ``validate_argument_spec`` uses).
"""

import glob
import os
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = "cx.api_auth.input_checks"
IMPORTS = ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role", "include_role")


def _tasks(items):
    for task in items or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _callers():
    """``[(path, task)]``: every task of the roles and playbooks that imports or includes the role."""
    found = []
    paths = glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))
    paths += glob.glob(os.path.join(ROOT, "playbooks", "**", "*.yml"), recursive=True)
    for path in sorted(paths):
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        if not isinstance(document, list):
            continue
        plays = [item for item in document if isinstance(item, dict) and "hosts" in item]
        tasks = [task for play in plays for key in ("pre_tasks", "tasks", "post_tasks") for task in play.get(key, [])]
        for task in _tasks(tasks if plays else document):
            for key in IMPORTS:
                if isinstance(task.get(key), dict) and task[key].get("name") == ROLE:
                    found.append((os.path.relpath(path, ROOT), task, task[key]))
    return found


def _spec():
    with open(os.path.join(ROOT, "roles", "input_checks", "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]


CALLERS = _callers()


def test_both_roles_call_the_checks():
    assert sorted(path for path, _task, _args in CALLERS) == [
        "roles/apisix_api_auth/tasks/validate.yml",
        "roles/keycloak_api_auth/tasks/validate.yml",
    ]


@pytest.mark.parametrize("path, task, args", CALLERS, ids=[path for path, _t, _a in CALLERS])
def test_a_caller_gives_what_the_argument_spec_asks(path, task, args):
    entry = args.get("tasks_from", "main")
    spec = _spec()
    assert entry in spec, "%s: no entry point %r in the argument spec" % (path, entry)
    # the reason for the test: the caller skips Ansible's validation, one task per host
    assert args.get("rolespec_validate") is False, path
    variables = task.get("vars", {})
    result = ArgumentSpecValidator(spec[entry]["options"]).validate(variables)
    assert not result.error_messages, "%s: %s" % (path, result.error_messages)
    assert not result.unsupported_parameters, path
    assert set(variables) == set(spec[entry]["options"]), path  # nothing given that the role does not read


@pytest.mark.parametrize("path, task, args", CALLERS, ids=[path for path, _t, _a in CALLERS])
def test_a_caller_names_each_realm_after_the_variable_it_reads(path, task, args):
    variables = task["vars"]
    names = []
    for realm in variables["input_checks_realms"]:
        assert set(realm) == {"name", "value"}, path
        assert re.fullmatch(r"\{\{ %s \}\}" % re.escape(realm["name"]), realm["value"]), (path, realm)
        names.append(realm["name"])
    assert variables["input_checks_tenant_realm"] in names, path
    role = path.split("/")[1]
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    assert variables["input_checks_allow_master"] in defaults, path
    assert all(re.fullmatch(r"[a-z_]+", name) for name in variables["input_checks_secrets"]), path

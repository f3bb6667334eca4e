# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of what every module does around its work (plugins/module_utils/_runner.py)."""

import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._runner import change_message, run_module

SECRET = "Runner-s3cret-value"


@pytest.mark.parametrize(
    "state, existed, changed, check_mode, verb",
    [
        ("present", False, True, False, "Created"),
        ("present", False, True, True, "Would create"),
        ("present", True, True, False, "Updated"),
        ("present", True, True, True, "Would update"),
        ("absent", True, True, False, "Deleted"),
        ("absent", True, True, True, "Would delete"),
    ],
)
def test_change_message_verbs(state, existed, changed, check_mode, verb):
    assert change_message("mapper 'm' on client 'c'", state, existed, changed, check_mode) == (
        "%s mapper 'm' on client 'c'" % verb
    )


def test_change_message_without_change():
    assert (
        change_message("user 'u' in realm 'r'", "present", True, False, False) == "User 'u' in realm 'r' is up to date"
    )
    assert change_message("user 'u'", "absent", False, False, True) == "User 'u' is already absent"


def _run(capsys, runner, scrub=None):
    with patch_module_args({"secret": SECRET}):
        module = AnsibleModule(argument_spec={"secret": {"type": "str", "no_log": True}}, supports_check_mode=True)
        with pytest.raises(SystemExit):
            run_module(module, runner, "Doing the thing", scrub=scrub)
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def test_result_and_warnings_pass_through(capsys):
    def runner(params, check_mode, diff, warn):
        warn("look out")
        return {"changed": True, "seen": [params["secret"] == SECRET, check_mode, diff]}

    result = _run(capsys, runner)
    assert result["changed"] is True and result["seen"] == [True, False, False]
    assert "look out" in json.dumps(result["warnings"])


def test_module_error_fails_with_its_message_and_result_keys(capsys):
    def runner(params, check_mode, diff, warn):
        raise ModuleError("route 'a' in f.yaml: broken (%s)" % params["secret"], routes=["a"])

    result = _run(capsys, runner)
    assert result["failed"] is True and result["routes"] == ["a"]
    assert result["msg"].startswith("route 'a' in f.yaml: broken") and "exception" not in result


def test_unexpected_exception_names_what_and_type_without_traceback(capsys):
    def runner(params, check_mode, diff, warn):
        raise KeyError("token=abc.def")

    result = _run(capsys, runner, scrub=lambda text: text.replace("abc.def", "********"))
    assert result["msg"] == "Doing the thing failed: KeyError: token=********"
    assert "Traceback" not in json.dumps(result)

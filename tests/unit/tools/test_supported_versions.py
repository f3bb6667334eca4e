# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The versions the collection claims are the versions the suite runs: ansible-core's floor
(meta/runtime.yml, the roles' meta, the README) is the release `make compat` tests (requirements/compat.txt),
a stage of `make test`; and tests/config.yml gives sanity the modules' Python floor (python-keycloak's)."""

import os
import re
from importlib import metadata

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def _tested_core(name="compat.txt"):
    """major.minor of the ansible-core a requirements file pins (compat.txt: the oldest the suite runs)."""
    return re.search(r"^ansible-core==(\d+\.\d+)\.\d+$", _read("requirements", name), re.MULTILINE).group(1)


def test_make_test_runs_the_compat_stage_with_the_oldest_core():
    makefile = _read("Makefile")
    assert re.search(r"stages\.sh lint sanity units compat ", makefile)
    assert "-r requirements/compat.txt -c $(COMPAT_LOCK)" in makefile
    oldest, newest = (tuple(map(int, _tested_core(name).split("."))) for name in ("compat.txt", "run.txt"))
    assert oldest < newest


def test_requires_ansible_is_the_tested_release():
    runtime = yaml.safe_load(_read("meta", "runtime.yml"))
    assert runtime["requires_ansible"] == ">=%s.0" % _tested_core()


@pytest.mark.parametrize("role", sorted(os.listdir(os.path.join(ROOT, "roles"))))
def test_the_roles_claim_the_same_floor(role):
    meta = yaml.safe_load(_read("roles", role, "meta", "main.yml"))
    assert meta["galaxy_info"]["min_ansible_version"] == _tested_core()


def test_the_readme_table_says_it():
    assert "| ansible-core | %s+ " % _tested_core() in _read("README.md")


def test_sanity_gets_the_modules_python_floor():
    config = yaml.safe_load(_read("tests", "config.yml"))
    floor = re.fullmatch(r">=(\d+\.\d+)", config["modules"]["python_requires"]).group(1)
    # the modules' library needs it: python-keycloak's own floor (its metadata: ">=3.10,<4")
    needed = re.search(r">=\s*(\d+\.\d+)", metadata.metadata("python-keycloak")["Requires-Python"]).group(1)
    assert tuple(map(int, floor.split("."))) == tuple(map(int, needed.split(".")))


def test_sanity_is_not_pinned_to_one_python():
    """`make sanity` lets ansible-test pick every Python of tests/config.yml's range (no --python)."""
    makefile = _read("Makefile")
    recipe = makefile[makefile.index("\nsanity:") :].split("\n\n")[0]
    assert "run_ansible_test.py sanity --venv" in recipe and "--python" not in recipe

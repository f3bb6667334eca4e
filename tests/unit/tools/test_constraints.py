# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""requirements/constraints.txt pins every package the suite installs (transitive ones too), agrees with
the direct pins of requirements/*.txt, and is what the Makefile installs with; `make lock` refreshes it."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LOCK = os.path.join(ROOT, "requirements", "constraints.txt")
COMPAT_LOCK = os.path.join(ROOT, "requirements", "constraints-compat.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _name(text):
    return re.sub(r"[-_.]+", "-", text).lower()


def _lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def _pins(path):
    return {_name(m.group(1)): m.group(2) for m in map(PIN.match, _lines(path)) if m}


@pytest.mark.parametrize("lock", [LOCK, COMPAT_LOCK])
def test_every_line_of_the_lock_is_an_exact_pin(lock):
    assert [line for line in _lines(lock) if not PIN.match(line)] == []


@pytest.mark.parametrize("direct, lock", [("run.txt", LOCK), ("test.txt", LOCK), ("compat.txt", COMPAT_LOCK)])
def test_the_lock_holds_the_direct_pins(direct, lock):
    lock = _pins(lock)
    wanted = _pins(os.path.join(ROOT, "requirements", direct))
    assert {name: (version, lock.get(name)) for name, version in wanted.items() if lock.get(name) != version} == {}


@pytest.mark.parametrize("lock", [LOCK, COMPAT_LOCK])
@pytest.mark.parametrize("package", ["httpx", "jwcrypto", "cryptography", "requests", "jinja2", "jsonschema"])
def test_the_transitive_packages_are_pinned(lock, package):
    assert package in _pins(lock)


def test_the_makefile_installs_with_the_lock_and_refreshes_it():
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as handle:
        makefile = handle.read()
    # the venv's installs (the lock target itself installs without it: that is how it refreshes it)
    installs = [line for line in makefile.splitlines() if "PY) -m pip install" in line and "-r requirements/" in line]
    assert len(installs) == 3 and all(re.search(r"-c \$\((COMPAT_)?LOCK\)$", line) for line in installs)
    assert "LOCK        := requirements/constraints.txt" in makefile
    assert "COMPAT_LOCK   := requirements/constraints-compat.txt" in makefile
    lock = makefile[makefile.index("\nlock:") :].split("\n\n")[0]
    assert "requirements/test.txt $(LOCK)" in lock and "requirements/compat.txt $(COMPAT_LOCK)" in lock

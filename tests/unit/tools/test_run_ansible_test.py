# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/run_ansible_test.py puts every installed pyenv Python on PATH by name (python3.N), so that sanity
tests each Python of tests/config.yml's range it finds instead of stopping at a shim of an unselected one."""

import os

import run_ansible_test


def _install(root, version):
    binary = root / "versions" / version / "bin" / ("python%s" % ".".join(version.split(".")[:2]))
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return binary


def test_each_pyenv_python_is_linked_by_its_versioned_name(tmp_path, monkeypatch):
    root = tmp_path / "pyenv"
    pythons = [_install(root, version) for version in ("3.10.13", "3.11.7", "3.13.0")]
    (root / "versions" / "2.7.18" / "bin").mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(root))
    directory = run_ansible_test.interpreters(str(tmp_path / "base"))
    links = sorted(os.listdir(directory))
    assert links == ["python3.10", "python3.11", "python3.13"]
    assert [os.readlink(os.path.join(directory, name)) for name in links] == [str(each) for each in pythons]


def test_without_pyenv_nothing_is_added(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    assert run_ansible_test.interpreters(str(tmp_path / "base")) is None

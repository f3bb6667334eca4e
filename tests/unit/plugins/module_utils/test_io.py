# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the collection's file reading and safe writing (plugins/module_utils/_io.py)."""

import errno
import os
import subprocess
import sys

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError


def _file(tmp_path, text="a: 1\n"):
    path = tmp_path / "routes.yaml"
    path.write_text(text)
    return str(path)


def _dead_pid():
    """The pid of a process that has ended."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(proc.stdout)


def test_read_names_the_path_and_the_problem(tmp_path):
    with pytest.raises(ModuleError, match=r"route file .*missing\.yaml does not exist"):
        _io.read_text(str(tmp_path / "missing.yaml"), "route file")
    with pytest.raises(ModuleError, match="is a directory"):
        _io.read_text(str(tmp_path), "route file")
    (tmp_path / "latin1.yaml").write_bytes(b"a: \xe9\n")
    with pytest.raises(ModuleError, match=r"latin1.yaml is not UTF-8 text \(byte 3\)"):
        _io.read_text(str(tmp_path / "latin1.yaml"))


def test_write_replaces_the_file_and_leaves_only_it_and_the_backup(tmp_path):
    path = _file(tmp_path)
    _text, stamp = _io.read_text(path)
    backup = _io.write_file(path, b"a: 2\n", stamp, os.replace, backup=True)
    assert open(path, "rb").read() == b"a: 2\n" and open(backup, "rb").read() == b"a: 1\n"
    assert sorted(os.listdir(tmp_path)) == sorted(["routes.yaml", os.path.basename(backup)])


def test_a_file_changed_since_it_was_read_is_not_written(tmp_path):
    path = _file(tmp_path)
    _text, stamp = _io.read_text(path)
    with open(path, "a") as handle:
        handle.write("b: 3\n")
    with pytest.raises(_io.FileChanged, match=r"routes\.yaml changed on disk"):
        _io.write_file(path, b"a: 2\n", stamp, os.replace, backup=True)
    assert open(path).read() == "a: 1\nb: 3\n" and os.listdir(tmp_path) == ["routes.yaml"]


def test_a_failed_rename_leaves_no_backup_and_no_temporary(tmp_path):
    path = _file(tmp_path)
    _text, stamp = _io.read_text(path)

    def failing(src, dest):
        raise OSError(28, "No space left on device")

    with pytest.raises(ModuleError, match=r"cannot write .*routes\.yaml: No space left on device"):
        _io.write_file(path, b"a: 2\n", stamp, failing, backup=True)
    assert open(path).read() == "a: 1\n" and os.listdir(tmp_path) == ["routes.yaml"]


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    path = _file(tmp_path)
    dead = tmp_path / (".routes.yaml.%d.x1.cx-api-auth.tmp" % _dead_pid())
    live = tmp_path / (".routes.yaml.%d.x2.cx-api-auth.tmp" % os.getpid())
    other = tmp_path / ".other.yaml.1.x3.cx-api-auth.tmp"
    for each in (dead, live, other):
        each.write_text("client_secret: leftover\n")
    assert _io.remove_stale_temporaries(path) == [str(dead)]
    assert sorted(os.listdir(tmp_path)) == sorted(["routes.yaml", live.name, other.name])


def _raise_oserror(code):
    def failing(src, dest):
        raise OSError(code, os.strerror(code))

    return failing


def _raise_like_atomic_move(code):
    """ansible-core's atomic_move raises a bare Exception from the OSError of the rename."""

    def failing(src, dest):
        try:
            raise OSError(code, os.strerror(code))
        except OSError as exc:
            raise Exception("Could not replace %r with %r." % (dest, src)) from exc

    return failing


@pytest.mark.parametrize("wrap", [_raise_oserror, _raise_like_atomic_move])
@pytest.mark.parametrize(("code", "name"), [(errno.EBUSY, "EBUSY"), (errno.EXDEV, "EXDEV")], ids=["EBUSY", "EXDEV"])
def test_a_rename_refused_on_a_mount_point_names_the_errno_and_how_to_edit(tmp_path, monkeypatch, wrap, code, name):
    path = _file(tmp_path)
    _text, stamp = _io.read_text(path)
    monkeypatch.setattr(_io, "is_mount_point", lambda real: real == os.path.realpath(path))
    with pytest.raises(ModuleError) as info:
        _io.write_file(path, b"a: 2\n", stamp, wrap(code), backup=True)
    message = str(info.value)
    assert message.startswith("cannot write %s: %s (%s)" % (path, os.strerror(code), name)), message
    assert "the file %s is a mount point" % os.path.realpath(path) in message
    assert "edit the source of the mount" in message and "the file is as it was" in message
    assert open(path).read() == "a: 1\n" and os.listdir(tmp_path) == ["routes.yaml"]


def test_exdev_without_a_mount_point_says_other_filesystem(tmp_path):
    path = _file(tmp_path)
    _text, stamp = _io.read_text(path)
    with pytest.raises(ModuleError, match=r"\(EXDEV\); the temporary file in .* are on different filesystems"):
        _io.write_file(path, b"a: 2\n", stamp, _raise_oserror(errno.EXDEV))
    assert open(path).read() == "a: 1\n" and os.listdir(tmp_path) == ["routes.yaml"]


def test_is_mount_point_reads_the_mount_table(tmp_path, monkeypatch):
    path = _file(tmp_path)
    assert not _io.is_mount_point(os.path.realpath(path))
    monkeypatch.setattr(_io, "_mount_points", lambda: {os.path.realpath(path)})
    assert _io.is_mount_point(os.path.realpath(path))

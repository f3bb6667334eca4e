# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one place for reading and safely writing files (private to the collection).

A file is read together with its signature (modification time, size, inode). It is
written by a temporary file beside it that is synced and renamed over it (the
directory is synced after), unless its signature changed since it was read, so a
concurrent writer is never overwritten. A backup is written the same way and only
for a write that then happens. Temporary files carry the writer's process id in
their name; those whose process is gone (a run that was killed) are removed by the
next real run on the same file (``remove_stale_temporaries``), which reports them.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

_TMP_SUFFIX = ".cx-api-auth.tmp"


class FileChanged(ModuleError):
    """The file changed on disk since it was read: nothing was written."""


def signature(path):
    """What tells that the file changed: mtime (ns), size and inode (after symlinks)."""
    info = os.stat(path)
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def read_text(path, what="file"):
    """``(text, signature)`` of UTF-8 file ``path``; ModuleError naming the path otherwise."""
    if not os.path.exists(path):
        raise ModuleError("%s %s does not exist" % (what, path))
    if os.path.isdir(path):
        raise ModuleError("%s %s is a directory, not a file" % (what, path))
    try:
        stamp = signature(path)
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ModuleError("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from None
    try:
        return raw.decode("utf-8"), stamp
    except UnicodeDecodeError as exc:
        raise ModuleError("%s %s is not UTF-8 text (byte %d)" % (what, path, exc.start)) from None


def _check_unchanged(path, stamp):
    try:
        now = signature(path)
    except OSError as exc:
        now = str(exc)
    if now != stamp:
        raise FileChanged(
            "%s changed on disk while the module was editing it (another writer?); nothing was "
            "written, run again" % path
        )


def _temporary(directory, base):
    """A new temporary file (mode 0600) beside the target: ``(fd, path)``."""
    return tempfile.mkstemp(dir=directory, prefix=".%s.%d." % (base, os.getpid()), suffix=_TMP_SUFFIX)


def _sync_directory(directory):
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename is done
    finally:
        os.close(dir_fd)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path):
    """Remove temporary files that an earlier, killed writer of ``path`` left; return their names."""
    real = os.path.realpath(path)
    directory, base = os.path.split(real)
    pattern = re.compile(r"^\.%s\.(\d+)\..*%s$" % (re.escape(base), re.escape(_TMP_SUFFIX)))
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in sorted(names):
        match = pattern.match(name)
        if not match or _alive(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            continue
        removed.append(os.path.join(directory, name))
    return removed


def _backup(real):
    """Copy ``real`` to ``<file>.<pid>.<time>~`` through a synced temporary file and a rename."""
    directory, base = os.path.split(real)
    target = "%s.%d.%s~" % (real, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S"))
    handle, tmp = _temporary(directory, base)
    os.close(handle)
    try:
        shutil.copy2(real, tmp)
        with open(tmp, "rb+") as out:
            os.fsync(out.fileno())
        os.rename(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def backup(path):
    """A backup copy of the file ``path`` beside it (``<file>.<pid>.<time>~``, written by a synced temporary file
    and a rename); its path."""
    return _backup(os.path.realpath(path))


def _os_error(exc):
    """The OSError behind ``exc`` (itself, or what it was raised from: ``atomic_move`` wraps it), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _mount_points():
    """The mount points of this process's mount namespace (Linux), or an empty set."""
    points = set()
    try:
        with open("/proc/self/mountinfo", "rb") as handle:
            for line in handle:
                fields = line.split(b" ")
                if len(fields) > 4:
                    points.add(fields[4].decode("utf-8", "replace").replace("\\040", " "))
    except OSError:
        pass
    return points


def is_mount_point(real):
    """Whether the file ``real`` is a mount point of its own (a bind-mounted file, a ConfigMap subPath)."""
    try:
        if os.stat(real).st_dev != os.stat(os.path.dirname(real)).st_dev:
            return True
    except OSError:
        pass
    return real in _mount_points()


_MOUNT_HINT = (
    "it cannot be replaced by a rename (as a bind-mounted file, a docker -v file mount or a Kubernetes "
    "ConfigMap/Secret subPath): edit the source of the mount (the file on the host, the ConfigMap) instead, "
    "or mount its directory rather than the file"
)


def _write_error(path, real, exc):
    """The message of a failed write of ``path``: the errno's name and text, and a hint for the usual causes."""
    cause = _os_error(exc)
    if cause is None:
        return "cannot write %s: %s: %s; the file is as it was" % (path, type(exc).__name__, exc)
    code = cause.errno
    name = errno.errorcode.get(code, "errno %s" % code) if code is not None else "OSError"
    text = "cannot write %s: %s (%s)" % (path, cause.strerror or os.strerror(code or 0) or cause, name)
    if code in (errno.EBUSY, errno.EXDEV):
        mounted = is_mount_point(real)
        if code == errno.EBUSY or mounted:
            where = "the file %s is a mount point" % real if mounted else "the file %s is busy (a mount point?)" % real
        else:
            where = "the temporary file in %s and the file are on different filesystems" % os.path.dirname(real)
        text += "; %s: %s" % (where, _MOUNT_HINT)
    elif code == errno.EROFS:
        text += "; the file system is read-only (a ConfigMap volume is): edit the source of the mount instead"
    elif code in (errno.EACCES, errno.EPERM):
        text += "; check the permissions of the file and of its directory %s (become: true?)" % os.path.dirname(real)
    return text + "; the file is as it was"


def write_file(path, data, stamp, replace, backup=False):
    """Replace the file ``path`` (read with signature ``stamp``) by ``data`` (bytes).

    ``replace(src, dest)`` renames the temporary file over the file: a module passes
    ``module.atomic_move``, which keeps mode, owner and SELinux context (and fails the
    module itself when it cannot). A symlink stays a symlink (its target is written). Returns the backup's path or
    None. Raises
    :class:`FileChanged` if the file changed since it was read, ModuleError if it
    cannot be written; in both cases the file is as it was and no backup is left.
    """
    real = os.path.realpath(path)
    directory, base = os.path.split(real)
    backup_file = None
    tmp = None
    written = False
    try:
        tmp = _synced_temporary(directory, base, data)
        _check_unchanged(path, stamp)
        if backup:
            backup_file = _backup(real)
        replace(tmp, real)
        written = True
    except ModuleError:
        raise
    except Exception as exc:  # pylint: disable=broad-except  # atomic_move raises Exception from the OSError
        raise ModuleError(_write_error(path, real, exc)) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if backup_file is not None and not written:
            os.unlink(backup_file)
    _sync_directory(directory)
    return backup_file


def _synced_temporary(directory, base, data):
    """A new temporary file beside ``base`` in ``directory`` holding ``data``, flushed and fsynced; its path.
    Removed again if the write fails."""
    handle, tmp = _temporary(directory, base)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def stage_file(path, data, mode=0o644):
    """Write ``data`` (bytes) to a new synced temporary file beside ``path`` and return its path.

    Nothing is replaced: the caller renames it over ``path`` (after staging the other files of a set), or
    removes it. ModuleError naming ``path`` if it cannot be written (then no temporary file is left).
    """
    real = os.path.realpath(path)
    directory, base = os.path.split(real)
    tmp = None
    try:
        tmp = _synced_temporary(directory, base, data)
        os.chmod(tmp, mode)
    except Exception as exc:  # pylint: disable=broad-except
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise ModuleError(_write_error(path, real, exc)) from None
    return tmp


def sync_directory(directory):
    """Sync ``directory`` (after renames in it), where the file system can."""
    _sync_directory(directory)

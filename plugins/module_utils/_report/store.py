# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report directory: its four files are replaced as one set, the previous set kept as ``<file>.prev``.

1. Every new file is written to a synced temporary file in the directory (``_io.stage_file``). If one of them
   cannot be written, the temporaries are removed and nothing else is touched: the previous report (and its
   ``.prev``) is as it was.
2. Only then, per file: the current file is hard-linked (copied where the file system has no links) to a
   temporary that is renamed over ``<file>.prev``, and the new file is renamed over the current one. A file of
   the report therefore always exists; this step is made of renames only.
3. The directory is synced.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

PREV_SUFFIX = ".prev"


def prepare_directory(directory: str) -> None:
    """Create ``directory`` if needed; ModuleError if it is not a directory or cannot be created."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ModuleError("report directory %s exists and is not a directory" % directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ModuleError("cannot create the report directory %s: %s" % (directory, exc.strerror or exc)) from None


def _keep_previous(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    prev = path + PREV_SUFFIX
    tmp = _io.stage_file(prev, b"")
    try:
        os.unlink(tmp)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copy2(path, tmp)
        os.replace(tmp, prev)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return prev


def replace_set(
    directory: str,
    files: Mapping[str, bytes],
    keep_previous: bool = True,
    stage: Callable[[str, bytes], str] | None = None,
) -> dict[str, str]:
    """Replace the files ``files`` (``{name: bytes}``) in ``directory`` as one set; return their paths.

    ``stage`` (for tests) writes one temporary file: ``_io.stage_file`` by default.
    """
    stage = stage or _io.stage_file
    paths = {name: os.path.join(directory, name) for name in files}
    for path in paths.values():
        _io.remove_stale_temporaries(path)
        _io.remove_stale_temporaries(path + PREV_SUFFIX)
    staged: dict[str, str] = {}
    try:
        for name, data in files.items():
            staged[name] = stage(paths[name], data)
    except Exception as exc:
        for tmp in staged.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
        text = exc.msg if isinstance(exc, ModuleError) else "%s: %s" % (type(exc).__name__, exc)
        raise ModuleError("%s; the report in %s is as it was (no file of it written)" % (text, directory)) from None
    try:
        for name in files:
            if keep_previous:
                _keep_previous(paths[name])
            os.replace(staged[name], paths[name])
    except OSError as exc:
        raise ModuleError("cannot replace the report in %s: %s" % (directory, exc.strerror or exc)) from None
    finally:
        for tmp in staged.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    _io.sync_directory(directory)
    return paths

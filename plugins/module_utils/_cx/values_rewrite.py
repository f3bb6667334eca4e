# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep the CX values files in step: rewrite the places that differ (private to the collection; the runner
of ``cx_values_credentials``).

The places are the ones :mod:`values_check` finds. A place of role ``cim_secret``, ``customer_username`` or
``customer_password`` whose value differs from the one given is rewritten; a place of unknown role only when
its key path is opted in (``rewrite_unknown``; it then gets the cim secret); a Helm template never.

The edit is surgical: only the characters of the value change (:mod:`scalar_edit`), and the new text is
parsed again and must hold the same data but the values rewritten. Writing is done as a set: every file is
checked (writable, not read-only) and staged to a synced temporary file beside it first, only then each is
renamed over its file. A failure says which files were rewritten and which generation each place now holds
(``new``: the value given, ``previous``: ``previous_cim_secret``, ``other``), never a value; a rerun
rewrites what is left.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import Edits
from ansible_collections.cx.api_auth.plugins.module_utils._cx import places as table
from ansible_collections.cx.api_auth.plugins.module_utils._cx import scalar_edit, values_check
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets

NEW, PREVIOUS, OTHER = "new", "previous", "other"
REWRITTEN, KEPT, LEFT = "rewritten", "kept", "left"
ROLES = (table.CIM_SECRET, table.CUSTOMER_USERNAME, table.CUSTOMER_PASSWORD)

Replace = Callable[[str, str], Any]


class _File:
    """One values file: its text, its places and the edits planned for it."""

    def __init__(self, path: str) -> None:
        self.path = path
        text, self.stamp = _io.read_text(path, "values file")
        self.bom = ""
        if text.startswith("\ufeff"):
            self.bom, text = "\ufeff", text[1:]
        self.text = text
        self.root = values_check.parse(path, text)
        self.found: list[values_check.Found] = []
        self.edits: list[tuple[values_check.Found, scalar_edit.Edit]] = []
        self.new_text = text
        self.new_root: Any = None
        self.written = False

    @property
    def changes(self) -> bool:
        return self.new_text != self.text


def _patterns(paths: list[str]) -> list[tuple[str, Any]]:
    """``rewrite_unknown``: exact key paths (as the places report them) or patterns of the table's syntax."""
    out = []
    for path in paths:
        if not isinstance(path, str) or not path.strip():
            raise ModuleError("rewrite_unknown holds an empty key path")
        out.append((path, table._compile(path)))  # pylint: disable=protected-access
    return out


def _opted_in(path: str, patterns: list[tuple[str, Any]], used: set) -> bool:
    for given, (regex, json_key) in patterns:
        base, key = path, None
        if path.endswith("}") and "{" in path:
            base, key = path[: path.rindex("{")], path[path.rindex("{") + 1 : -1]
        if given == path or (regex.match(base) and json_key == key):
            used.add(given)
            return True
    return False


def _generation(value: str | None, target: str | None, previous: str | None, role: str) -> str | None:
    if value is None or values_check.TEMPLATE.search(value):
        return None
    if target is not None and value == target:
        return NEW
    if role in (table.CIM_SECRET, table.UNKNOWN) and previous is not None and value == previous:
        return PREVIOUS
    return OTHER


def _plan(
    item: values_check.Found, expected: dict[str, Any], patterns: list[tuple[str, Any]], used: set
) -> tuple[str | None, str]:
    """``(target value or None, why not)`` of one place."""
    entry = item.entry
    if item.value is None:
        return None, "not found"
    if values_check.TEMPLATE.search(item.value) or values_check.TEMPLATE.search(item.node.value):
        return None, "a Helm template, never rewritten"
    role = entry["role"]
    if role == table.UNKNOWN:
        if not _opted_in(entry["path"], patterns, used):
            return None, "role unknown: reported, not rewritten (rewrite_unknown opts in)"
        target = expected[table.CIM_SECRET]
        if target is None:
            return None, "opted in, but no cim_secret given"
        return target, ""
    target = expected[role]
    if target is None:
        return None, "no %s given" % role
    return target, ""


def _masked_lines(text: str, root: Any, numbers: list[int]) -> str:
    """Lines ``numbers`` (0-based) of ``text`` with every value on them masked (the keys kept)."""
    lines = text.splitlines(True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    out = []
    for number in numbers:
        begin, end = starts[number], starts[number] + len(lines[number].rstrip("\r\n"))
        pieces, at = [], begin
        for start, stop in scalar_edit.value_spans(root, number, number):
            start, stop = max(start, begin), min(stop, end)
            if start < at or start >= stop:
                continue
            pieces.append(text[at:start])
            pieces.append(masking.mask_source(text[start:stop]))
            at = stop
        pieces.append(text[at : starts[number + 1]])
        out.append("".join(pieces))
    return "".join(out)


def _diff(file: _File, secrets: Secrets) -> dict[str, str]:
    """Before and after of the lines a file's edits touch, with every value on them masked (edited or not: a
    line may hold others), and a line per place rewritten saying so."""
    touched: set[int] = set()
    for item, _edit in file.edits:
        touched.update(range(item.node.start_mark.line, item.node.end_mark.line + 1))
    numbers = sorted(number for number in touched if number < len(file.text.splitlines(True)))
    notes = "".join(
        "# %s (line %d) changed (values not shown)\n" % (item.entry["path"], item.entry["line"])
        for item, _edit in sorted(file.edits, key=lambda pair: pair[1].start)
    )
    values = secrets.values
    return dict(
        before_header=file.path,
        after_header=file.path,
        before=masking.mask_text(_masked_lines(file.text, file.root, numbers), values),
        after=masking.mask_text(_masked_lines(file.new_text, file.new_root, numbers) + notes, values),
    )


def _where(files: list[_File], entries: list[dict[str, Any]]) -> str:
    """Which files are rewritten and which generation each place now holds (never a value)."""
    parts = []
    for file in files:
        mine = [e for e in entries if e["file"] == file.path and e["generation"]]
        held = ", ".join("%s (line %s) %s" % (e["path"], e["line"], e["generation"]) for e in mine)
        state = "rewritten" if file.written else "as it was"
        parts.append("%s %s%s" % (file.path, state, ": " + held if held else ""))
    return "; ".join(parts)


def _writable(path: str) -> str | None:
    """Why ``path`` may not be replaced, or None. A file without any write permission bit is read-only on
    purpose (chmod a-w), also for root."""
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        return "cannot stat it: %s" % (exc.strerror or exc)
    if not mode & 0o222:
        return "it is read-only (mode %04o): make it writable to have it rewritten" % (mode & 0o7777)
    if not os.access(real, os.W_OK):
        return "it is not writable by this user (become: true?)"
    if not os.access(os.path.dirname(real), os.W_OK | os.X_OK):
        return "its directory %s is not writable (the file is replaced by a rename)" % os.path.dirname(real)
    return None


def _os_text(exc: BaseException) -> str:
    """The text of the OSError behind ``exc`` (``atomic_move`` raises Exception from it), else of ``exc``."""
    seen: BaseException | None = exc
    for _depth in range(20):  # a chain of causes, never a loop
        if seen is None or isinstance(seen, OSError):
            break
        seen = seen.__cause__ or seen.__context__
    if isinstance(seen, OSError) and seen.strerror:
        return seen.strerror
    return str(exc) or type(exc).__name__


def _scrub(entries: list[dict[str, Any]], secrets: Secrets) -> None:
    for entry in entries:
        for key in ("path", "note"):
            if entry.get(key):
                entry[key] = secrets.scrub(entry[key])


def _fail(message: str, files: list[_File], entries: list[dict[str, Any]], secrets: Secrets) -> ModuleError:
    _scrub(entries, secrets)
    text = "%s. Files and generations now: %s. Nothing else was written; run again to rewrite what is left" % (
        message,
        _where(files, entries),
    )
    return ModuleError(
        secrets.scrub(text),
        changed=any(file.written for file in files),
        places=entries,
        files_changed=[file.path for file in files if file.written],
    )


def _write(
    changing: list[_File],
    entries: list[dict[str, Any]],
    secrets: Secrets,
    replace: Replace,
    backup: bool,
    warn: Callable[[str], Any],
) -> dict[str, str]:
    """Stage every file, then rename each over its file; the backups written."""
    for file in changing:
        for name in _io.remove_stale_temporaries(file.path):
            warn("removed %s, a temporary file left beside %s by an interrupted run" % (name, file.path))
    staged: dict[str, str] = {}
    backups: dict[str, str] = {}
    try:
        for file in changing:
            why = _writable(file.path)
            if why:
                raise ModuleError("cannot rewrite the values file %s: %s" % (file.path, why))
        for file in changing:
            mode = os.stat(os.path.realpath(file.path)).st_mode & 0o7777
            staged[file.path] = _io.stage_file(file.path, (file.bom + file.new_text).encode("utf-8"), mode)
        for file in changing:
            if _io.signature(file.path) != file.stamp:
                raise ModuleError("%s changed on disk while the module was editing it (another writer?)" % file.path)
            if backup:
                backups[file.path] = _io.backup(file.path)
            try:
                replace(staged[file.path], os.path.realpath(file.path))
                del staged[file.path]
            except Exception as exc:  # pylint: disable=broad-except  # atomic_move raises Exception
                text = _os_text(exc)
                raise ModuleError("cannot write the values file %s: %s" % (file.path, text)) from None
            file.written = True
            _io.sync_directory(os.path.dirname(os.path.realpath(file.path)))
            for entry in entries:
                if entry["file"] == file.path and entry.pop("_pending", None):
                    entry["generation"] = entry.pop("_after_generation")
    except ModuleError as exc:
        for entry in entries:
            if entry.pop("_pending", None):
                entry.pop("_after_generation", None)
                entry["after"] = entry["before"]
        raise _fail(exc.msg, changing, entries, secrets) from None
    finally:
        for tmp in staged.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    return backups


def run(
    params: dict[str, Any],
    check_mode: bool,
    diff: bool,
    warn: Callable[[str], Any],
    hide: Callable[[str], Any] | None = None,
    replace: Replace | None = None,
) -> dict[str, Any]:
    """Rewrite the differing places of ``params['files']``; the result never holds a value read or given."""
    replace = replace or os.replace
    secrets = Secrets(hide=hide)
    expected: dict[str, Any] = {
        table.CUSTOMER_USERNAME: params.get("customer_username"),
        table.CUSTOMER_PASSWORD: params.get("customer_password"),
        table.CIM_SECRET: params.get("cim_secret"),
        "previous": params.get("previous_cim_secret"),
    }
    for name in (table.CUSTOMER_PASSWORD, table.CIM_SECRET, "previous"):
        secrets.add(expected[name])
    if not any(expected[role] is not None for role in ROLES):
        raise ModuleError("give at least one of customer_username, customer_password and cim_secret to write")
    paths = params.get("files") or []
    if not paths:
        raise ModuleError("files is empty: give the CX values files to keep in step")
    if len(set(os.path.realpath(path) for path in paths)) != len(paths):
        raise ModuleError("files names a file twice: give each values file once")
    patterns = _patterns(params.get("rewrite_unknown") or [])
    used: set = set()
    files = [_File(path) for path in paths]
    entries: list[dict[str, Any]] = []
    diffs = []
    for file in files:
        file.found = values_check.find(file.path, file.root, expected)
        shared = nodes.shared_nodes(file.root, file.text) if file.root is not None else set()
        text_edits = Edits(file.text)
        for item in file.found:
            entry = dict(item.entry)
            target, why = _plan(item, expected, patterns, used)
            role = entry["role"]
            entry["before"] = entry.pop("status")
            reference = expected[table.CIM_SECRET] if role == table.UNKNOWN else expected[role]
            entry["generation"] = _generation(item.value, reference, expected["previous"], role)
            entry["action"] = LEFT
            entry["after"] = entry["before"]
            if target is not None and item.value == target:
                entry["action"], entry["after"] = KEPT, values_check.SAME
            elif target is not None:
                if id(item.node) in shared:
                    raise ModuleError(
                        "%s: %s (line %d) is an anchor (&) that other keys use through an alias (*): rewriting it "
                        "would change them too; give the place a value of its own and run again, nothing was written"
                        % (file.path, secrets.scrub(entry["path"]), entry["line"])
                    )
                edit = scalar_edit.edit(file.text, item.node, item.json_key, target, file.path, entry["path"])
                file.edits.append((item, edit))
                text_edits.add(edit.start, edit.end, edit.text, entry["path"])
                entry["action"] = REWRITTEN
                entry["after"] = values_check.SAME
                entry["_after_generation"] = NEW
                entry["_pending"] = True
            if why and entry["action"] == LEFT:
                entry["note"] = why if not entry.get("note") else "%s; %s" % (entry["note"], why)
            entries.append(entry)
        if file.edits:
            file.new_text = text_edits.apply()
            file.new_root = scalar_edit.verify(file.path, file.text, file.root, file.new_text, file.edits)
            if diff:
                diffs.append(_diff(file, secrets))
    for given, _compiled in patterns:
        if given not in used:
            warn("rewrite_unknown: %s names no place of unknown role in the files given" % given)
    changing = [file for file in files if file.changes]
    backups: dict[str, str] = {}
    if changing and not check_mode:
        backups = _write(changing, entries, secrets, replace or os.replace, params.get("backup", False), warn)
    elif check_mode:
        for entry in entries:
            if entry.pop("_pending", None):
                entry["generation"] = entry.pop("_after_generation")
    rewritten = sum(1 for entry in entries if entry["action"] == REWRITTEN)
    unknown_left = sum(1 for entry in entries if entry["role"] == table.UNKNOWN and entry["action"] == LEFT)
    published = expected[table.CIM_SECRET] == table.PUBLISHED_CIM_SECRET
    if published:
        warn(
            "the cim client's secret is the default the CX charts and docs publish: rotate it "
            "(cx.api_auth.keycloak_client_secret, then this module with the new secret)"
        )
    msg = "%d place%s %s in %d file%s, %d of unknown role left" % (
        rewritten,
        "" if rewritten == 1 else "s",
        "would be rewritten" if check_mode else "rewritten",
        len(changing),
        "" if len(changing) == 1 else "s",
        unknown_left,
    )
    _scrub(entries, secrets)
    result: dict[str, Any] = dict(
        changed=bool(changing),
        msg=msg,
        places=entries,
        files_changed=[file.path for file in changing],
        published_default=published,
    )
    if backups:
        result["backup_files"] = backups
    if diff:
        result["diff"] = diffs
    return result

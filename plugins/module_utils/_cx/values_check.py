# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only check of the CX values files against the customer's credentials and the ``cim`` secret
(private to the collection; the runner of ``cx_values_credentials_info``).

Every place the table of :mod:`places` knows is reported with its file, key path and line as ``same``,
``differs`` or ``not found`` (a JSON string without the key, or a role no file carries); places of
unknown role as ``unknown``. Values are compared locally and never returned, printed or used to log in.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes
from ansible_collections.cx.api_auth.plugins.module_utils._cx import places as table
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets

if TYPE_CHECKING:  # names for annotations only (never evaluated at run time: the modules' Python floor)
    from yaml.nodes import Node, ScalarNode

    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn

    Entry = dict[str, Any]

SAME, DIFFERS, NOT_FOUND, UNKNOWN = "same", "differs", "not found", "unknown"
TEMPLATE = re.compile(r"\{\{.*\}\}", re.DOTALL)
PLAIN_KEY = re.compile(r"^[A-Za-z0-9_/-]+$")


def _segment(key: str) -> str:
    return key if PLAIN_KEY.match(key) else json.dumps(key)


def _item_label(item: Node, index: int) -> str:
    if isinstance(item, nodes.MappingNode):
        for name in ("name", "id"):
            found = nodes.mapping_get(item, name)
            if found and isinstance(found[-1][1], nodes.ScalarNode) and found[-1][1].value != "":
                return "[%s=%s]" % (name, found[-1][1].value)
    return "[%d]" % index


def scalars(root: Node) -> Iterator[tuple[str, ScalarNode]]:
    """``(path, node)`` of every scalar value under ``root`` (keys are not values)."""
    stack: list[tuple[str, Node]] = [("", root)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, nodes.MappingNode):
            for key, value in reversed(node.value):
                if isinstance(key, nodes.ScalarNode):
                    name = _segment(key.value)
                    stack.append(("%s.%s" % (path, name) if path else name, value))
        elif isinstance(node, nodes.SequenceNode):
            for index in reversed(range(len(node.value))):
                stack.append((path + _item_label(node.value[index], index), node.value[index]))
        elif isinstance(node, nodes.ScalarNode):
            yield path, node


def _load(path: str) -> Node | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ModuleError("cannot read the values file %s: %s" % (path, exc.strerror or exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModuleError("the values file %s is not UTF-8 (byte %d)" % (path, exc.start)) from None
    return parse(path, text)


def parse(path: str, text: str) -> Node | None:
    """The node tree of the values file ``path`` whose text is ``text`` (None when empty); ModuleError naming the
    file, the line and the column, never the line's text (it may hold a secret)."""
    try:
        return nodes.compose(text)
    except nodes.yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else ""
        raise ModuleError(
            "the values file %s is not valid YAML: %s%s" % (path, getattr(exc, "problem", None) or "error", where)
        ) from None


def _json_value(text: str, key: str) -> tuple[bool, str | None]:
    """``(found, value)`` of ``key`` in the JSON object ``text``."""
    try:
        data = json.loads(text)
    except ValueError:
        return False, None
    if isinstance(data, dict) and key in data and isinstance(data[key], str):
        return True, data[key]
    return False, None


def _entry(source: str, path: str, node: Node | None, place: table.Place | None, status: str, **extra: Any) -> Entry:
    entry = dict(
        file=source,
        path=path,
        line=node.start_mark.line + 1 if node is not None else None,
        role=place.role if place else table.UNKNOWN,
        component=place.component if place else None,
        source=place.source if place else None,
        status=status,
    )
    entry.update(extra)
    return entry


def _compare(expected: str | None, actual: str) -> tuple[str, str | None]:
    if TEMPLATE.search(actual):
        return UNKNOWN, "a Helm template, not compared"
    if expected is None:
        return UNKNOWN, "nothing given to compare with"
    return (SAME if actual == expected else DIFFERS), None


class Found:
    """One place of a parsed values file: its result ``entry`` (no value in it), the scalar ``node`` that holds
    it, the key ``json_key`` inside the node's JSON string (or None) and the ``value`` it holds there (None
    when the JSON key is missing)."""

    __slots__ = ("entry", "json_key", "node", "place", "value")

    def __init__(
        self, entry: Entry, node: ScalarNode, json_key: str | None, value: str | None, place: table.Place | None
    ) -> None:
        self.entry = entry
        self.node = node
        self.json_key = json_key
        self.value = value
        self.place = place


def find(source: str, root: Node | None, expected: Mapping[str, Any]) -> list[Found]:
    """The :class:`Found` places of one parsed values file (``root`` may be None for an empty file).

    ``expected`` maps each role to the value given for it (or None); an optional ``"previous"`` key, the
    previous generation of the cim secret, also makes a value outside the table that holds it a place.
    """
    found: list[Found] = []
    if root is None:
        return found
    secret, previous = expected[table.CIM_SECRET], expected.get("previous")
    for path, node in scalars(root):
        matches = table.lookup(path)
        if not matches:
            note = None
            if secret is not None and node.value == secret:
                note = "holds the cim secret; no row of the table"
            elif previous is not None and node.value == previous:
                note = "holds the previous cim secret; no row of the table"
            elif node.value == table.PUBLISHED_CIM_SECRET:
                note = "holds the published default"
            if note:
                found.append(Found(_entry(source, path, node, None, UNKNOWN, note=note), node, None, node.value, None))
            continue
        place, json_key = matches[0]
        value = node.value
        shown = path
        if json_key is not None:
            shown = "%s{%s}" % (path, json_key)
            ok, value = _json_value(node.value, json_key)
            if not ok:
                entry = _entry(source, shown, node, place, NOT_FOUND, note="no JSON key %s in the string" % json_key)
                found.append(Found(entry, node, json_key, None, place))
                continue
        if place.role == table.UNKNOWN:
            note = None
            if secret is not None and value == secret:
                note = "holds the cim secret"
            elif previous is not None and value == previous:
                note = "holds the previous cim secret"
            elif value == table.PUBLISHED_CIM_SECRET:
                note = "holds the published default"
            found.append(Found(_entry(source, shown, node, place, UNKNOWN, note=note), node, json_key, value, place))
            continue
        status, note = _compare(expected[place.role], value)
        found.append(Found(_entry(source, shown, node, place, status, note=note), node, json_key, value, place))
    return found


def check_file(source: str, root: Node | None, expected: Mapping[str, Any]) -> list[Entry]:
    """The places of one parsed values file (``root`` may be None for an empty file)."""
    return [item.entry for item in find(source, root, expected)]


def run(  # pylint: disable=unused-argument
    params: Params,
    check_mode: bool,
    diff: bool,
    warn: Warn,
    hide: Callable[[str], object] | None = None,
    replace: object = None,
) -> Result:
    """Check every file of ``params['files']``; the result never holds a value read or given (``replace`` is
    not used: nothing is written).

    The values given are masked (``hide``: Ansible's no_log values) in the key paths and notes; the values
    read from the files never enter the result (a file's password may be a common word such as the
    guide's ``customer``, which masking would smear over every key path).
    """
    secrets = Secrets(hide=hide)
    expected = {
        table.CUSTOMER_USERNAME: params.get("customer_username"),
        table.CUSTOMER_PASSWORD: params.get("customer_password"),
        table.CIM_SECRET: params.get("cim_secret"),
    }
    for role in (table.CUSTOMER_PASSWORD, table.CIM_SECRET):
        secrets.add(expected[role])
    files = params.get("files") or []
    if not files:
        raise ModuleError("files is empty: give the CX values files to check")
    entries = []
    for path in files:
        if not os.path.isfile(path):
            raise ModuleError("the values file %s does not exist or is not a file" % path)
        entries.extend(check_file(path, _load(path), expected))
    for role in (table.CUSTOMER_USERNAME, table.CUSTOMER_PASSWORD, table.CIM_SECRET):
        if not any(entry["role"] == role for entry in entries):
            entries.append(
                dict(
                    file=None,
                    path=None,
                    line=None,
                    role=role,
                    component=None,
                    source=None,
                    status=NOT_FOUND,
                    note="no file given carries it",
                )
            )
    published = expected[table.CIM_SECRET] == table.PUBLISHED_CIM_SECRET
    if published:
        warn(
            "the cim client's secret is the default the CX charts and docs publish: rotate it "
            "(every place listed with role cim_secret carries it)"
        )
    counts = {
        status: sum(1 for entry in entries if entry["status"] == status)
        for status in (SAME, DIFFERS, NOT_FOUND, UNKNOWN)
    }
    msg = "%d places in %d values files: %d same, %d differ, %d not found, %d of unknown role" % (
        len([e for e in entries if e["file"]]),
        len(files),
        counts[SAME],
        counts[DIFFERS],
        counts[NOT_FOUND],
        counts[UNKNOWN],
    )
    for entry in entries:
        for key in ("path", "note"):
            if entry.get(key):
                entry[key] = secrets.scrub(entry[key])
    return dict(
        changed=False,
        msg=msg,
        places=entries,
        counts=counts,
        published_default=published,
        in_step=counts[DIFFERS] == 0 and counts[NOT_FOUND] == 0,
    )

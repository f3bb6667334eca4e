# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scalar's value rewritten in place in YAML text, every other byte kept (private to the collection).

:func:`edit` changes the value of one scalar node: a plain, single- or double-quoted one-line value is
written again in its own quoting style (``render_scalar``, the route files' renderer); for a key of JSON held
inside the string (``KEYCLOAK_CREDENTIALS: '{"secret": "..."}'``) only the characters of that key's value
change inside the string, in the string's own quoting and escaping (the quotes, the other keys, the spacing
stay). Every edit is checked by parsing it again; :func:`verify` parses the whole new text and requires the
same data but the values rewritten.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from typing import Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.render import render_scalar
from ansible_collections.cx.api_auth.plugins.module_utils._cx.values_check import scalars
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

Edit = namedtuple("Edit", "start end text value")
"""Replace ``text[start:end]`` of the file by ``text``; the scalar then holds ``value`` (decoded)."""

_WS = " \t\r\n"
_PROPERTIES = re.compile(r"(?:[&!][^ \t\r\n]*[ \t]+)*")
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]  # public, but not in the stubs


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WS:
        index += 1
    return index


def json_span(text: str, key: str) -> tuple[int, int] | None:
    """``(start, end)`` of the characters between the quotes of the string value of ``key`` (its last
    occurrence, as ``json.loads`` keeps it) in the JSON object ``text``; None if there is none."""
    decoder = json.JSONDecoder()
    index = _skip(text, 0)
    if index >= len(text) or text[index] != "{":
        return None
    index = _skip(text, index + 1)
    found = None
    try:
        while index < len(text) and text[index] != "}":
            if text[index] != '"':
                return None
            name, index = _scanstring(text, index + 1)
            index = _skip(text, index)
            if index >= len(text) or text[index] != ":":
                return None
            index = _skip(text, index + 1)
            start = index
            _value, index = decoder.raw_decode(text, index)
            if name == key:
                found = (start + 1, index - 1) if text[start] == '"' else None
            index = _skip(text, index)
            if index < len(text) and text[index] == ",":
                index = _skip(text, index + 1)
    except ValueError:
        return None
    return found


def _source_forms(raw: str, style: str | None) -> str:
    """How the characters ``raw`` of a decoded scalar are written inside the scalar's source."""
    if style == "'":
        return raw.replace("'", "''")
    if style == '"':
        return raw.replace("\\", "\\\\").replace('"', '\\"')
    return raw


def _decoded(snippet: str) -> str | None:
    try:
        node = nodes.compose(snippet)
    except nodes.yaml.YAMLError:
        return None
    return node.value if isinstance(node, nodes.ScalarNode) else None


def edit(text: str, node: Any, json_key: str | None, value: str, source: str, path: str) -> Edit:
    """The :class:`Edit` that makes scalar ``node`` of ``text`` hold ``value`` (or its JSON key ``json_key``
    hold it). ModuleError naming ``source`` and ``path`` when it cannot be done in place."""
    start, end = node.start_mark.index, node.end_mark.index
    properties = _PROPERTIES.match(text, start, end)  # an anchor or a tag before the value stays
    start = properties.end() if properties else start
    original = text[start:end]
    style = node.style or None
    one_line = "\n" not in original and "\r" not in original
    if json_key is None:
        if style in (None, "'", '"') and one_line:
            new = render_scalar(value, style)
            if _decoded(new) == value:
                return Edit(start, end, new, value)
        raise ModuleError(
            "%s: %s (line %d) is a multi-line or block scalar: it is not rewritten in place; write it on one line "
            "(or edit it by hand) and run again" % (source, path, node.start_mark.line + 1)
        )
    span = json_span(node.value, json_key)
    if span is None:
        raise ModuleError("%s: %s (line %d) holds no JSON string to rewrite" % (source, path, node.start_mark.line + 1))
    decoded = node.value
    raw_new = json.dumps(value, ensure_ascii=False)[1:-1]
    want = decoded[: span[0]] + raw_new + decoded[span[1] :]
    # the JSON value with its quotes, as the scalar's source writes it; the occurrence whose change gives the
    # wanted string is the key's value (another key may hold the same value)
    old_form = _source_forms('"%s"' % decoded[span[0] : span[1]], style)
    new_form = _source_forms('"%s"' % raw_new, style)
    at = original.find(old_form)
    while at >= 0:
        candidate = original[:at] + new_form + original[at + len(old_form) :]
        if _decoded(candidate) == want:
            inner = len(_source_forms('"', style))
            return Edit(start + at + inner, start + at + len(old_form) - inner, new_form[inner:-inner], want)
        at = original.find(old_form, at + 1)
    if style in (None, "'", '"') and one_line:
        new = render_scalar(want, style)  # the whole string again, in its own quoting style
        if _decoded(new) == want:
            return Edit(start, end, new, want)
    raise ModuleError(
        "%s: %s (line %d): the JSON inside the string cannot be rewritten in place (a multi-line or block "
        "scalar); write it on one line (or edit it by hand) and run again" % (source, path, node.start_mark.line + 1)
    )


def _values(root: Any) -> list[tuple[str, str, Any]]:
    if root is None:
        return []
    return [(path, node.tag, node) for path, node in scalars(root)]


def verify(source: str, old_text: str, old_root: Any, new_text: str, edits: list[tuple[Any, Edit]]) -> Any:
    """Parse ``new_text`` again: it must hold what ``old_text`` held, but the values ``edits`` rewrote, on the same
    lines; its node tree."""
    try:
        new_root = nodes.compose(new_text)
    except nodes.yaml.YAMLError:
        new_root = None
    old, new = _values(old_root), _values(new_root)
    wanted = {id(item.node): change.value for item, change in edits}
    problem = new_root is None or len(old) != len(new) or len(old_text.splitlines()) != len(new_text.splitlines())
    if not problem:
        for (old_path, old_tag, old_node), (new_path, new_tag, new_node) in zip(old, new):
            edited = id(old_node) in wanted
            want = wanted[id(old_node)] if edited else old_node.value
            if old_path != new_path or (old_tag != new_tag and not edited) or new_node.value != want:
                problem = True
                break
    if problem:
        raise ModuleError(
            "internal error: the rewritten %s would not hold the same data but the values rewritten; nothing "
            "was written" % source
        )
    return new_root


def value_spans(root: Any, first: int, last: int) -> list[tuple[int, int]]:
    """``(start, end)`` of every value scalar under ``root`` that has characters on lines ``first``..``last``
    (0-based), in text order."""
    return sorted(
        (node.start_mark.index, node.end_mark.index)
        for _path, _tag, node in _values(root)
        if node.start_mark.line <= last and node.end_mark.line >= first and node.end_mark.index > node.start_mark.index
    )

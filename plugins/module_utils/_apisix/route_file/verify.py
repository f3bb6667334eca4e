# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The self-check before new text is returned: each edited route is parsed again and compared with
what it must hold (the whole file when it uses anchors/aliases), and the whole new text is parsed
once more to check it holds the same route ids in the same order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import layout, nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.document import Document
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.errors import RouteFileError, internal
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import (
    MappingNode,
    SequenceNode,
    mapping_get,
)

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import Edits


def _problem(exc: BaseException) -> str:
    return getattr(exc, "problem", None) or "YAML error"


def window(doc: Document, edits: Edits, rid: str, route_node: MappingNode) -> tuple[int, int]:
    """First and last line of route ``rid`` including every line its edits touch."""
    first, last = layout.route_window(doc, route_node)
    for item in edits.owned_by(rid):
        last = max(last, doc.lines.line_of(max(item.end - 1, 0)))
    return first, last


def check(doc: Document, edits: Edits, new_text: str, expected: Mapping[str, tuple[MappingNode, Any]]) -> None:
    """Raise unless ``new_text`` holds, for every edited route, the data in ``expected``
    (route id -> (route node, data)) and nothing else changed."""
    if doc.text.rstrip().endswith("#END") and not new_text.rstrip().endswith("#END"):
        raise internal("the edit would move the #END marker of %s" % doc.source)
    if doc.shared():
        _check_file(doc, new_text, expected)
        return
    for rid, (route_node, data) in expected.items():
        _check_route(doc, edits, new_text, rid, route_node, data)
    _check_ids(doc, new_text)


def _check_ids(doc: Document, new_text: str) -> None:
    """The whole new text loads and holds the same route ids in the same order (one compose, C parser)."""
    try:
        node = nodes.compose(new_text)
    except nodes.yaml.YAMLError as exc:
        raise internal("the edited file %s would not load (%s)" % (doc.source, _problem(exc))) from None
    for part in doc.routes_key.split("."):
        hits = mapping_get(node, part) if isinstance(node, MappingNode) else []
        node = hits[0][1] if len(hits) == 1 else None
    items = node.value if isinstance(node, SequenceNode) else None
    if items is None or [nodes.route_id(item) for item in items] != [rid for rid, _node in doc.routes]:
        raise internal("the edit would change the routes of %s (their ids or order)" % doc.source)


def _check_route(
    doc: Document, edits: Edits, new_text: str, rid: str, route_node: MappingNode, expected: object
) -> None:
    first, last = window(doc, edits, rid, route_node)
    start = doc.lines.starts[first]
    end = doc.lines.next_start(last)
    for item in edits.owned_by(rid):
        if not (start <= item.start and item.end <= end):
            raise internal("an edit of route '%s' falls outside it" % rid)
    text = new_text[edits.shift(start) : edits.shift(end)]
    prefix = doc.lines.column(route_node.start_mark.index)
    if text[:prefix].strip(" -"):
        raise internal("route '%s' moved" % rid)
    text = " " * prefix + text[prefix:]
    try:
        data = nodes.load(text)
    except nodes.yaml.YAMLError as exc:
        raise internal("route '%s' would not parse after the edit (%s)" % (rid, _problem(exc))) from None
    if not nodes.same(data, expected):
        raise internal("route '%s' would not hold the expected data after the edit" % rid)


def _check_file(doc: Document, new_text: str, expected: Mapping[str, tuple[MappingNode, Any]]) -> None:
    try:
        new_doc = Document(new_text, doc.source, doc.routes_key)
    except RouteFileError as exc:
        raise internal("the edited file would not load (%s)" % exc) from None
    try:
        old_data = nodes.construct(doc.root)
        new_data = nodes.construct(new_doc.root)
    except nodes.yaml.YAMLError as exc:
        raise RouteFileError(
            "%s: the file uses YAML the safe loader cannot read (%s); file left untouched" % (doc.source, _problem(exc))
        ) from None
    if len(new_doc.routes) != len(doc.routes):
        raise internal("the edit would change the number of routes")
    container = old_data
    for part in doc.routes_key.split("."):
        container = container[part]
    for index, (rid, _node) in enumerate(doc.routes):
        if rid is not None and rid in expected:
            container[index] = expected[rid][1]
    if not nodes.same(old_data, new_data):
        raise internal("the edit would change data outside the edited blocks")

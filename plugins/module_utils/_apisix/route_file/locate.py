# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Finding one route, its ``plugins`` and a plugin block, and what forbids editing them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.errors import RouteFileError
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import (
    MERGE_TAG,
    MappingNode,
    mapping_get,
)

if TYPE_CHECKING:
    from yaml.nodes import Node

    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.document import Document


def quoted(route_ids: Iterable[str | None], limit: int | None = None) -> str:
    """Route ids for a message, each in quotes (so that a stray space shows), cut after ``limit``."""
    ids = list(route_ids)
    shown = ", ".join("'%s'" % rid for rid in ids[:limit])
    if limit is not None and len(ids) > limit:
        shown += " and %d more" % (len(ids) - limit)
    return shown


SHOWN_IDS = 10
CLOSE_CUTOFF = 0.8  # difflib's default 0.6 paired 'orders-main' with 'files-main'


def _extends(longer: str, shorter: str) -> bool:
    return len(longer) > len(shorter) and longer.startswith(shorter) and longer[len(shorter)] in "-_."


def close_ids(rid: str, existing: Sequence[str]) -> list[str]:
    """Ids of ``existing`` that ``rid`` may have meant (at most 2): ``rid`` with its case changed, a
    typo of it (difflib ratio >= 0.8), or ``rid`` with a part more or less (``orders-main`` for
    ``orders-main-secured``). An id that merely shares a word (``files-main`` for ``orders-main``) is not one."""
    folded = [other for other in existing if other.lower() == rid.lower()]
    typos = difflib.get_close_matches(rid, existing, n=2, cutoff=CLOSE_CUTOFF)
    parts = [other for other in existing if _extends(other, rid) or _extends(rid, other)]
    return list(dict.fromkeys(folded + typos + parts))[:2]


def _lines_of(doc: Document, pairs: Iterable[tuple[Node, Node]]) -> str:
    return ", ".join(str(doc.line(key)) for key, _value in pairs)


def check_targets(doc: Document, route_ids: Sequence[str]) -> None:
    """Fail unless every id names exactly one route."""
    unknown = [rid for rid in route_ids if rid not in doc.by_id]
    if unknown:
        existing = [rid for rid, _node in doc.routes if rid is not None]
        shown = ", ".join(existing[:SHOWN_IDS])
        if len(existing) > SHOWN_IDS:
            shown += " ... and %d more (%d in all)" % (len(existing) - SHOWN_IDS, len(existing))
        close: list[str] = []
        for rid in unknown:
            close.extend(match for match in close_ids(rid, existing) if match not in close)
        hint = (" (did you mean %s?)" % quoted(close)) if close else ""
        raise RouteFileError(
            "%s: unknown route id%s %s under %s%s; route ids in the file: %s"
            % (doc.source, "s" if len(unknown) > 1 else "", quoted(unknown), doc.routes_key, hint, shown or "none")
        )
    duplicated = [rid for rid in route_ids if len(doc.by_id[rid]) > 1]
    if duplicated:
        raise RouteFileError(
            "%s: duplicate route id%s under %s: %s"
            % (
                doc.source,
                "s" if len(duplicated) > 1 else "",
                doc.routes_key,
                "; ".join(
                    "'%s' (lines %s)" % (rid, ", ".join(str(doc.line(node)) for node in doc.by_id[rid]))
                    for rid in duplicated
                ),
            )
        )


def route(doc: Document, rid: str) -> MappingNode:
    """The mapping node of route ``rid`` (which must name exactly one route)."""
    found = doc.by_id.get(rid)
    if not found or len(found) > 1:
        check_targets(doc, [rid])
    # check_targets raised unless it is one route; a route with an id is a mapping (nodes.route_id)
    return cast("list[MappingNode]", found)[0]


def no_merge(doc: Document, rid: str, node: MappingNode, what: str) -> None:
    for key, _value in node.value:
        if key.tag == MERGE_TAG:
            raise RouteFileError(
                "%s: route '%s': the %s mapping uses a YAML merge key << (line %d); edit it by hand"
                % (doc.source, rid, what, doc.line(key))
            )


def plugins(doc: Document, rid: str, route_node: MappingNode) -> tuple[Any, Any]:  # Node pair or (None, None)
    """The (key, value) of the route's ``plugins`` or (None, None)."""
    no_merge(doc, rid, route_node, "route")
    hits = mapping_get(route_node, "plugins")
    if len(hits) > 1:
        raise RouteFileError(
            "%s: route '%s' has %d plugins keys (lines %s)" % (doc.source, rid, len(hits), _lines_of(doc, hits))
        )
    if not hits:
        return None, None
    key, value = hits[0]
    if isinstance(value, MappingNode):
        no_merge(doc, rid, value, "plugins")
    elif not nodes.is_null(value):
        raise RouteFileError(
            "%s: route '%s': plugins is a %s, not a mapping (line %d)"
            % (doc.source, rid, nodes.kind(value), doc.line(value))
        )
    return key, value


def block(doc: Document, rid: str, plugins_node: Node | None, name: str) -> tuple[Any, Any]:  # as plugins()
    """The (key, value) of plugin ``name`` in a plugins mapping, or (None, None)."""
    if not isinstance(plugins_node, MappingNode):
        return None, None
    hits = mapping_get(plugins_node, name)
    if len(hits) > 1:
        raise RouteFileError(
            "%s: route '%s' has %d %s blocks (lines %s)" % (doc.source, rid, len(hits), name, _lines_of(doc, hits))
        )
    return hits[0] if hits else (None, None)


def editable(doc: Document, rid: str, route_node: MappingNode, plugins_node: Node | None) -> None:
    """Fail on layouts that cannot be edited line by line (checked only when an edit is due)."""
    if route_node.flow_style:
        raise RouteFileError(
            "%s: route '%s' is written as a flow mapping {...} (line %d); rewrite it in block style "
            "(one key a line) to edit it" % (doc.source, rid, doc.line(route_node))
        )
    if isinstance(plugins_node, MappingNode) and plugins_node.flow_style and plugins_node.value:
        raise RouteFileError(
            "%s: route '%s' has its plugins written as a flow mapping {...} (line %d); rewrite "
            "them in block style (one plugin a line) to edit them" % (doc.source, rid, doc.line(plugins_node))
        )


def own_lines(doc: Document, rid: str, key: Node, what: str) -> None:
    """Fail if ``key`` shares its line with other content (it could not be edited line by line)."""
    line = doc.lines.line_of(key.start_mark.index)
    if doc.text[doc.lines.starts[line] : key.start_mark.index].strip(" "):
        raise RouteFileError(
            "%s: route '%s': the %s key shares line %d with other content; put it on its own line "
            "to edit it" % (doc.source, rid, what, line + 1)
        )


def not_shared(
    doc: Document, rid: str, what: str, shallow: Iterable[Node | None] = (), deep: Iterable[Node | None] = ()
) -> None:
    """Fail if a node we edit is also reached through an alias elsewhere.

    ``shallow`` nodes get text inserted or removed inside them; ``deep`` nodes are
    replaced or removed with everything under them.
    """
    shared = doc.shared()
    if not shared:
        return
    deep_nodes = [node for node in deep if node is not None]
    for node in [*shallow, *deep_nodes]:
        if node is not None and id(node) in shared:
            raise RouteFileError(
                "%s: route '%s': the %s uses a YAML anchor/alias (line %d); edit it by hand or "
                "write it out without the alias" % (doc.source, rid, what, doc.line(node))
            )
    stack = list(deep_nodes)
    while stack:
        node = stack.pop()
        if id(node) in shared:
            raise RouteFileError(
                "%s: route '%s': the %s holds a YAML anchor or alias (line %d); edit it by hand or "
                "write it out without the alias" % (doc.source, rid, what, doc.line(node))
            )
        stack.extend(nodes.children(node))

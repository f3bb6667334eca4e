# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The parsed route file: its text, line table, node tree and routes (found under ``routes_key``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.errors import (
    RouteFileError,
    template_message,
    yaml_error,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import (
    MappingNode,
    ScalarNode,
    SequenceNode,
    mapping_get,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import BREAK_RE, Lines

DEFAULT_ROUTES_KEYS = ("routes", "apisixStandalone.routes")
# Aliases may not make a route stand for more nodes than this (a route of the field has a few hundred),
# nor the whole file for this many more than it writes out: past that it is an alias bomb ("billion
# laughs"), whose comparison and checks would run for minutes.
MAX_ROUTE_NODES = 20000
MAX_ALIAS_EXPANSION = 200000
TEMPLATE_AT_COL0_RE = re.compile(r"(?m)^\{\{")
TEMPLATE_RE = re.compile(r"(?m)^[ \t]*\{\{")

T = TypeVar("T")

if TYPE_CHECKING:
    from yaml.nodes import Node


class Document:
    """``text`` parsed; ``source`` names it in messages; ``routes_key`` the dotted path of the routes list
    (default: ``routes`` or ``apisixStandalone.routes``)."""

    def __init__(self, text: str, source: str = "file", routes_key: str | None = None) -> None:
        if not nodes.HAS_YAML:
            raise RouteFileError("PyYAML is required")
        self.text = text
        self.source = source
        self.lines = Lines(text)
        match = BREAK_RE.search(text)
        self.newline = match.group(0) if match else "\n"
        self._memo: dict[str, Any] = {}
        template = TEMPLATE_AT_COL0_RE.search(text)
        if template:
            raise RouteFileError(template_message(self, template))
        try:
            root = nodes.compose(text)
        except nodes.yaml.MarkedYAMLError as exc:
            message = yaml_error(source, exc)
            template = TEMPLATE_RE.search(text)
            if template:
                message += "; " + template_message(self, template)
            raise RouteFileError(message) from None
        except nodes.yaml.YAMLError as exc:
            raise RouteFileError("%s is not valid YAML: %s" % (source, exc)) from None
        if not isinstance(root, MappingNode):
            raise RouteFileError(
                "%s does not hold a YAML mapping at the top level (%s)"
                % (source, "empty file" if root is None else "found a %s" % nodes.kind(root))
            )
        self.root = root
        self.routes_key, self.routes_node = self._find_routes(routes_key)
        if "&" in text and "*" in text and self.shared():
            self._check_expansion()
        self.routes: list[tuple[str | None, Node]] = []  # (route_id or None, mapping node) in file order
        self.by_id: dict[str, list[Node]] = {}
        for item in self.routes_node.value:
            rid = nodes.route_id(item)
            self.routes.append((rid, item))
            if rid is not None:
                self.by_id.setdefault(rid, []).append(item)

    def _check_expansion(self) -> None:
        """Refuse aliases that expand past the bounds (or into themselves), naming the file and where."""
        cap = MAX_ALIAS_EXPANSION + MAX_ROUTE_NODES
        try:
            sizes = nodes.expanded_sizes(self.root, cap)
        except nodes.RecursiveAlias as exc:
            raise RouteFileError(
                "%s: a YAML alias holds itself%s (line %d): such a value has no end; write it out"
                % (self.source, self._where(exc.node), self.line(exc.node))
            ) from None
        for item in self.routes_node.value:
            if sizes[id(item)] > MAX_ROUTE_NODES:
                where = ""
                if isinstance(item, MappingNode) and item.value:
                    key, value = max(item.value, key=lambda pair: sizes[id(pair[1])])
                    where = ", under %s (line %d)" % (getattr(key, "value", "?"), self.line(value))
                raise RouteFileError(
                    "%s: route %s (line %d)%s: its YAML aliases expand to more than %d values (an alias bomb?); "
                    "write the values out or use fewer aliases"
                    % (self.source, _route_name(item), self.line(item), where, MAX_ROUTE_NODES)
                )
        distinct = len(sizes)
        if sizes[id(self.root)] - distinct > MAX_ALIAS_EXPANSION:
            key, value = max(self.root.value, key=lambda pair: sizes[id(pair[1])])
            raise RouteFileError(
                "%s: the YAML aliases under %s (line %d) expand to more than %d values (an alias bomb?); "
                "write the values out or use fewer aliases"
                % (self.source, getattr(key, "value", "?"), self.line(value), MAX_ALIAS_EXPANSION)
            )

    def _where(self, node: Node) -> str:
        """`` in route 'x'`` when ``node`` lies inside a route item, else ''."""
        index = node.start_mark.index
        for item in self.routes_node.value:
            if item.start_mark.index <= index < item.end_mark.index:
                return " in route %s" % _route_name(item)
        return ""

    def line(self, node: Node) -> int:
        """The 1-based line number of ``node`` for messages."""
        return self.lines.line_of(node.start_mark.index) + 1

    def memo(self, key: str, compute: Callable[[Document], T]) -> T:
        """``compute(self)`` once per document (facts derived from the whole tree)."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]

    def shared(self) -> set[int]:
        """ids of nodes reachable through an alias too."""
        return self.memo("shared", lambda doc: nodes.shared_nodes(doc.root, doc.text))

    def data(self, node: Node, rid: str | None, what: str) -> Any:
        """``node`` as Python data; a clear error when PyYAML cannot build it."""
        try:
            return nodes.construct(node)
        except nodes.yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = (" at line %d" % (mark.line + 1)) if mark is not None else ""
            raise RouteFileError(
                "%s: route '%s': the %s cannot be read: %s%s"
                % (self.source, rid, what, getattr(exc, "problem", None) or "YAML error", where)
            ) from None

    def _find_routes(self, routes_key: str | None) -> tuple[str, SequenceNode]:
        if routes_key:
            node = self._walk(routes_key, required=True)
            found = routes_key
        else:
            hits = [(key, self._walk(key, required=False)) for key in DEFAULT_ROUTES_KEYS]
            hits = [(key, node) for key, node in hits if node is not None]
            if not hits:
                hint = ""
                template = TEMPLATE_RE.search(self.text)
                if template:
                    hint = "; " + template_message(self, template)
                top = ", ".join(key.value for key, _value in self.root.value if isinstance(key, ScalarNode))
                raise RouteFileError(
                    "%s has no routes under %s (top-level keys: %s); set routes_key%s"
                    % (self.source, " or ".join(DEFAULT_ROUTES_KEYS), top or "none", hint)
                )
            if len(hits) > 1:
                raise RouteFileError(
                    "%s has routes under both %s: set routes_key"
                    % (self.source, " and ".join(key for key, _node in hits))
                )
            found, node = hits[0]
        node = cast("Node", node)  # _walk raised, or hits hold the nodes found
        if nodes.is_null(node):
            raise RouteFileError("%s: %s holds no routes (line %d)" % (self.source, found, self.line(node)))
        if not isinstance(node, SequenceNode):
            raise RouteFileError(
                "%s: %s is a %s, expected a list of routes (line %d)"
                % (self.source, found, nodes.kind(node), self.line(node))
            )
        if node.flow_style:
            raise RouteFileError(
                "%s: %s is written as a flow sequence [...] (line %d); only block lists (- id: ...) "
                "can be edited line by line" % (self.source, found, self.line(node))
            )
        return found, node

    def _walk(self, dotted: str, required: bool) -> Node | None:
        node: Node = self.root
        walked: list[str] = []
        for part in dotted.split("."):
            where = ".".join(walked) or "the top level"
            if not isinstance(node, MappingNode):
                if required:
                    raise RouteFileError(
                        "%s: routes_key %s not found: %s is not a mapping" % (self.source, dotted, where)
                    )
                return None
            hits = mapping_get(node, part)
            if not hits:
                if required:
                    keys = ", ".join(key.value for key, _value in node.value if isinstance(key, ScalarNode))
                    raise RouteFileError(
                        "%s: routes_key %s not found: no key %s under %s (keys there: %s)"
                        % (self.source, dotted, part, where, keys or "none")
                    )
                return None
            if len(hits) > 1:
                raise RouteFileError(
                    "%s: key %s appears %d times under %s (lines %s)"
                    % (self.source, part, len(hits), where, ", ".join(str(self.line(key)) for key, _value in hits))
                )
            walked.append(part)
            node = hits[0][1]
        return node


def _route_name(item: Node) -> str:
    rid = nodes.route_id(item)
    return "'%s'" % rid if rid is not None else "without id"


class Fragment:
    """A few lines of YAML parsed on their own (a commented-out block once uncommented), with what the
    layout and edit helpers ask of a document: ``text``, ``lines``, ``newline``, ``root``, ``memo``."""

    def __init__(self, lines: Sequence[str], newline: str) -> None:
        self.text = newline.join(lines) + newline
        self.source = "fragment"
        self.lines = Lines(self.text)
        self.newline = newline
        self._memo: dict[str, Any] = {}
        self.root = nodes.compose(self.text)

    def memo(self, key: str, compute: Callable[[Fragment], T]) -> T:
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The YAML parser and what the other units ask of its node tree."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

try:
    import yaml
    from yaml.constructor import SafeConstructor
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.resolver import Resolver
except ImportError:  # the module reports missing_required_lib
    yaml = None  # type: ignore[assignment]
    HAS_YAML = False
    HAS_LIBYAML = False
    LOADER: Any = None
    MappingNode = ScalarNode = SequenceNode = Resolver = SafeConstructor = None  # type: ignore[assignment,misc]
else:
    HAS_YAML = True
    try:
        from yaml import CSafeLoader as LOADER

        HAS_LIBYAML = True
    except ImportError:  # depends on how PyYAML was built
        from yaml import SafeLoader as LOADER

        HAS_LIBYAML = False

if TYPE_CHECKING:
    from yaml.nodes import Node

MERGE_TAG = "tag:yaml.org,2002:merge"
NULL_TAG = "tag:yaml.org,2002:null"


def compose(text: str) -> Node | None:
    """The node tree of ``text``. The cyclic GC is paused meanwhile: the parse allocates hundreds of
    thousands of objects and none of them can form garbage cycles yet; on a 2,000-route file this
    halves the parse time (see benchmarks/apisix_route_oidc.py)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return yaml.compose(text, Loader=LOADER)
    finally:
        if enabled:
            gc.enable()


def plain_is_str(text: str) -> bool:
    """Whether ``text`` written as a plain scalar reads back as a string (not a bool, number or null)."""
    return Resolver().resolve(ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


def load(text: str) -> Any:
    return yaml.load(text, Loader=LOADER)


def construct(node: Node) -> Any:
    return SafeConstructor().construct_document(node)


def same(left: object, right: object) -> bool:
    """Deep equality that tells ``true`` from ``1`` and ``1`` from ``1.0``."""
    if isinstance(left, dict) or isinstance(right, dict):
        if not (isinstance(left, dict) and isinstance(right, dict)) or set(left) != set(right):
            return False
        return all(same(left[key], right[key]) for key in left)
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        if not (isinstance(left, (list, tuple)) and isinstance(right, (list, tuple))) or len(left) != len(right):
            return False
        return all(same(a, b) for a, b in zip(left, right))
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, str) or isinstance(right, str):
        return isinstance(left, str) and isinstance(right, str) and left == right
    return type(left) is type(right) and left == right


def mapping_get(node: MappingNode, name: str) -> list[tuple[Node, Node]]:
    """The (key, value) pairs of block/flow mapping ``node`` whose key is the scalar ``name``."""
    return [(key, value) for key, value in node.value if isinstance(key, ScalarNode) and key.value == name]


def route_id(item: Node | None) -> str | None:
    """The id of a route item (its last ``id`` key's scalar text), or None."""
    if isinstance(item, MappingNode):
        ids = mapping_get(item, "id")
        if ids and isinstance(ids[-1][1], ScalarNode) and ids[-1][1].value != "":
            return ids[-1][1].value
    return None


def kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "flow mapping" if node.flow_style else "mapping"
    if isinstance(node, SequenceNode):
        return "flow sequence" if node.flow_style else "sequence"
    return "scalar"


def is_null(node: Node | None) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def children(node: Node) -> list[Node]:
    """The nodes directly under ``node`` (keys and values of a mapping)."""
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def walk(root: Node) -> Iterator[Node]:
    """Every node under ``root`` once (depth first), aliases followed once."""
    stack: list[Node] = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(children(node))


def shared_nodes(root: Node, text: str) -> set[int]:
    """ids of nodes reachable twice (YAML aliases); empty when the text has none."""
    shared: set[int] = set()
    if "&" in text and "*" in text:
        seen: set[int] = set()
        stack: list[Node] = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                shared.add(id(node))
                continue
            seen.add(id(node))
            stack.extend(children(node))
    return shared


class RecursiveAlias(Exception):
    """A node holds itself through an alias (``&a [*a]``); ``node`` is the one reached again."""

    def __init__(self, node: Node) -> None:
        super().__init__("recursive alias")
        self.node = node


def expanded_sizes(root: Node, cap: int) -> dict[int, int]:
    """id -> how many nodes each node under ``root`` stands for with every alias expanded, capped at
    ``cap + 1`` (so that an alias bomb costs one visit of each node, not its expansion). Raises
    RecursiveAlias when a node holds itself."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            total = 1
            for child in children(node):
                total += sizes[id(child)]
                if total > cap:
                    total = cap + 1
                    break
            sizes[nid] = total
            continue
        if nid in sizes:
            continue
        if nid in on_path:
            raise RecursiveAlias(node)
        on_path.add(nid)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in sizes)
    return sizes


def plugin_blocks(
    routes: Iterable[tuple[str | None, Node]], name: str
) -> Iterator[tuple[str | None, MappingNode, Node]]:
    """(route id, route node, block value node) of every active ``name`` block in file order."""
    for rid, route in routes:
        if not isinstance(route, MappingNode):
            continue
        for _key, plugins in mapping_get(route, "plugins"):
            if isinstance(plugins, MappingNode):
                for _pkey, value in mapping_get(plugins, name):
                    yield rid, route, value

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where things are in the text: the lines a key's block spans, indentation steps, block scalars.

Layout rules:

- A key's block is its line through the last line of its value, plus comment lines
  indented deeper than the key that follow it (commented-out options); trailing blank
  lines stay outside.
- A new plugin block goes right under ``plugins:`` (where the guide puts it), indented
  like the sibling plugins; a route without ``plugins:`` gets one after its last key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import (
    MappingNode,
    ScalarNode,
    mapping_get,
)

if TYPE_CHECKING:
    from typing import Union

    from yaml.nodes import Node

    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.document import Document, Fragment

    # (older Pythons' checkers, sanity's pylint among them, read an alias as run-time code: Union, not X | Y)
    Doc = Union[Document, Fragment]  # what the layout rules read: a route file, or a block parsed on its own


def last_index(doc: Doc, node: Node) -> int:
    """Index of the last character of ``node``'s own text."""
    start, end = node.start_mark.index, node.end_mark.index
    if isinstance(node, ScalarNode):
        if node.style in ("|", ">"):
            header = doc.text[start : doc.lines.ends[doc.lines.line_of(start)]].split("#", 1)[0]
            if "+" in header:  # keep chomping: trailing blank lines belong to the value
                return max(start, end - 1)
            index = end - 1
            while index > start and doc.text[index] in " \t\r\n":
                index -= 1
            return index
        return max(start, end - 1)
    if node.flow_style or not node.value:  # type: ignore[attr-defined]  # a mapping or a sequence here
        return max(start, end - 1)
    if isinstance(node, MappingNode):
        key, value = node.value[-1]
        return max(last_index(doc, key), last_index(doc, value))
    return last_index(doc, node.value[-1])


def region(doc: Doc, key: Node, value: Node) -> tuple[int, int]:
    """First and last line of ``key: value`` in a block mapping (see the layout rules)."""
    lines = doc.lines
    first = lines.line_of(key.start_mark.index)
    column = lines.column(key.start_mark.index)
    last = lines.line_of(max(last_index(doc, key), last_index(doc, value)))
    probe = last + 1
    while probe < lines.count:
        if lines.blank(probe):
            probe += 1
            continue
        if lines.is_comment(probe) and lines.indent(probe) > column:
            last = probe
            probe += 1
            continue
        break
    return first, last


def route_window(doc: Doc, route_node: MappingNode) -> tuple[int, int]:
    """First and last line of a route item (its dash line through its last key's block)."""
    first = doc.lines.line_of(route_node.start_mark.index)
    key, value = route_node.value[-1]
    return first, region(doc, key, value)[1]


def _scalar_ends(doc: Doc) -> set[int]:
    ends: set[int] = set()
    if doc.root is None:  # an empty fragment
        return ends
    for node in nodes.walk(doc.root):
        if isinstance(node, ScalarNode) and node.style in ("|", ">"):
            header = doc.text[node.start_mark.index : doc.lines.ends[doc.lines.line_of(node.start_mark.index)]]
            if "-" not in header.split("#", 1)[0]:
                ends.add(doc.lines.line_of(last_index(doc, node)))
    return ends


def block_scalar_ends(doc: Doc) -> set[int]:
    """Lines where a block scalar (``|``/``>``, not strip-chomped) ends: a line break after it is content."""
    return doc.memo("scalar_ends", _scalar_ends)


def config_step_of(doc: Doc, plugins_node: MappingNode) -> int | None:
    """How deep the plugin configs of ``plugins_node`` are indented under their key, or None."""
    for key, value in plugins_node.value:
        if isinstance(value, MappingNode) and not value.flow_style and value.value:
            step = doc.lines.column(value.start_mark.index) - doc.lines.column(key.start_mark.index)
            if step > 0:
                return step
    return None


def _steps(doc: Document) -> tuple[int, int]:
    plugins_step: int | None = None
    config_step: int | None = None
    for _rid, route_node in doc.routes:
        if not isinstance(route_node, MappingNode) or route_node.flow_style:
            continue
        for key, value in mapping_get(route_node, "plugins"):
            if isinstance(value, MappingNode) and not value.flow_style and value.value:
                if plugins_step is None:
                    plugins_step = doc.lines.column(value.start_mark.index) - doc.lines.column(key.start_mark.index)
                if config_step is None:
                    config_step = config_step_of(doc, value)
        if plugins_step is not None and config_step is not None:
            break
    return plugins_step or 2, config_step or 2


def steps(doc: Document) -> tuple[int, int]:
    """(plugins step, config step) as the file does them; 2 when it shows none."""
    return doc.memo("steps", _steps)


def lines_text(doc: Doc, lines: Sequence[str], last_line: int) -> str:
    """``lines`` joined for replacing up to ``last_line`` (keeps its break, or its lack)."""
    text = doc.newline.join(lines)
    return text + doc.newline if doc.lines.has_break(last_line) else text


def removal(doc: Doc, first: int, last: int) -> tuple[int, int, str]:
    """(start, end, "") removing lines ``first``..``last`` (see ``eof_start`` for the end of the file)."""
    return doc.lines.starts[first], doc.lines.next_start(last), ""


def eof_start(doc: Doc, index: int) -> int | None:
    """Lines removed up to the end of a file without final line break: take the break before
    them too (adding a block and removing it again then restores the file), unless that
    break ends a block scalar's value."""
    line = doc.lines.line_of(index)
    if line == 0 or doc.lines.starts[line] != index or line - 1 in block_scalar_ends(doc):
        return None
    return doc.lines.ends[line - 1]

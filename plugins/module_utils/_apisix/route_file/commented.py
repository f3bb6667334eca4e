# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commented-out copies of a plugin block, and of a whole ``plugins:``.

A block "commented out" is the block's lines each turned into a comment, in any of the ways
operators and editors do it:

- ``#`` at column 0 before each line (by hand, and as the CX chart ships its examples):
  ``#         openid-connect:`` / ``#           bearer_only: true``;
- ``# `` at the block's own indentation (an editor's comment toggle):
  ``         # openid-connect:`` / ``         #   bearer_only: true``;
- ``#`` directly before each key, at its own indentation: ``         #openid-connect:`` /
  ``           #bearer_only: true``;

and mixes of them. A commented line is read as its ``#`` (the marker) and its content (the
text after the marker and the blanks after it, at its content column). The lines of a copy
are the commented lines after its header whose content sits deeper than the header's, and
whose marker is in the header's column or at/after the header's content column. Writing the
plugin on a route that has such copies replaces the first copy in place and drops the
others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes

_CONFIG_RE = re.compile(r"""^(?:-[ \t]|(?:"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]|$))""")

if TYPE_CHECKING:
    from typing import Optional

    from yaml.nodes import MappingNode, Node

    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.layout import Doc
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import Lines

    # a comment line: (marker column, content column or None when blank, the text after the marker)
    Parts = tuple[int, Optional[int], str]
    Head = tuple[int, int, str]  # the parts of a header line, which has content


def _head_re(name: str) -> re.Pattern[str]:
    return re.compile(r"^(?P<gap>[ \t]*)([\"']?)%s\2[ \t]*:[ \t]*(?P<flow>\{.*\}[ \t]*)?$" % re.escape(name))


def parts(content: str) -> Parts | None:
    """``(marker column, content column or None, body)`` of a comment line, else None. ``body``
    is the text after the marker; the content column is where its first non-blank is (None if blank)."""
    stripped = content.lstrip(" \t")
    if not stripped.startswith("#"):
        return None
    marker = len(content) - len(stripped)
    body = stripped[1:]
    text = body.lstrip(" \t")
    return marker, (marker + 1 + len(body) - len(text)) if text else None, body


def _belongs(head: Head, line_parts: Parts) -> bool:
    """Whether a commented line (its ``parts``) continues the copy headed by ``head`` (its ``parts``)."""
    marker, content, _body = line_parts
    return content is not None and content > head[1] and (marker == head[0] or marker >= head[1])


def _extent(lines: Lines, line: int, head: Head) -> tuple[int, bool]:
    """The commented lines that continue the copy whose header (``head``: its ``parts``) is at
    ``line``: ``(last line, whether one of them looks like config)``. Blank commented lines
    inside are kept; a blank or active line ends the copy."""
    last = line
    config_like = False
    probe = line + 1
    while probe < lines.count:
        found = parts(lines.content(probe))
        if found is None:
            break
        if found[1] is not None:
            if not _belongs(head, found):
                break
            last = probe
            config_like = config_like or bool(_CONFIG_RE.match(found[2].lstrip(" \t")))
        probe += 1
    return last, config_like


def header(doc: Doc, line: int, name: str) -> tuple[Head, re.Match[str]] | None:
    """``parts`` of ``line`` if it is a commented ``name:`` header line (``name: {...}`` too), else None."""
    found = parts(doc.lines.content(line))
    if found is None:
        return None
    marker, content, body = found
    if content is None:
        return None
    match = _head_re(name).match(body)
    return ((marker, content, body), match) if match else None


def block_at(doc: Doc, line: int, name: str, min_inner: int, max_marker: int | None = None) -> tuple[int, int] | None:
    """``(line, last)`` if ``line`` heads a commented-out ``name:`` block whose key sat deeper than
    column ``min_inner`` (its marker at column 0 or, when given, not past ``max_marker``, the column
    of the sibling keys): the header ends right after the colon and at least one following
    commented line looks like config (``key:`` or ``- item`` deeper), so prose such as
    ``# openid-connect: see wiki`` is not taken for one."""
    found = header(doc, line, name)
    if found is None:
        return None
    head, match = found
    if head[1] <= min_inner or (max_marker is not None and head[0] not in (0,) and head[0] > max_marker):
        return None
    last, config_like = _extent(doc.lines, line, head)
    # a whole block on one line (`#  name: {...}`) is config too
    return (line, last) if config_like or match.group("flow") else None


def copies(doc: Doc, plugins_key: Node, name: str, plugins: Node | None = None) -> list[tuple[int, int]]:
    """Line ranges of commented-out copies of plugin ``name`` under ``plugins_key`` (its value
    ``plugins``, when given, tells the column of the active plugins: a copy commented at its own
    indentation sits there, not deeper inside another plugin's block)."""
    lines = doc.lines
    plugins_col = lines.column(plugins_key.start_mark.index)
    sibling_col = None
    if isinstance(plugins, nodes.MappingNode) and plugins.value and not plugins.flow_style:
        sibling_col = lines.column(plugins.start_mark.index)
    found = []
    line = lines.line_of(plugins_key.start_mark.index) + 1
    while line < lines.count:
        if lines.blank(line) or lines.is_comment(line):
            hit = block_at(doc, line, name, plugins_col, sibling_col)
            if hit is not None:
                found.append(hit)
                line = hit[1] + 1
                continue
        elif lines.indent(line) <= plugins_col:
            break
        line += 1
    return found


def plugins_range(doc: Doc, route_node: MappingNode) -> tuple[int, int] | None:
    """For a route without ``plugins:``: ``(first, last)`` of a commented-out ``plugins:`` range
    (``#  plugins:`` at column 0 or ``# plugins:`` at the route's key column, then deeper
    commented lines), or None."""
    lines = doc.lines
    route_line = lines.line_of(route_node.start_mark.index)
    route_col = lines.column(route_node.start_mark.index)
    dash_col = lines.indent(route_line)
    line = route_line + 1
    while line < lines.count:
        if not lines.blank(line) and not lines.is_comment(line) and lines.indent(line) <= dash_col:
            return None
        found = header(doc, line, "plugins")
        if found is not None and not found[1].group("flow"):
            head = found[0]
            if (head[0] == 0 and head[1] in (route_col, route_col + 1)) or head[0] == route_col:
                last, _config_like = _extent(lines, line, head)
                return (line, last) if last > line else None
        line += 1
    return None


def copies_in(doc: Doc, first: int, last: int, name: str) -> list[tuple[int, int]]:
    """Commented-out ``name`` blocks inside the commented ``plugins:`` range ``first``..``last``."""
    inner = cast("Head", parts(doc.lines.content(first)))[1]  # first heads the commented range
    found: list[tuple[int, int]] = []
    line = first + 1
    while line <= last:
        hit = block_at(doc, line, name, inner)
        if hit is not None and hit[1] <= last:
            found.append(hit)
            line = hit[1] + 1
            continue
        line += 1
    return found


def of_route(
    doc: Doc, route_node: MappingNode, plugins_key: Node | None, name: str
) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """The commented-out copies of ``name`` on a route: under its ``plugins:``, or, when it has none,
    in a commented-out ``plugins:`` range. ``(range or None, copies)``."""
    if plugins_key is not None:
        plugins = nodes.mapping_get(route_node, "plugins")[0][1] if route_node is not None else None
        return None, copies(doc, plugins_key, name, plugins)
    commented = plugins_range(doc, route_node)
    return commented, (copies_in(doc, commented[0], commented[1], name) if commented else [])


def holds_only(doc: Doc, commented: tuple[int, int], found: Iterable[tuple[int, int]]) -> bool:
    """Whether the commented ``plugins:`` range holds nothing but the copies ``found``."""
    covered: set[int] = set()
    for first, last in found:
        covered.update(range(first, last + 1))
    return all(
        number in covered or not doc.lines.content(number).strip(" \t#")
        for number in range(commented[0] + 1, commented[1] + 1)
    )


def uncomment(doc: Doc, first: int, last: int, column: int) -> list[str] | None:
    """Lines ``first``..``last`` (a commented copy headed at ``first``) as active lines whose header
    key sits at ``column``: each line's content moved by what moves the header's. A line commented
    by ``#`` at column 0 just loses that ``#`` when the header does (so that prepending it again
    gives back its bytes); blank commented lines become empty. None if a line would not fit."""
    head = cast("Head", parts(doc.lines.content(first)))  # first heads the commented copy
    shift = head[1] - column
    out: list[str] = []
    for line in range(first, last + 1):
        content = doc.lines.content(line)
        found = parts(content)
        if found is None:
            out.append(content)
            continue
        marker, where, body = found
        if marker == 0 and shift == 1 and (where is None or where - 1 >= column):
            out.append(body)
        elif where is None:
            out.append("")
        elif where - shift < column + (line > first):
            return None
        else:
            out.append(" " * (where - shift) + body.lstrip(" \t"))
    return out


def _load(out: Sequence[str] | None) -> Any:
    """The YAML data of the uncommented lines ``out``; ``_UNREADABLE`` if there are none or they do not parse."""
    if out is None:
        return _UNREADABLE
    try:
        return nodes.load("\n".join(out))
    except nodes.yaml.YAMLError:
        return _UNREADABLE


_UNREADABLE = object()


def uncommented(doc: Doc, first: int, last: int, column: int, want: object) -> list[str] | None:
    """The lines of ``uncomment`` if they give back ``want`` (as YAML data), else None."""
    out = uncomment(doc, first, last, column)
    data = _load(out)
    return out if data is not _UNREADABLE and nodes.same(data, want) else None


def data_of(doc: Doc, first: int, last: int, name: str) -> Any:
    """What the commented copy ``first``..``last`` of ``name`` holds once uncommented, or None if it does
    not read as YAML."""
    data = _load(uncomment(doc, first, last, 0))
    return data.get(name) if isinstance(data, dict) else None


def natural_column(doc: Doc, line: int) -> int:
    """The column the key of the copy headed at ``line`` had before it was commented out: after a ``#``
    at column 0, one left of its content; else where the ``#`` is."""
    marker, content, _body = cast("Head", parts(doc.lines.content(line)))  # line heads a commented copy
    return content - 1 if marker == 0 else marker

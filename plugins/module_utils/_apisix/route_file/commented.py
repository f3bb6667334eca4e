# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commented-out copies of a plugin block, and of a whole ``plugins:``.

A block "commented out" is the block's lines each prefixed with ``#`` at column 0, as
operators do by hand (and as the CX chart ships its openid-connect examples). Writing
the plugin on a route that has such copies replaces the first copy in place and drops
the others.
"""

from __future__ import annotations

import re

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes

_CONFIG_LINE_RE = re.compile(r"""^[ \t]+(?:-[ \t]|(?:"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]|$))""")
_PLUGINS_HEAD_RE = re.compile(r"^#(?P<indent>[ \t]*)([\"']?)plugins\2[ \t]*:[ \t]*$")


def _head_re(name):
    return re.compile(r"^#(?P<indent>[ \t]*)([\"']?)%s\2[ \t]*:[ \t]*(?P<flow>\{.*\}[ \t]*)?$" % re.escape(name))


def _extent(lines, line, inner):
    """The commented lines under the commented key at ``line`` whose text sits deeper than ``inner``:
    ``(last line, whether one of them looks like config)``. Blank commented lines inside are kept."""
    last = line
    config_like = False
    probe = line + 1
    while probe < lines.count:
        text = lines.content(probe)
        if not text.startswith("#"):
            break
        body = text[1:]
        if body.strip():
            if len(body) - len(body.lstrip(" \t")) <= inner:
                break
            last = probe
            config_like = config_like or bool(_CONFIG_LINE_RE.match(body))
        probe += 1
    return last, config_like


def block_at(doc, line, name, min_inner):
    """``(line, last)`` if ``line`` heads a column-0 commented-out ``name:`` block whose key sat
    deeper than column ``min_inner``: the header ends right after the colon and at least one
    following commented line looks like config (``key:`` or ``- item`` deeper), so prose such
    as ``# openid-connect: see wiki`` is not taken for one."""
    match = _head_re(name).match(doc.lines.content(line))
    if not match or len(match.group("indent")) + 1 <= min_inner:
        return None
    last, config_like = _extent(doc.lines, line, len(match.group("indent")))
    # a whole block on one line (`#  name: {...}`) is config too
    return (line, last) if config_like or match.group("flow") else None


def copies(doc, plugins_key, name):
    """Line ranges of column-0 commented-out copies of plugin ``name`` under ``plugins_key``."""
    lines = doc.lines
    plugins_col = lines.column(plugins_key.start_mark.index)
    found = []
    line = lines.line_of(plugins_key.start_mark.index) + 1
    while line < lines.count:
        if lines.blank(line) or lines.is_comment(line):
            hit = block_at(doc, line, name, plugins_col)
            if hit is not None:
                found.append(hit)
                line = hit[1] + 1
                continue
        elif lines.indent(line) <= plugins_col:
            break
        line += 1
    return found


def plugins_range(doc, route_node):
    """For a route without ``plugins:``: ``(first, last)`` of a commented-out ``plugins:`` range
    (``#  plugins:`` at the route's key column, then deeper commented lines), or None."""
    lines = doc.lines
    route_line = lines.line_of(route_node.start_mark.index)
    route_col = lines.column(route_node.start_mark.index)
    dash_col = lines.indent(route_line)
    line = route_line + 1
    while line < lines.count:
        if not lines.blank(line) and not lines.is_comment(line) and lines.indent(line) <= dash_col:
            return None
        match = _PLUGINS_HEAD_RE.match(lines.content(line))
        if match and len(match.group("indent")) in (route_col, route_col - 1):
            last, _config_like = _extent(lines, line, len(match.group("indent")))
            return (line, last) if last > line else None
        line += 1
    return None


def copies_in(doc, first, last, name):
    """Commented-out ``name`` blocks inside the commented ``plugins:`` range ``first``..``last``."""
    head = doc.lines.content(first)
    inner = len(head) - len(head[1:].lstrip(" \t")) - 1
    found = []
    line = first + 1
    while line <= last:
        hit = block_at(doc, line, name, inner + 1)
        if hit is not None and hit[1] <= last:
            found.append(hit)
            line = hit[1] + 1
            continue
        line += 1
    return found


def of_route(doc, route_node, plugins_key, name):
    """The commented-out copies of ``name`` on a route: under its ``plugins:``, or, when it has none,
    in a commented-out ``plugins:`` range. ``(range or None, copies)``."""
    if plugins_key is not None:
        return None, copies(doc, plugins_key, name)
    commented = plugins_range(doc, route_node)
    return commented, (copies_in(doc, commented[0], commented[1], name) if commented else [])


def holds_only(doc, commented, found):
    """Whether the commented ``plugins:`` range holds nothing but the copies ``found``."""
    covered = set()
    for first, last in found:
        covered.update(range(first, last + 1))
    return all(
        number in covered or not doc.lines.content(number).strip(" \t#")
        for number in range(commented[0] + 1, commented[1] + 1)
    )


def uncommented(doc, first, last, column, want):
    """Lines ``first``..``last`` without their first ``#`` if that gives back ``want`` at ``column``."""
    out = []
    for line in range(first, last + 1):
        content = doc.lines.content(line)
        out.append(content[1:] if content.startswith("#") else content)
    if len(out[0]) - len(out[0].lstrip(" ")) != column:
        return None
    try:
        data = nodes.load("\n".join(out))
    except nodes.yaml.YAMLError:
        return None
    return out if nodes.same(data, want) else None

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, CX platform engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Surgical edits of one plugin's block in APISIX route files (YAML text).

Route files (a standalone ``conf/apisix.yaml`` or Helm values of a chart in
standalone mode) are kept by hand and reviewed line by line, so they are never
re-serialised: the text is parsed once (PyYAML, with libyaml's C parser when
available) to get node positions, and only the lines of the plugin's block are
replaced, inserted, commented out or removed. Every other byte (comments,
indentation, quoting, flow style, Helm templates, blank lines, trailing spaces,
line breaks, ``#END``) stays as it was.

Plain Python (PyYAML only, no Ansible), so it can be tested exhaustively.

Layout rules:
- A key's block is its line through the last line of its value, plus comment lines
  indented deeper than the key that follow it (commented-out options); trailing blank
  lines stay outside.
- A new plugin block goes right under ``plugins:`` (where the guide puts it), indented
  like the sibling plugins; a route without ``plugins:`` gets one after its last key.
- A block "commented out" is the block's lines each prefixed with ``#`` at column 0,
  as operators do by hand. Writing the plugin on a route that has such copies
  replaces the first copy in place and drops the others.
- Before returning new text, each edited route is parsed again and compared with
  what it must hold (the whole file when it uses anchors/aliases), and the whole new
  text is parsed once more to check it holds the same route ids in the same order.
"""

from __future__ import annotations

import bisect
import copy
import difflib
import gc
import json
import math
import re

try:
    import yaml
    from yaml.constructor import SafeConstructor
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.resolver import Resolver
except ImportError:  # the module reports missing_required_lib
    yaml = None
    HAS_YAML = False
    HAS_LIBYAML = False
    _LOADER = None
else:
    HAS_YAML = True
    try:
        from yaml import CSafeLoader as _LOADER
        HAS_LIBYAML = True
    except ImportError:  # depends on how PyYAML was built
        from yaml import SafeLoader as _LOADER
        HAS_LIBYAML = False

DEFAULT_ROUTES_KEYS = ("routes", "apisixStandalone.routes")
_BREAK_RE = re.compile(r"\r\n|\r|\n")
_TEMPLATE_AT_COL0_RE = re.compile(r"(?m)^\{\{")
_TEMPLATE_RE = re.compile(r"(?m)^[ \t]*\{\{")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML11_WORDS = frozenset(("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"))
_COMMENTED_CONFIG_RE = re.compile(r"""^[ \t]+(?:-[ \t]|(?:"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]|$))""")
_NONPRINTABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


class RouteFileError(Exception):
    """The file cannot be edited as asked; the message says where and why (no values)."""


class _Regenerate(Exception):
    """An existing block cannot be edited key by key: rewrite it whole."""


# --- rendering ----------------------------------------------------------------------

def _escape_nonprintable(match):
    char = match.group(0)
    return "\\u%04x" % ord(char)


def double_quoted(value):
    """A YAML double-quoted scalar (JSON escapes, which YAML shares)."""
    return _NONPRINTABLE_RE.sub(_escape_nonprintable, json.dumps(value, ensure_ascii=False))


def _plain_ok(value):
    if not value or value != value.strip() or _NONPRINTABLE_RE.search(value) or "\n" in value or "\r" in value:
        return False
    if value[0] in "-?:,[]{}#&*!|>'\"%@`" or ": " in value or " #" in value or value.endswith(":"):
        return False
    return Resolver().resolve(ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str"


def render_scalar(value, style='"'):
    """Render a scalar; strings follow ``style`` (``'"'``, ``"'"``, plain: None or '') when possible.

    New blocks use double quotes for strings, as the guide's snippet does.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    value = str(value)
    if style in (None, "") and _plain_ok(value):
        return value
    if style == "'" and not _NONPRINTABLE_RE.search(value) and "\n" not in value and "\r" not in value:
        return "'%s'" % value.replace("'", "''")
    return double_quoted(value)


def render_key_text(key):
    key = str(key)
    if _PLAIN_KEY_RE.match(key) and key.lower() not in _YAML11_WORDS:
        return key
    return double_quoted(key)


def render_inline(value, style='"'):
    """One-line rendering of ``value``, or None if it needs block lines."""
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (dict, list, tuple)) for item in value):
            return None
        return "[%s]" % ", ".join(render_scalar(item) for item in value)
    return render_scalar(value, style)


def render_entry(key, value, indent, step):
    """Lines (without line breaks) for ``key: value`` at column ``indent``."""
    pad = " " * indent
    head = pad + render_key_text(key) + ":"
    inline = render_inline(value)
    if inline is not None:
        return [head + " " + inline]
    lines = [head]
    if isinstance(value, dict):
        lines.extend(render_mapping(value, indent + step, step))
    else:
        lines.extend(_render_sequence(value, indent + step, step))
    return lines


def render_mapping(value, indent, step):
    lines = []
    for key, item in value.items():
        lines.extend(render_entry(key, item, indent, step))
    return lines


def _render_sequence(value, indent, step):
    lines = []
    pad = " " * indent
    for item in value:
        inline = render_inline(item)
        if inline is not None:
            lines.append(pad + "- " + inline)
            continue
        if isinstance(item, dict):
            body = render_mapping(item, indent + 2, step)
        else:
            body = _render_sequence(item, indent + 2, step)
        body[0] = pad + "- " + body[0][indent + 2:]
        lines.extend(body)
    return lines


# --- data helpers -------------------------------------------------------------------

def same(left, right):
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


def _compose(text):
    """The node tree of ``text``; the cyclic GC is paused meanwhile (the parse allocates
    hundreds of thousands of objects and none of them can form garbage cycles yet)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return yaml.compose(text, Loader=_LOADER)
    finally:
        if enabled:
            gc.enable()


def _construct(node):
    return SafeConstructor().construct_document(node)


def _mapping_get(node, name):
    """The (key, value) pairs of block/flow mapping ``node`` whose key is the scalar ``name``."""
    return [(key, value) for key, value in node.value if isinstance(key, ScalarNode) and key.value == name]


def _route_id(item):
    """The id of a route item (its last ``id`` key's scalar text), or None."""
    if isinstance(item, MappingNode):
        ids = _mapping_get(item, "id")
        if ids and isinstance(ids[-1][1], ScalarNode) and ids[-1][1].value != "":
            return ids[-1][1].value
    return None


# --- the file -----------------------------------------------------------------------

class _Lines(object):
    """Line table of a text: line starts, content ends, indentation (index based)."""

    def __init__(self, text):
        self.text = text
        self.starts = [0]
        self.ends = []
        for match in _BREAK_RE.finditer(text):
            self.ends.append(match.start())
            self.starts.append(match.end())
        self.ends.append(len(text))
        self.count = len(self.starts)

    def line_of(self, index):
        return bisect.bisect_right(self.starts, index) - 1

    def column(self, index):
        return index - self.starts[self.line_of(index)]

    def content(self, line):
        return self.text[self.starts[line]:self.ends[line]]

    def has_break(self, line):
        return self.ends[line] < len(self.text)

    def next_start(self, line):
        return self.starts[line + 1] if line + 1 < self.count else len(self.text)

    def indent(self, line):
        content = self.content(line)
        return len(content) - len(content.lstrip(" "))

    def blank(self, line):
        return not self.content(line).strip()

    def is_comment(self, line):
        return self.content(line).lstrip(" \t").startswith("#")


class _Edits(object):
    """Text replacements on the original text, applied in one pass.

    Deletions may overlap and merge; anything else overlapping is a bug. When the
    merged edits delete the last lines of a file that has no final line break,
    ``eof_start`` (line start -> earlier index or None) may move the deletion's start
    back over the break before them, so that the file still ends without one.
    """

    def __init__(self, text, eof_start=None):
        self.text = text
        self.items = []
        self._merged = None
        self._eof_start = eof_start

    def add(self, start, end, text, owner):
        self.items.append((start, end, text, owner, len(self.items)))
        self._merged = None

    def merged(self):
        """Edits sorted, overlapping deletions merged into their neighbour."""
        if self._merged is None:
            out = []
            for item in sorted(self.items, key=lambda item: (item[0], item[1], item[4])):
                start, end, text, owner, seq = item
                if out and text == "" and out[-1][2] == "" and start <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], end), "", out[-1][3], out[-1][4])
                    continue
                if out and start < out[-1][1]:
                    p_start, p_end, p_text, p_owner, p_seq = out[-1]
                    overlap = self.text[start:p_end]
                    if text == "" and p_text.endswith(overlap):
                        out[-1] = (p_start, max(p_end, end), p_text[:len(p_text) - len(overlap)], p_owner, p_seq)
                        continue
                    if p_text == "" and start >= p_start:
                        # an edit inside a deleted range: only another deletion may be there
                        if text == "":
                            out[-1] = (p_start, max(p_end, end), "", p_owner, p_seq)
                            continue
                    raise RouteFileError("internal error: overlapping edits in route %s" % owner)
                out.append(item)
            if out and out[-1][2] == "" and out[-1][1] == len(self.text) and self._eof_start is not None \
                    and not self.text.endswith(("\n", "\r")):
                start = self._eof_start(out[-1][0])
                if start is not None and (len(out) < 2 or out[-2][1] <= start):
                    out[-1] = (start,) + out[-1][1:]
            self._merged = out
        return self._merged

    def apply(self):
        out = []
        position = 0
        for start, end, replacement, _owner, _seq in self.merged():
            out.append(self.text[position:start])
            out.append(replacement)
            position = end
        out.append(self.text[position:])
        return "".join(out)

    def shift(self, index):
        """Where ``index`` of the original text lands: after every edit that ends at or before it."""
        delta = 0
        for start, end, replacement, _owner, _seq in self.merged():
            if end <= index:
                delta += len(replacement) - (end - start)
        return index + delta


class RouteFile(object):
    """A parsed route file; collects edits of one plugin's block in given routes.

    ``text``: the file's text; ``source``: its name for messages; ``routes_key``: the
    dotted path of the routes list (default: ``routes`` or ``apisixStandalone.routes``).
    """

    def __init__(self, text, source="file", routes_key=None):
        if not HAS_YAML:
            raise RouteFileError("PyYAML is required")
        self.text = text
        self.source = source
        self.lines = _Lines(text)
        match = _BREAK_RE.search(text)
        self.newline = match.group(0) if match else "\n"
        self._edits = _Edits(text, self._eof_start)
        self._expect = {}
        self._plugin_steps = None
        self._config_step_cache = {}
        self._shared = None
        self._scalar_ends = None
        template = _TEMPLATE_AT_COL0_RE.search(text)
        if template:
            raise RouteFileError(self._template_message(template))
        try:
            self.root = _compose(text)
        except yaml.MarkedYAMLError as exc:
            message = self._yaml_error(exc)
            template = _TEMPLATE_RE.search(text)
            if template:
                message += "; " + self._template_message(template)
            raise RouteFileError(message)
        except yaml.YAMLError as exc:
            raise RouteFileError("%s is not valid YAML: %s" % (source, exc))
        if not isinstance(self.root, MappingNode):
            raise RouteFileError("%s does not hold a YAML mapping at the top level (%s)" % (
                source, "empty file" if self.root is None else "found a %s" % self._kind(self.root)))
        self.routes_key, self.routes_node = self._find_routes(routes_key)
        self.routes = []       # (route_id or None, mapping node) in file order
        self.by_id = {}
        for item in self.routes_node.value:
            route_id = _route_id(item)
            self.routes.append((route_id, item))
            if route_id is not None:
                self.by_id.setdefault(route_id, []).append(item)

    # --- messages -----------------------------------------------------------------

    def _template_message(self, match):
        line = self.lines.line_of(match.start())
        snippet = self.lines.content(line).strip()
        end = snippet.find("}}")
        snippet = snippet[:end + 2] if end >= 0 else snippet[:40]
        return ("%s looks like a Helm template, not a values file: line %d starts with the template action %s; "
                "point path at the chart's values file" % (self.source, line + 1, snippet))

    def _yaml_error(self, exc):
        mark = exc.problem_mark
        where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else ""
        context = ""
        if exc.context and exc.context_mark is not None:
            context = " (%s at line %d, column %d)" % (exc.context, exc.context_mark.line + 1, exc.context_mark.column + 1)
        return "%s is not valid YAML: %s%s%s" % (self.source, exc.problem or "error", where, context)

    @staticmethod
    def _kind(node):
        if isinstance(node, MappingNode):
            return "flow mapping" if node.flow_style else "mapping"
        if isinstance(node, SequenceNode):
            return "flow sequence" if node.flow_style else "sequence"
        return "scalar"

    def _line(self, node):
        return self.lines.line_of(node.start_mark.index) + 1

    def _data(self, node, route_id, what):
        """``node`` as Python data; a clear error when PyYAML cannot build it."""
        try:
            return _construct(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = (" at line %d" % (mark.line + 1)) if mark is not None else ""
            raise RouteFileError("%s: route %s: the %s cannot be read: %s%s" % (
                self.source, route_id, what, getattr(exc, "problem", None) or "YAML error", where)) from None

    # --- locating -------------------------------------------------------------------

    def _find_routes(self, routes_key):
        if routes_key:
            node = self._walk(routes_key, required=True)
            found = routes_key
        else:
            hits = [(key, self._walk(key, required=False)) for key in DEFAULT_ROUTES_KEYS]
            hits = [(key, node) for key, node in hits if node is not None]
            if not hits:
                hint = ""
                if _TEMPLATE_RE.search(self.text):
                    hint = "; " + self._template_message(_TEMPLATE_RE.search(self.text))
                top = ", ".join(key.value for key, _value in self.root.value if isinstance(key, ScalarNode))
                raise RouteFileError("%s has no routes under %s (top-level keys: %s); set routes_key%s" % (
                    self.source, " or ".join(DEFAULT_ROUTES_KEYS), top or "none", hint))
            if len(hits) > 1:
                raise RouteFileError("%s has routes under both %s: set routes_key" % (
                    self.source, " and ".join(key for key, _node in hits)))
            found, node = hits[0]
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            raise RouteFileError("%s: %s holds no routes (line %d)" % (self.source, found, self._line(node)))
        if not isinstance(node, SequenceNode):
            raise RouteFileError("%s: %s is a %s, expected a list of routes (line %d)" % (
                self.source, found, self._kind(node), self._line(node)))
        if node.flow_style:
            raise RouteFileError("%s: %s is written as a flow sequence [...] (line %d); only block lists (- id: ...) "
                                 "can be edited line by line" % (self.source, found, self._line(node)))
        return found, node

    def _walk(self, dotted, required):
        node = self.root
        walked = []
        for part in dotted.split("."):
            if not isinstance(node, MappingNode):
                if required:
                    raise RouteFileError("%s: routes_key %s not found: %s is not a mapping" % (
                        self.source, dotted, ".".join(walked) or "the top level"))
                return None
            hits = _mapping_get(node, part)
            if not hits:
                if required:
                    keys = ", ".join(key.value for key, _value in node.value if isinstance(key, ScalarNode))
                    raise RouteFileError("%s: routes_key %s not found: no key %s under %s (keys there: %s)" % (
                        self.source, dotted, part, ".".join(walked) or "the top level", keys or "none"))
                return None
            if len(hits) > 1:
                raise RouteFileError("%s: key %s appears %d times under %s (lines %s)" % (
                    self.source, part, len(hits), ".".join(walked) or "the top level",
                    ", ".join(str(self._line(key)) for key, _value in hits)))
            walked.append(part)
            node = hits[0][1]
        return node

    def route_ids(self):
        return [route_id for route_id, _node in self.routes if route_id is not None]

    def check_targets(self, route_ids):
        """Fail unless every id names exactly one route."""
        unknown = [route_id for route_id in route_ids if route_id not in self.by_id]
        if unknown:
            existing = self.route_ids()
            shown = ", ".join(existing[:50]) + (" ... and %d more" % (len(existing) - 50) if len(existing) > 50 else "")
            close = []
            for route_id in unknown:
                close.extend(difflib.get_close_matches(route_id, existing, n=2))
            hint = (" (did you mean %s?)" % ", ".join(close)) if close else ""
            raise RouteFileError("%s: unknown route id%s %s under %s%s; route ids in the file: %s" % (
                self.source, "s" if len(unknown) > 1 else "", ", ".join(unknown), self.routes_key, hint, shown or "none"))
        duplicated = [route_id for route_id in route_ids if len(self.by_id[route_id]) > 1]
        if duplicated:
            raise RouteFileError("%s: duplicate route id%s under %s: %s" % (
                self.source, "s" if len(duplicated) > 1 else "", self.routes_key, "; ".join(
                    "%s (lines %s)" % (route_id, ", ".join(str(self._line(node)) for node in self.by_id[route_id]))
                    for route_id in duplicated)))

    def duplicate_ids(self):
        return sorted(route_id for route_id, nodes in self.by_id.items() if len(nodes) > 1)

    def _route(self, route_id):
        nodes = self.by_id.get(route_id)
        if not nodes or len(nodes) > 1:
            self.check_targets([route_id])
        return nodes[0]

    def _plugins(self, route_id, route):
        """The (key, value) of the route's ``plugins`` or (None, None)."""
        self._no_merge(route_id, route, "route")
        hits = _mapping_get(route, "plugins")
        if len(hits) > 1:
            raise RouteFileError("%s: route %s has %d plugins keys (lines %s)" % (
                self.source, route_id, len(hits), ", ".join(str(self._line(key)) for key, _value in hits)))
        if not hits:
            return None, None
        key, value = hits[0]
        if isinstance(value, MappingNode):
            self._no_merge(route_id, value, "plugins")
        elif not (isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:null"):
            raise RouteFileError("%s: route %s: plugins is a %s, not a mapping (line %d)" % (
                self.source, route_id, self._kind(value), self._line(value)))
        return key, value

    def _editable(self, route_id, route, plugins):
        """Fail on layouts that cannot be edited line by line (checked only when an edit is due)."""
        if route.flow_style:
            raise RouteFileError("%s: route %s is written as a flow mapping {...} (line %d); rewrite it in block style "
                                 "(one key a line) to edit it" % (self.source, route_id, self._line(route)))
        if isinstance(plugins, MappingNode) and plugins.flow_style and plugins.value:
            raise RouteFileError("%s: route %s has its plugins written as a flow mapping {...} (line %d); rewrite "
                                 "them in block style (one plugin a line) to edit them" % (
                                     self.source, route_id, self._line(plugins)))

    def _no_merge(self, route_id, node, what):
        for key, _value in node.value:
            if key.tag == _MERGE_TAG:
                raise RouteFileError("%s: route %s: the %s mapping uses a YAML merge key << (line %d); "
                                     "edit it by hand" % (self.source, route_id, what, self._line(key)))

    def _block(self, route_id, plugins, name):
        """The (key, value) of plugin ``name`` in a plugins mapping, or (None, None)."""
        if not isinstance(plugins, MappingNode):
            return None, None
        hits = _mapping_get(plugins, name)
        if len(hits) > 1:
            raise RouteFileError("%s: route %s has %d %s blocks (lines %s)" % (
                self.source, route_id, len(hits), name, ", ".join(str(self._line(key)) for key, _value in hits)))
        return hits[0] if hits else (None, None)

    # --- anchors and aliases ----------------------------------------------------------

    def _shared_nodes(self):
        """ids of nodes reachable twice (YAML aliases); empty when the text has none."""
        if self._shared is None:
            self._shared = set()
            if "&" in self.text and "*" in self.text:
                seen = set()
                stack = [self.root]
                while stack:
                    node = stack.pop()
                    if id(node) in seen:
                        self._shared.add(id(node))
                        continue
                    seen.add(id(node))
                    if isinstance(node, MappingNode):
                        for key, value in node.value:
                            stack.append(key)
                            stack.append(value)
                    elif isinstance(node, SequenceNode):
                        stack.extend(node.value)
        return self._shared

    def _not_shared(self, route_id, what, shallow=(), deep=()):
        """Fail if a node we edit is also reached through an alias elsewhere.

        ``shallow`` nodes get text inserted or removed inside them; ``deep`` nodes are
        replaced or removed with everything under them.
        """
        shared = self._shared_nodes()
        if not shared:
            return
        stack = [node for node in deep if node is not None]
        for node in list(shallow) + stack:
            if node is not None and id(node) in shared:
                raise RouteFileError("%s: route %s: the %s uses a YAML anchor/alias (line %d); edit it by hand or "
                                     "write it out without the alias" % (self.source, route_id, what, self._line(node)))
        while stack:
            node = stack.pop()
            if id(node) in shared:
                raise RouteFileError("%s: route %s: the %s holds a YAML anchor or alias (line %d); edit it by hand or "
                                     "write it out without the alias" % (self.source, route_id, what, self._line(node)))
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    stack.append(key)
                    stack.append(value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)

    # --- regions --------------------------------------------------------------------

    def _last_index(self, node):
        """Index of the last character of ``node``'s own text."""
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, ScalarNode):
            if node.style in ("|", ">"):
                header = self.text[start:self.lines.ends[self.lines.line_of(start)]].split("#", 1)[0]
                if "+" in header:  # keep chomping: trailing blank lines belong to the value
                    return max(start, end - 1)
                index = end - 1
                while index > start and self.text[index] in " \t\r\n":
                    index -= 1
                return index
            return max(start, end - 1)
        if node.flow_style or not node.value:
            return max(start, end - 1)
        if isinstance(node, MappingNode):
            key, value = node.value[-1]
            return max(self._last_index(key), self._last_index(value))
        return self._last_index(node.value[-1])

    def _region(self, key, value):
        """First and last line of ``key: value`` in a block mapping (see the layout rules)."""
        lines = self.lines
        first = lines.line_of(key.start_mark.index)
        column = lines.column(key.start_mark.index)
        last = lines.line_of(max(self._last_index(key), self._last_index(value)))
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

    def _own_lines(self, route_id, key, what):
        line = self.lines.line_of(key.start_mark.index)
        if self.text[self.lines.starts[line]:key.start_mark.index].strip(" "):
            raise RouteFileError("%s: route %s: the %s key shares line %d with other content; put it on its own line "
                                 "to edit it" % (self.source, route_id, what, line + 1))

    def _route_window(self, route):
        """First and last line of a route item (its dash line through its last key's block)."""
        first = self.lines.line_of(route.start_mark.index)
        key, value = route.value[-1]
        return first, self._region(key, value)[1]

    def _commented_copies(self, plugins_key, name):
        """Line ranges of column-0 commented-out copies of plugin ``name`` under ``plugins_key``."""
        lines = self.lines
        plugins_line = lines.line_of(plugins_key.start_mark.index)
        plugins_col = lines.column(plugins_key.start_mark.index)
        copies = []
        line = plugins_line + 1
        while line < lines.count:
            content = lines.content(line)
            if not content.strip() or content.lstrip(" \t").startswith("#"):
                found = self._commented_block(line, name, plugins_col)
                if found is not None:
                    copies.append(found)
                    line = found[1] + 1
                    continue
                line += 1
                continue
            if lines.indent(line) <= plugins_col:
                break
            line += 1
        return copies

    def _commented_block(self, line, name, min_inner):
        """``(line, last)`` if ``line`` heads a column-0 commented-out ``name:`` block whose key sat
        deeper than column ``min_inner``: the header ends right after the colon and at least one
        following commented line looks like config (``key:`` or ``- item`` deeper), so prose such
        as ``# openid-connect: see wiki`` is not taken for one."""
        lines = self.lines
        head = re.compile(r"^#(?P<indent>[ \t]*)([\"']?)%s\2[ \t]*:[ \t]*(?P<flow>\{.*\}[ \t]*)?$" % re.escape(name))
        match = head.match(lines.content(line))
        if not match or len(match.group("indent")) + 1 <= min_inner:
            return None
        inner = len(match.group("indent"))
        last = line
        config_like = bool(match.group("flow"))   # a whole block on one line: `#  name: {...}`
        probe = line + 1
        while probe < lines.count:
            text = lines.content(probe)
            if not text.startswith("#"):
                break
            body = text[1:]
            if body.strip() and len(body) - len(body.lstrip(" \t")) <= inner:
                break
            if body.strip():
                last = probe
                if _COMMENTED_CONFIG_RE.match(body):
                    config_like = True
            probe += 1
        return (line, last) if config_like else None

    def _commented_plugins(self, route):
        """For a route without ``plugins:``: ``(first, last)`` of a commented-out ``plugins:`` range
        (``#  plugins:`` at the route's key column, then deeper commented lines), or None."""
        lines = self.lines
        route_line = lines.line_of(route.start_mark.index)
        route_col = lines.column(route.start_mark.index)
        dash_col = lines.indent(route_line)
        head = re.compile(r"^#(?P<indent>[ \t]*)([\"']?)plugins\2[ \t]*:[ \t]*$")
        line = route_line + 1
        while line < lines.count:
            content = lines.content(line)
            if content.strip() and not content.lstrip(" \t").startswith("#") and lines.indent(line) <= dash_col:
                return None
            match = head.match(content)
            if match and len(match.group("indent")) in (route_col, route_col - 1):
                inner = len(match.group("indent"))
                last = line
                probe = line + 1
                while probe < lines.count:
                    text = lines.content(probe)
                    if not text.startswith("#"):
                        break
                    body = text[1:]
                    if body.strip() and len(body) - len(body.lstrip(" \t")) <= inner:
                        break
                    if body.strip():
                        last = probe
                    probe += 1
                return (line, last) if last > line else None
            line += 1
        return None

    def _copies_in(self, first, last, name):
        """Commented-out ``name`` blocks inside the commented ``plugins:`` range ``first``..``last``."""
        inner = len(self.lines.content(first)) - len(self.lines.content(first)[1:].lstrip(" \t")) - 1
        copies = []
        line = first + 1
        while line <= last:
            found = self._commented_block(line, name, inner + 1)
            if found is not None and found[1] <= last:
                copies.append(found)
                line = found[1] + 1
                continue
            line += 1
        return copies

    def _only(self, commented, copies):
        """Whether the commented ``plugins:`` range holds nothing but ``copies``."""
        covered = set()
        for first, last in copies:
            covered.update(range(first, last + 1))
        return all(number in covered or not self.lines.content(number).strip(" \t#")
                   for number in range(commented[0] + 1, commented[1] + 1))

    def _uncommented(self, first, last, column, want):
        """Lines ``first``..``last`` without their first ``#`` if that gives back ``want`` at ``column``."""
        out = []
        for line in range(first, last + 1):
            content = self.lines.content(line)
            out.append(content[1:] if content.startswith("#") else content)
        if len(out[0]) - len(out[0].lstrip(" ")) != column:
            return None
        try:
            data = yaml.load("\n".join(out), Loader=_LOADER)
        except yaml.YAMLError:
            return None
        return out if same(data, want) else None

    # --- indentation ----------------------------------------------------------------

    def _steps(self):
        """(plugins step, config step) as the file does them; 2 when it shows none."""
        if self._plugin_steps is None:
            plugins_step = config_step = None
            for _route_id, route in self.routes:
                if not isinstance(route, MappingNode) or route.flow_style:
                    continue
                for key, value in _mapping_get(route, "plugins"):
                    if isinstance(value, MappingNode) and not value.flow_style and value.value:
                        if plugins_step is None:
                            plugins_step = self.lines.column(value.start_mark.index) - self.lines.column(key.start_mark.index)
                        if config_step is None:
                            config_step = self._config_step_of(value)
                if plugins_step is not None and config_step is not None:
                    break
            self._plugin_steps = (plugins_step or 2, config_step or 2)
        return self._plugin_steps

    def _config_step_of(self, plugins):
        for key, value in plugins.value:
            if isinstance(value, MappingNode) and not value.flow_style and value.value:
                step = self.lines.column(value.start_mark.index) - self.lines.column(key.start_mark.index)
                if step > 0:
                    return step
        return None

    # --- reading --------------------------------------------------------------------

    def plugin_state(self, route_id, name):
        """``{'active': bool, 'config': data or None, 'commented': int}`` for one route."""
        route = self._route(route_id)
        plugins_key, plugins = self._plugins(route_id, route)
        _key, value = self._block(route_id, plugins, name)
        if plugins_key is not None:
            copies = self._commented_copies(plugins_key, name)
        else:
            commented = self._commented_plugins(route)
            copies = self._copies_in(commented[0], commented[1], name) if commented else []
        return {
            "active": value is not None,
            "config": self._data(value, route_id, "%s block" % name) if value is not None else None,
            "commented": len(copies),
        }

    def iter_plugin_configs(self, name):
        """(route id, config) of every route with an active ``name`` block (ids may be None)."""
        for route_id, route in self.routes:
            if not isinstance(route, MappingNode):
                continue
            for _key, plugins in _mapping_get(route, "plugins"):
                if isinstance(plugins, MappingNode):
                    for _pkey, value in _mapping_get(plugins, name):
                        try:
                            data = _construct(value)
                        except yaml.YAMLError:
                            continue
                        yield route_id, data

    def secret_texts(self, name, paths):
        """Values and source texts of the given dotted paths in every ``name`` block."""
        found = set()
        for route_id, route in self.routes:
            if not isinstance(route, MappingNode):
                continue
            for _key, plugins in _mapping_get(route, "plugins"):
                if not isinstance(plugins, MappingNode):
                    continue
                for _pkey, value in _mapping_get(plugins, name):
                    for path in paths:
                        node = value
                        for part in path.split("."):
                            hits = _mapping_get(node, part) if isinstance(node, MappingNode) else []
                            node = hits[-1][1] if hits else None
                        if isinstance(node, ScalarNode) and node.value:
                            found.add(node.value)
                            source = self.text[node.start_mark.index:node.end_mark.index]
                            if node.style in ('"', "'"):
                                source = source[1:-1]
                            for piece in source.splitlines():
                                if piece.strip() and piece.strip() not in ("|", ">", "|-", ">-", "|+", ">+"):
                                    found.add(piece.strip())
        return found

    # --- writing --------------------------------------------------------------------

    def _lines_text(self, lines, last_line):
        """``lines`` joined for replacing up to ``last_line`` (keeps its break, or its lack)."""
        text = self.newline.join(lines)
        return text + self.newline if self.lines.has_break(last_line) else text

    def _replace_lines(self, first, last, lines, owner):
        self._edits.add(self.lines.starts[first], self.lines.next_start(last), self._lines_text(lines, last), owner)

    def _remove_lines(self, first, last, owner):
        start, end, text = self._removal(first, last)
        self._edits.add(start, end, text, owner)

    def _block_scalar_ends(self):
        """Lines where a block scalar (``|``/``>``, not strip-chomped) ends: a line break after it is content."""
        if self._scalar_ends is None:
            self._scalar_ends = set()
            stack, seen = [self.root], set()
            while stack:
                node = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if isinstance(node, ScalarNode):
                    if node.style in ("|", ">"):
                        header = self.text[node.start_mark.index:self.lines.ends[self.lines.line_of(node.start_mark.index)]]
                        if "-" not in header.split("#", 1)[0]:
                            self._scalar_ends.add(self.lines.line_of(self._last_index(node)))
                elif isinstance(node, MappingNode):
                    for key, value in node.value:
                        stack.append(key)
                        stack.append(value)
                else:
                    stack.extend(node.value)
        return self._scalar_ends

    def _insert_after(self, line, lines, owner):
        text = self.newline.join(lines)
        if self.lines.has_break(line):
            self._edits.add(self.lines.next_start(line), self.lines.next_start(line), text + self.newline, owner)
            return
        if line in self._block_scalar_ends():
            raise RouteFileError("%s: route %s: the file ends with a block scalar (| or >) and no line break after it; "
                                 "lines added after it would change its value: end the file with a line break"
                                 % (self.source, owner))
        self._edits.add(len(self.text), len(self.text), self.newline + text, owner)

    def set_plugin(self, route_id, name, config):
        """Make route ``route_id`` hold ``name: config``; return True if the text changes."""
        route = self._route(route_id)
        plugins_key, plugins = self._plugins(route_id, route)
        key, value = self._block(route_id, plugins, name)
        if key is not None and same(self._data(value, route_id, "%s block" % name), config):
            return False
        self._editable(route_id, route, plugins)
        plugins_step, config_step = self._steps()
        expected = self._expected(route_id, route, name)
        if key is not None:
            self._not_shared(route_id, "plugins mapping", shallow=(route, plugins))
            self._not_shared(route_id, "%s block" % name, deep=(key, value))
            self._own_lines(route_id, key, name)
            expected["plugins"][name] = copy.deepcopy(config)
            step = self._config_step_of(plugins) or config_step
            column = self.lines.column(key.start_mark.index)
            first, last = self._region(key, value)
            edits = None
            if isinstance(value, MappingNode) and not value.flow_style and value.value:
                try:
                    edits = self._update_mapping(value, config, step)
                except _Regenerate:
                    edits = None
            if edits is None:
                self._replace_lines(first, last, render_entry(name, config, column, step), route_id)
            else:
                for start, end, text in edits:
                    self._edits.add(start, end, text, route_id)
            return True

        self._not_shared(route_id, "plugins mapping", shallow=(route, plugins))
        if plugins_key is None:
            route_col = self.lines.column(route.start_mark.index)
            lines = [" " * route_col + "plugins:"] + render_entry(name, config, route_col + plugins_step, config_step)
            expected["plugins"] = {name: copy.deepcopy(config)}
            commented = self._commented_plugins(route)
            copies = self._copies_in(commented[0], commented[1], name) if commented else []
            if commented and copies and self._only(commented, copies):
                # a commented-out `plugins:` holding only this plugin: the new block takes its place
                restored = self._uncommented(commented[0], commented[1], route_col, {"plugins": {name: config}})
                self._replace_lines(commented[0], commented[1], restored or lines, route_id)
                return True
            for first, last in copies:
                self._remove_lines(first, last, route_id)
            _first, last = self._route_window(route)
            self._insert_after(last, lines, route_id)
            return True

        if isinstance(plugins, MappingNode) and plugins.value:
            column = self.lines.column(plugins.start_mark.index)
            step = self._config_step_of(plugins) or config_step
        else:
            column = self.lines.column(plugins_key.start_mark.index) + plugins_step
            step = config_step
        block_lines = render_entry(name, config, column, step)
        if plugins.start_mark.index < plugins.end_mark.index and not (isinstance(plugins, MappingNode) and plugins.value):
            # `plugins: {}` or `plugins: ~`: drop the inline value, the block goes below
            start = plugins.start_mark.index
            while start > 0 and self.text[start - 1] in " \t":
                start -= 1
            self._edits.add(start, plugins.end_mark.index, "", route_id)
        copies = self._commented_copies(plugins_key, name)
        if copies:
            restored = self._uncommented(copies[0][0], copies[0][1], column, {name: config})
            self._replace_lines(copies[0][0], copies[0][1], restored or block_lines, route_id)
            for first, last in copies[1:]:
                self._remove_lines(first, last, route_id)
        else:
            self._insert_after(self.lines.line_of(plugins_key.end_mark.index), block_lines, route_id)
        plugins_data = expected.get("plugins") or {}
        plugins_data[name] = copy.deepcopy(config)
        expected["plugins"] = plugins_data
        return True

    def unset_plugin(self, route_id, name, style="remove"):
        """Remove (``style='remove'``) or comment out (``'comment'``) the block; True if the text changes."""
        if style not in ("remove", "comment"):
            raise ValueError("style must be remove or comment")
        route = self._route(route_id)
        plugins_key, plugins = self._plugins(route_id, route)
        key, value = self._block(route_id, plugins, name)
        if key is None:
            return False
        self._editable(route_id, route, plugins)
        self._not_shared(route_id, "plugins mapping", shallow=(route, plugins))
        self._not_shared(route_id, "%s block" % name, deep=(key, value))
        self._own_lines(route_id, key, name)
        expected = self._expected(route_id, route, name)
        first, last = self._region(key, value)
        del expected["plugins"][name]
        drop_plugins_line = False
        if not expected["plugins"]:
            line = self.lines.line_of(plugins_key.start_mark.index)
            bare = self.lines.content(line).strip() == plugins_key.value + ":"
            own = not self.text[self.lines.starts[line]:plugins_key.start_mark.index].strip(" ")
            drop_plugins_line = bare and own
            if drop_plugins_line:
                del expected["plugins"]
            else:
                expected["plugins"] = None
        if style == "comment":
            for first_copy, last_copy in self._commented_copies(plugins_key, name):
                self._remove_lines(first_copy, last_copy, route_id)
            # a bare `plugins:` left with nothing is commented out too (null plugins break APISIX's schema)
            commented = ([line] if drop_plugins_line and line + 1 < first else []) + list(range(
                line if drop_plugins_line and line + 1 == first else first, last + 1))
            for number in commented:
                start = self.lines.starts[number]
                self._edits.add(start, start, "#", route_id)
        elif drop_plugins_line and line + 1 == first:
            self._remove_lines(line, last, route_id)
        else:
            self._remove_lines(first, last, route_id)
            if drop_plugins_line:
                self._remove_lines(line, line, route_id)
        return True

    def _update_mapping(self, node, desired, step):
        """Edits turning block mapping ``node`` into ``desired`` key by key, keeping unchanged lines."""
        existing = []
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or key.tag == _MERGE_TAG:
                raise _Regenerate()
            existing.append((key.value, key, value))
        names = [name for name, _key, _value in existing]
        if len(set(names)) != len(names):
            raise _Regenerate()
        column = self.lines.column(node.start_mark.index)
        edits = []
        last_line = None
        for name, key, value in existing:
            first, last = self._region(key, value)
            last_line = last
            if self.text[self.lines.starts[first]:key.start_mark.index].strip(" "):
                raise _Regenerate()
            if name not in desired:
                edits.append(self._removal(first, last))
                continue
            want = desired[name]
            try:
                have = _construct(value)
            except yaml.YAMLError:
                raise _Regenerate() from None
            if same(have, want):
                continue
            if isinstance(want, dict) and want and isinstance(value, MappingNode) and not value.flow_style and value.value:
                try:
                    edits.extend(self._update_mapping(value, want, step))
                    continue
                except _Regenerate:
                    pass
            inline = None
            single = (value.start_mark.index < value.end_mark.index
                      and self.lines.line_of(value.start_mark.index) == self.lines.line_of(value.end_mark.index - 1)
                      and not (isinstance(value, ScalarNode) and value.style in ("|", ">"))
                      and (isinstance(value, ScalarNode) or value.flow_style))
            if single:
                inline = render_inline(want, value.style if isinstance(value, ScalarNode) else None)
            if inline is not None:
                edits.append((value.start_mark.index, value.end_mark.index, inline))
            else:
                lines = render_entry(name, want, column, step)
                edits.append((self.lines.starts[first], self.lines.next_start(last), self._lines_text(lines, last)))
        added = []
        for name, want in desired.items():
            if name not in names:
                added.extend(render_entry(name, want, column, step))
        if added:
            text = self.newline.join(added)
            if self.lines.has_break(last_line):
                position = self.lines.next_start(last_line)
                edits.append((position, position, text + self.newline))
            elif last_line in self._block_scalar_ends():
                raise _Regenerate()
            else:
                edits.append((len(self.text), len(self.text), self.newline + text))
        return edits

    def _removal(self, first, last):
        """The edit removing lines ``first``..``last`` (see ``_eof_start`` for the end of the file)."""
        return (self.lines.starts[first], self.lines.next_start(last), "")

    def _eof_start(self, index):
        """Lines removed up to the end of a file without final line break: take the break before
        them too (adding a block and removing it again then restores the file), unless that
        break ends a block scalar's value."""
        line = self.lines.line_of(index)
        if line == 0 or self.lines.starts[line] != index or line - 1 in self._block_scalar_ends():
            return None
        return self.lines.ends[line - 1]

    # --- result ---------------------------------------------------------------------

    def _expected(self, route_id, route, name):
        """The data route ``route_id`` must hold after the edits (checked by ``result``)."""
        if route_id not in self._expect:
            self._expect[route_id] = (route, self._data(route, route_id, "route"), name)
        return self._expect[route_id][1]

    def result(self):
        """The new text; each edited route is parsed again and checked first."""
        if not self._edits.items:
            return self.text
        new_text = self._edits.apply()
        if self.text.rstrip().endswith("#END") and not new_text.rstrip().endswith("#END"):
            raise RouteFileError("internal check failed: the edit would move the #END marker of %s; file left untouched"
                                 % self.source)
        if self._shared_nodes():
            self._verify_file(new_text)
        else:
            for route_id, (route, expected, _name) in self._expect.items():
                self._verify_route(new_text, route_id, route, expected)
            self._verify_ids(new_text)
        return new_text

    def _verify_ids(self, new_text):
        """The whole new text loads and holds the same route ids in the same order (one compose, C parser)."""
        try:
            node = _compose(new_text)
        except yaml.YAMLError as exc:
            raise RouteFileError("internal check failed: the edited file %s would not load (%s); file left untouched" % (
                self.source, getattr(exc, "problem", None) or "YAML error")) from None
        for part in self.routes_key.split("."):
            hits = _mapping_get(node, part) if isinstance(node, MappingNode) else []
            node = hits[0][1] if len(hits) == 1 else None
        items = node.value if isinstance(node, SequenceNode) else None
        if items is None or [_route_id(item) for item in items] != [route_id for route_id, _node in self.routes]:
            raise RouteFileError("internal check failed: the edit would change the routes of %s (their ids or order); "
                                 "file left untouched" % self.source)

    def route_changes(self, new_text):
        """``(route_id, before, after)`` for each edited route whose text changes, in file order:
        the route's lines before the edits and the same lines in ``new_text`` (from ``result``)."""
        changes = []
        for route_id, route in self.routes:
            if route_id not in self._expect or self.by_id.get(route_id, [None])[0] is not route:
                continue
            if not any(owner == route_id for _start, _end, _text, owner, _seq in self._edits.items):
                continue
            first, last = self._window(route_id, route)
            start = self.lines.starts[first]
            end = self.lines.next_start(last)
            before = self.text[start:end]
            after = new_text[self._edits.shift(start):self._edits.shift(end)]
            if before != after:
                changes.append((route_id, before, after))
        return changes

    def _window(self, route_id, route):
        first, last = self._route_window(route)
        for start, end, _text, owner, _seq in self._edits.items:
            if owner == route_id:
                last = max(last, self.lines.line_of(max(end - 1, 0)))
        return first, last

    def _verify_route(self, new_text, route_id, route, expected):
        first, last = self._window(route_id, route)
        start = self.lines.starts[first]
        end = self.lines.next_start(last)
        for item_start, item_end, _text, owner, _seq in self._edits.items:
            if owner == route_id and not (start <= item_start and item_end <= end):
                raise RouteFileError("internal check failed: an edit of route %s falls outside it; file left untouched"
                                     % route_id)
        new_start = self._edits.shift(start)
        new_end = self._edits.shift(end)
        window = new_text[new_start:new_end]
        prefix = self.lines.column(route.start_mark.index)
        if window[:prefix].strip(" -"):
            raise RouteFileError("internal check failed: route %s moved; file left untouched" % route_id)
        window = " " * prefix + window[prefix:]
        try:
            data = yaml.load(window, Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise RouteFileError("internal check failed: route %s would not parse after the edit (%s); file left "
                                 "untouched" % (route_id, getattr(exc, "problem", None) or "YAML error"))
        if not same(data, expected):
            raise RouteFileError("internal check failed: route %s would not hold the expected data after the edit; "
                                 "file left untouched" % route_id)

    def _verify_file(self, new_text):
        try:
            new_doc = RouteFile(new_text, self.source, self.routes_key)
        except RouteFileError as exc:
            raise RouteFileError("internal check failed: the edited file would not load (%s); file left untouched" % exc)
        try:
            old_data = _construct(self.root)
            new_data = _construct(new_doc.root)
        except yaml.YAMLError as exc:
            raise RouteFileError("%s: the file uses YAML the safe loader cannot read (%s); file left untouched" % (
                self.source, getattr(exc, "problem", None) or "YAML error")) from None
        if len(new_doc.routes) != len(self.routes):
            raise RouteFileError("internal check failed: the edit would change the number of routes; file left untouched")
        container_old = _get_dotted(old_data, self.routes_key)
        for index, (route_id, _node) in enumerate(self.routes):
            if route_id in self._expect:
                container_old[index] = self._expect[route_id][1]
        if not same(old_data, new_data):
            raise RouteFileError("internal check failed: the edit would change data outside the edited blocks; "
                                 "file left untouched")


def _get_dotted(data, dotted):
    for part in dotted.split("."):
        data = data[part]
    return data

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``RouteFile``, the facade: read a plugin's state on routes, set or unset its block, get the new text."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import (
    commented,
    layout,
    locate,
    nodes,
    verify,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.document import Document, Fragment
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.errors import Regenerate, RouteFileError
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import MappingNode, ScalarNode
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.render import render_entry, render_inline
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import Edits
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PLACE_KEYS, PluginState, route_place

if TYPE_CHECKING:
    from yaml.nodes import Node

    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.layout import Doc
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import Edit
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import Config

    TextEdit = tuple[int, int, str]  # replace text[start:end] by the text

_MEMORY_RE = re.compile(r"[ \t]*:[ \t]*(?P<mark># )(?P<value>\{[ \t]*\}|~|null|Null|NULL)(?:[ \t]|$)")
_BARE_MEMORY_RE = re.compile(r"[ \t]*:[ \t]*(?P<mark> #)$")


class RouteFile:
    """A parsed route file; collects edits of one plugin's block in given routes.

    ``text``: the file's text; ``source``: its name for messages; ``routes_key``: the
    dotted path of the routes list (default: ``routes`` or ``apisixStandalone.routes``).
    """

    def __init__(self, text: str, source: str = "file", routes_key: str | None = None) -> None:
        self.doc = Document(text, source, routes_key)
        self.text = text
        self.source = source
        self.routes_key = self.doc.routes_key
        self._edits = Edits(text, lambda index: layout.eof_start(self.doc, index))
        self._expect: dict[
            str, tuple[MappingNode, Any, str]
        ] = {}  # route id -> (route node, data it must hold after the edits, plugin name)
        self.notes: list[str] = []  # what the caller must tell the user (lines kept that could not be placed)

    # --- reading --------------------------------------------------------------------

    def route_ids(self) -> list[str]:
        return [rid for rid, _node in self.doc.routes if rid is not None]

    def check_targets(self, route_ids: Sequence[str]) -> None:
        """Fail unless every id names exactly one route."""
        locate.check_targets(self.doc, route_ids)

    def duplicate_ids(self) -> list[str]:
        return sorted(rid for rid, found in self.doc.by_id.items() if len(found) > 1)

    def plugin_state(self, rid: str, name: str) -> PluginState:
        """The ``target.PluginState`` of plugin ``name`` on route ``rid``."""
        route = locate.route(self.doc, rid)
        plugins_key, plugins = locate.plugins(self.doc, rid, route)
        _key, value = locate.block(self.doc, rid, plugins, name)
        _range, copies = commented.of_route(self.doc, route, plugins_key, name)
        return PluginState(
            active=value is not None,
            config=self.doc.data(value, rid, "%s block" % name) if value is not None else None,
            commented=len(copies),
        )

    def route_place(self, rid: str) -> dict[str, list[str]]:
        """``target.route_place`` of route ``rid``: its ``uri``/``uris`` and ``host``/``hosts`` keys only (a key
        that cannot be read as data is left out)."""
        route = locate.route(self.doc, rid)
        data: dict[str, Any] = {}
        for _name, keys in PLACE_KEYS:
            for key in keys:
                pairs = nodes.mapping_get(route, key)
                if pairs:
                    try:
                        data[key] = nodes.construct(pairs[-1][1])
                    except nodes.yaml.YAMLError:
                        continue
        return route_place(data)

    def commented_config(self, rid: str, name: str) -> Any:
        """What the first commented-out copy of ``name`` on route ``rid`` holds (None: none, or unreadable)."""
        route = locate.route(self.doc, rid)
        plugins_key, _plugins = locate.plugins(self.doc, rid, route)
        _range, copies = commented.of_route(self.doc, route, plugins_key, name)
        return commented.data_of(self.doc, copies[0][0], copies[0][1], name) if copies else None

    def iter_plugin_configs(self, name: str) -> Iterator[tuple[str | None, Any]]:
        """(route id, config) of every route with an active ``name`` block (ids may be None)."""
        for rid, _route, value in nodes.plugin_blocks(self.doc.routes, name):
            try:
                data = nodes.construct(value)
            except nodes.yaml.YAMLError:
                continue
            yield rid, data

    def secret_texts(self, name: str, paths: Iterable[str]) -> set[str]:
        """Values and source texts of the given dotted paths in every ``name`` block."""
        found: set[str] = set()
        for _rid, _route, value in nodes.plugin_blocks(self.doc.routes, name):
            for path in paths:
                node: Node | None = value
                for part in path.split("."):
                    hits = nodes.mapping_get(node, part) if isinstance(node, MappingNode) else []
                    node = hits[-1][1] if hits else None
                if isinstance(node, ScalarNode) and node.value:
                    found.add(node.value)
                    source = self.text[node.start_mark.index : node.end_mark.index]
                    if node.style in ('"', "'"):
                        source = source[1:-1]
                    for piece in source.splitlines():
                        if piece.strip() and piece.strip() not in ("|", ">", "|-", ">-", "|+", ">+"):
                            found.add(piece.strip())
        return found

    # --- edits ----------------------------------------------------------------------

    def _add(self, start: int, end: int, text: str, owner: str) -> None:
        self._edits.add(start, end, text, owner)

    def _replace_lines(self, first: int, last: int, lines: Sequence[str], owner: str) -> None:
        doc = self.doc
        self._add(doc.lines.starts[first], doc.lines.next_start(last), layout.lines_text(doc, lines, last), owner)

    def _remove_lines(self, first: int, last: int, owner: str) -> None:
        self._add(*layout.removal(self.doc, first, last), owner)

    def _insert_after(self, line: int, lines: Sequence[str], owner: str) -> None:
        doc = self.doc
        text = doc.newline.join(lines)
        if doc.lines.has_break(line):
            self._add(doc.lines.next_start(line), doc.lines.next_start(line), text + doc.newline, owner)
            return
        if line in layout.block_scalar_ends(doc):
            raise RouteFileError(
                "%s: route '%s': the file ends with a block scalar (| or >) and no line break after it; "
                "lines added after it would change its value: end the file with a line break" % (self.source, owner)
            )
        self._add(len(self.text), len(self.text), doc.newline + text, owner)

    def _expected(self, rid: str, route: MappingNode, name: str) -> Any:
        """The data route ``rid`` must hold after the edits of plugin ``name`` (checked by ``result``)."""
        if rid not in self._expect:
            self._expect[rid] = (route, self.doc.data(route, rid, "route"), name)
        return self._expect[rid][1]

    def set_plugin(self, rid: str, name: str, config: Config) -> bool:
        """Make route ``rid`` hold ``name: config``; return True if the text changes."""
        doc = self.doc
        route = locate.route(doc, rid)
        plugins_key, plugins = locate.plugins(doc, rid, route)
        key, value = locate.block(doc, rid, plugins, name)
        if key is not None and nodes.same(doc.data(value, rid, "%s block" % name), config):
            return False
        locate.editable(doc, rid, route, plugins)
        expected = self._expected(rid, route, name)
        locate.not_shared(doc, rid, "plugins mapping", shallow=(route, plugins))
        if key is not None:
            self._replace_block(rid, plugins, key, value, name, config)
            expected["plugins"][name] = copy.deepcopy(config)
        elif plugins_key is None:
            self._add_plugins(rid, route, name, config)
            expected["plugins"] = {name: copy.deepcopy(config)}
        else:
            self._add_block(rid, plugins_key, plugins, name, config)
            expected["plugins"] = expected.get("plugins") or {}
            expected["plugins"][name] = copy.deepcopy(config)
        return True

    def _replace_block(self, rid: str, plugins: MappingNode, key: Node, value: Node, name: str, config: Config) -> None:
        """An existing block: change the keys that differ, or rewrite it whole."""
        doc = self.doc
        locate.not_shared(doc, rid, "%s block" % name, deep=(key, value))
        locate.own_lines(doc, rid, key, name)
        step = layout.config_step_of(doc, plugins) or layout.steps(doc)[1]
        edits = None
        if isinstance(value, MappingNode) and not value.flow_style and value.value:
            try:
                edits = update_mapping(doc, value, config, step)
            except Regenerate:
                edits = None
        if edits is None:
            first, last = layout.region(doc, key, value)
            column = doc.lines.column(key.start_mark.index)
            self._replace_lines(first, last, render_entry(name, config, column, step), rid)
            return
        for start, end, text in edits:
            self._add(start, end, text, rid)

    def _add_plugins(self, rid: str, route: MappingNode, name: str, config: Config) -> None:
        """A route without ``plugins:``: one is added after its last key (or a commented-out one restored)."""
        doc = self.doc
        plugins_step, config_step = layout.steps(doc)
        route_col = doc.lines.column(route.start_mark.index)
        lines = [" " * route_col + "plugins:"] + render_entry(name, config, route_col + plugins_step, config_step)
        commented_range, copies = commented.of_route(doc, route, None, name)
        if copies and commented_range is not None and commented.holds_only(doc, commented_range, copies):
            # a commented-out `plugins:` holding only this plugin: the new block takes its place, its lines kept
            restored = self._from_copy(rid, commented_range, route_col, config_step, ("plugins", name), config)
            if restored is not None:
                self._replace_lines(commented_range[0], commented_range[1], restored, rid)
                return
            self._insert_after(layout.route_window(doc, route)[1], lines, rid)
            return
        if copies:
            restored = self._from_copy(rid, copies[0], route_col + plugins_step, config_step, (name,), config)
            if restored is not None:
                lines = lines[:1] + restored
                self._remove_lines(copies[0][0], copies[0][1], rid)
            for first, last in copies[1:]:
                self._remove_lines(first, last, rid)
        self._insert_after(layout.route_window(doc, route)[1], lines, rid)

    def _from_copy(
        self,
        rid: str,
        copy_range: tuple[int, int],
        column: int,
        step: int,
        path: tuple[str, ...],
        config: Config,
    ) -> list[str] | None:
        """The lines of the commented-out copy ``copy_range`` made active at ``column`` and updated key by
        key to hold ``config`` under ``path`` (its keys: ``(name,)`` or ``("plugins", name)``): its other
        lines (comments, commented snippets inside it) stay where they are, so that commenting the block
        out again gives them back. None if the copy cannot be read so: a note says that it is kept."""
        doc = self.doc
        first, last = copy_range
        out = commented.uncomment(doc, first, last, column)
        edits = None
        if out is not None:
            try:
                fragment = Fragment(out, doc.newline)
            except nodes.yaml.YAMLError:
                fragment = None
            node = fragment.root if fragment is not None else None
            for part in path:
                hits = nodes.mapping_get(node, part) if isinstance(node, MappingNode) and not node.flow_style else []
                node = hits[0][1] if len(hits) == 1 else None
            if isinstance(node, MappingNode) and not node.flow_style and node.value:
                try:
                    edits = update_mapping(cast(Fragment, fragment), node, config, step)  # node is in it
                except Regenerate:
                    edits = None
        if edits is None:
            self.notes.append(
                "%s: route '%s': the commented-out %s block at lines %d-%d cannot be read as YAML once uncommented "
                "(or repeats a key); it is kept as it is beside the new block: merge or delete it by hand"
                % (self.source, rid, path[-1], first + 1, last + 1)
            )
            return None
        text = Edits(cast(Fragment, fragment).text)  # the edits are edits of it
        for start, end, new in edits:
            text.add(start, end, new, rid)
        return text.apply()[: -len(doc.newline)].split(doc.newline)

    def _add_block(self, rid: str, plugins_key: Node, plugins: Node, name: str, config: Config) -> None:
        """A route with ``plugins:`` but no block: it goes right under ``plugins:`` (or replaces a commented copy)."""
        doc = self.doc
        plugins_step, config_step = layout.steps(doc)
        if isinstance(plugins, MappingNode) and plugins.value:
            column = doc.lines.column(plugins.start_mark.index)
            step = layout.config_step_of(doc, plugins) or config_step
        else:
            column = doc.lines.column(plugins_key.start_mark.index) + plugins_step
            step = config_step
        copies = commented.copies(doc, plugins_key, name, plugins)
        copy_column = column
        if not (isinstance(plugins, MappingNode) and plugins.value):
            self._remember_plugins(rid, plugins_key, plugins)
            natural = commented.natural_column(doc, copies[0][0]) if copies else column
            if natural > doc.lines.column(plugins_key.start_mark.index):
                copy_column = natural  # the copy's own column: commenting it out again gives back its lines
        restored = self._from_copy(rid, copies[0], copy_column, step, (name,), config) if copies else None
        if restored is None:
            self._insert_after(
                doc.lines.line_of(plugins_key.end_mark.index), render_entry(name, config, column, step), rid
            )
            return
        self._replace_lines(copies[0][0], copies[0][1], restored, rid)
        for first, last in copies[1:]:
            self._remove_lines(first, last, rid)

    # An empty ``plugins`` that gets the block keeps its old value in a comment on its line, so that
    # removing or commenting out the block gives the line back: ``plugins: {}`` becomes ``plugins: # {}``
    # (``~`` and ``null`` alike), a bare ``plugins:`` becomes ``plugins: #``.

    def _remember_plugins(self, rid: str, plugins_key: Node, plugins: Node) -> None:
        doc = self.doc
        line = doc.lines.line_of(plugins_key.start_mark.index)
        if plugins.start_mark.index < plugins.end_mark.index:
            self._add(plugins.start_mark.index, plugins.start_mark.index, "# ", rid)
        elif doc.lines.content(line).strip() == plugins_key.value + ":":
            end = doc.lines.ends[line]
            self._add(end, end, " #", rid)

    def _plugins_memory(self, plugins_key: Node) -> tuple[int, int, dict[str, Any] | None] | None:
        """``(start, end, value)``: the comment that ``_remember_plugins`` left on the ``plugins:`` line (to
        delete) and the value the line then holds again, or None."""
        doc = self.doc
        line = doc.lines.line_of(plugins_key.start_mark.index)
        content = doc.lines.content(line)
        start = doc.lines.starts[line]
        if not content[: plugins_key.start_mark.index - start].strip(" ") == "":
            return None
        at = plugins_key.end_mark.index - start
        match = _MEMORY_RE.match(content, at)
        if match is not None:
            return start + match.start("mark"), start + match.end("mark"), {} if "{" in match.group("value") else None
        match = _BARE_MEMORY_RE.match(content, at)
        if match is not None:
            return start + match.start("mark"), start + match.end("mark"), None
        return None

    def unset_plugin(self, rid: str, name: str, style: str = "remove") -> bool:
        """Remove (``style='remove'``) or comment out (``'comment'``) the block; True if the text changes."""
        if style not in ("remove", "comment"):
            raise ValueError("style must be remove or comment")
        doc = self.doc
        route = locate.route(doc, rid)
        plugins_key, plugins = locate.plugins(doc, rid, route)
        key, value = locate.block(doc, rid, plugins, name)
        if key is None:
            return False
        locate.editable(doc, rid, route, plugins)
        locate.not_shared(doc, rid, "plugins mapping", shallow=(route, plugins))
        locate.not_shared(doc, rid, "%s block" % name, deep=(key, value))
        locate.own_lines(doc, rid, key, name)
        expected = self._expected(rid, route, name)
        first, last = layout.region(doc, key, value)
        del expected["plugins"][name]
        line = doc.lines.line_of(plugins_key.start_mark.index)
        drop_plugins_line = False
        if not expected["plugins"]:
            memory = self._plugins_memory(plugins_key)
            if memory is not None:
                # the `plugins: {}` / `plugins:` the route had before the block was added comes back
                start, end, value = memory
                self._add(start, end, "", rid)
                expected["plugins"] = value
            else:
                bare = doc.lines.content(line).strip() == plugins_key.value + ":"
                own = not self.text[doc.lines.starts[line] : plugins_key.start_mark.index].strip(" ")
                drop_plugins_line = bare and own
                if drop_plugins_line:
                    del expected["plugins"]
                else:
                    expected["plugins"] = None
        if style == "comment":
            for first_copy, last_copy in commented.copies(doc, plugins_key, name, plugins):
                self._remove_lines(first_copy, last_copy, rid)
            # a bare `plugins:` left with nothing is commented out too (null plugins break APISIX's schema)
            numbers = list(range(first, last + 1))
            if drop_plugins_line:
                numbers = [line] + numbers if line + 1 < first else list(range(line, last + 1))
            for number in numbers:
                start = doc.lines.starts[number]
                self._add(start, start, "#", rid)
        elif drop_plugins_line and line + 1 == first:
            self._remove_lines(line, last, rid)
        else:
            self._remove_lines(first, last, rid)
            if drop_plugins_line:
                self._remove_lines(line, line, rid)
        return True

    # --- result ---------------------------------------------------------------------

    def result(self) -> str:
        """The new text; each edited route is parsed again and checked first."""
        if not self._edits.items:
            return self.text
        new_text = self._edits.apply()
        expected = {rid: (route, data) for rid, (route, data, _name) in self._expect.items()}
        verify.check(self.doc, self._edits, new_text, expected)
        return new_text

    def route_changes(self) -> list[tuple[str, str, str]]:
        """``(route_id, before, after)`` for each edited route whose text changes, in file order: only the
        lines the edits touch (the plugin's block, its commented copies, the ``plugins:`` line), before and
        after, with the ``plugins:`` line and the block's key line for context. Nothing else of the route is shown:
        other
        plugins, upstreams and headers may hold credentials the module does not know of."""
        changes: list[tuple[str, str, str]] = []
        for rid, route in self.doc.routes:
            edits = [item for item in self._edits.merged() if item.owner == rid]
            found = self.doc.by_id.get(rid) if rid is not None else None
            if not edits or not found or found[0] is not route:
                continue
            rid, route = cast(str, rid), cast(MappingNode, route)  # a route with an id
            spans = [self._span(item) for item in edits]
            plugins_key, plugins = locate.plugins(self.doc, rid, route)
            block_key, _value = locate.block(self.doc, rid, plugins, self._expect[rid][2])
            for key in (plugins_key, block_key):
                if key is not None:
                    line = self.doc.lines.line_of(key.start_mark.index)
                    spans.append((self.doc.lines.starts[line], self.doc.lines.next_start(line)))
            before_parts: list[str] = []
            after_parts: list[str] = []
            for start, end in _merge(spans):
                before_parts.append(self.text[start:end])
                after_parts.append(
                    _apply(self.text, start, end, [item for item in edits if start <= item.start and item.end <= end])
                )
            before, after = "".join(before_parts), "".join(after_parts)
            if before != after:
                changes.append((rid, before, after))
        return changes

    def _span(self, item: Edit) -> tuple[int, int]:
        """The old-text range an edit shows: whole lines, or just the place of inserted lines."""
        lines = self.doc.lines
        if item.start == item.end:
            at_line_start = lines.starts[lines.line_of(item.start)] == item.start
            if (at_line_start and item.text.endswith(("\n", "\r"))) or (
                item.start == len(self.text) and item.text.startswith(("\n", "\r"))
            ):
                return item.start, item.start
        line = lines.line_of(item.start)
        start = item.start if item.text == "" and item.start == lines.ends[line] else lines.starts[line]
        last = lines.line_of(max(item.end - 1, item.start))
        end = (
            item.end
            if item.end > item.start and item.end in (lines.next_start(last), len(self.text))
            else lines.next_start(last)
        )
        return start, max(end, item.end)


def update_mapping(doc: Doc, node: MappingNode, desired: Mapping[str, Any], step: int) -> list[TextEdit]:
    """Edits turning block mapping ``node`` of ``doc`` into ``desired`` key by key, keeping unchanged lines
    (and the comment lines after a key that goes or is rewritten: they may be commented-out snippets)."""
    existing: list[tuple[str, ScalarNode, Node]] = []
    for key, value in node.value:
        if not isinstance(key, ScalarNode) or key.tag == nodes.MERGE_TAG:
            raise Regenerate()
        existing.append((key.value, key, value))
    names = [name for name, _key, _value in existing]
    if len(set(names)) != len(names):
        raise Regenerate()
    column = doc.lines.column(node.start_mark.index)
    edits: list[TextEdit] = []
    last_line: int | None = None
    for name, key, value in existing:
        first, last = layout.region(doc, key, value)
        value_last = doc.lines.line_of(max(layout.last_index(doc, key), layout.last_index(doc, value)))
        last_line = last
        if doc.text[doc.lines.starts[first] : key.start_mark.index].strip(" "):
            raise Regenerate()
        if name not in desired:
            edits.append(layout.removal(doc, first, value_last))
            continue
        want = desired[name]
        try:
            have = nodes.construct(value)
        except nodes.yaml.YAMLError:
            raise Regenerate() from None
        if nodes.same(have, want):
            continue
        if isinstance(want, dict) and want and isinstance(value, MappingNode) and not value.flow_style and value.value:
            try:
                edits.extend(update_mapping(doc, value, want, step))
                continue
            except Regenerate:
                pass
        edits.append(value_edit(doc, name, value, want, first, value_last, column, step))
    added: list[str] = []
    for name, want in desired.items():
        if name not in names:
            added.extend(render_entry(name, want, column, step))
    if added:
        text = doc.newline.join(added)
        if doc.lines.has_break(cast(int, last_line)):  # node holds keys
            position = doc.lines.next_start(cast(int, last_line))
            edits.append((position, position, text + doc.newline))
        elif last_line in layout.block_scalar_ends(doc):
            raise Regenerate()
        else:
            edits.append((len(doc.text), len(doc.text), doc.newline + text))
    return edits


def value_edit(
    doc: Doc, name: str, value: Node, want: object, first: int, last: int, column: int, step: int
) -> TextEdit:
    """One key's new value: in place when it is a one-line value, else the key's lines rewritten."""
    single = (
        value.start_mark.index < value.end_mark.index
        and doc.lines.line_of(value.start_mark.index) == doc.lines.line_of(value.end_mark.index - 1)
        and not (isinstance(value, ScalarNode) and value.style in ("|", ">"))
        and (isinstance(value, ScalarNode) or value.flow_style)  # type: ignore[attr-defined]  # a collection
    )
    if single:
        inline = render_inline(want, value.style if isinstance(value, ScalarNode) else None)
        if inline is not None:
            return value.start_mark.index, value.end_mark.index, inline
    lines = render_entry(name, want, column, step)
    return doc.lines.starts[first], doc.lines.next_start(last), layout.lines_text(doc, lines, last)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges, overlapping or touching ones joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _apply(text: str, start: int, end: int, edits: Iterable[Edit]) -> str:
    """``text[start:end]`` with ``edits`` (inside that range, sorted, not overlapping) applied."""
    out: list[str] = []
    position = start
    for item in edits:
        out.append(text[position : item.start])
        out.append(item.text)
        position = item.end
    out.append(text[position:end])
    return "".join(out)

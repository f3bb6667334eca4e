# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The text of a route file: its line table, and the edits applied to it in one pass."""

from __future__ import annotations

import bisect
import re
from collections import namedtuple
from collections.abc import Callable

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.errors import RouteFileError

BREAK_RE = re.compile(r"\r\n|\r|\n")

Edit = namedtuple("Edit", "start end text owner seq")
"""Replace ``text[start:end]`` by ``text``; ``owner`` is the route id, ``seq`` the order of adding."""


class Lines:
    """Line table of a text: line starts, content ends, indentation (index based)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []
        for match in BREAK_RE.finditer(text):
            self.ends.append(match.start())
            self.starts.append(match.end())
        self.ends.append(len(text))
        self.count = len(self.starts)

    def line_of(self, index: int) -> int:
        return bisect.bisect_right(self.starts, index) - 1

    def column(self, index: int) -> int:
        return index - self.starts[self.line_of(index)]

    def content(self, line: int) -> str:
        return self.text[self.starts[line] : self.ends[line]]

    def has_break(self, line: int) -> bool:
        return self.ends[line] < len(self.text)

    def next_start(self, line: int) -> int:
        return self.starts[line + 1] if line + 1 < self.count else len(self.text)

    def indent(self, line: int) -> int:
        content = self.content(line)
        return len(content) - len(content.lstrip(" "))

    def blank(self, line: int) -> bool:
        return not self.content(line).strip()

    def is_comment(self, line: int) -> bool:
        return self.content(line).lstrip(" \t").startswith("#")


class Edits:
    """Text replacements on the original text, applied in one pass.

    Deletions may overlap and merge; anything else overlapping is a bug. When the
    merged edits delete the last lines of a file that has no final line break,
    ``eof_start`` (line start -> earlier index or None) may move the deletion's start
    back over the break before them, so that the file still ends without one.
    """

    def __init__(self, text: str, eof_start: Callable[[int], int | None] | None = None) -> None:
        self.text = text
        self.items: list[Edit] = []
        self._merged: list[Edit] | None = None
        self._eof_start = eof_start

    def add(self, start: int, end: int, text: str, owner: str | None) -> None:
        self.items.append(Edit(start, end, text, owner, len(self.items)))
        self._merged = None

    def owned_by(self, owner: str | None) -> list[Edit]:
        return [item for item in self.items if item.owner == owner]

    def merged(self) -> list[Edit]:
        """Edits sorted, overlapping deletions merged into their neighbour."""
        if self._merged is None:
            out: list[Edit] = []
            for item in sorted(self.items, key=lambda item: (item.start, item.end, item.seq)):
                if out and item.text == "" and out[-1].text == "" and item.start <= out[-1].end:
                    out[-1] = out[-1]._replace(end=max(out[-1].end, item.end))
                    continue
                if out and item.start < out[-1].end:
                    previous = out[-1]
                    overlap = self.text[item.start : previous.end]
                    if item.text == "" and previous.text.endswith(overlap):
                        out[-1] = previous._replace(
                            end=max(previous.end, item.end), text=previous.text[: len(previous.text) - len(overlap)]
                        )
                        continue
                    if previous.text == "" and item.start >= previous.start and item.text == "":
                        # a deletion inside a deleted range
                        out[-1] = previous._replace(end=max(previous.end, item.end))
                        continue
                    raise RouteFileError("internal error: overlapping edits in route '%s'" % item.owner)
                out.append(item)
            if (
                out
                and out[-1].text == ""
                and out[-1].end == len(self.text)
                and self._eof_start is not None
                and not self.text.endswith(("\n", "\r"))
            ):
                start = self._eof_start(out[-1].start)
                if start is not None and (len(out) < 2 or out[-2].end <= start):
                    out[-1] = out[-1]._replace(start=start)
            self._merged = out
        return self._merged

    def apply(self) -> str:
        out: list[str] = []
        position = 0
        for item in self.merged():
            out.append(self.text[position : item.start])
            out.append(item.text)
            position = item.end
        out.append(self.text[position:])
        return "".join(out)

    def shift(self, index: int) -> int:
        """Where ``index`` of the original text lands: after every edit that ends at or before it."""
        delta = 0
        for item in self.merged():
            if item.end <= index:
                delta += len(item.text) - (item.end - item.start)
        return index + delta

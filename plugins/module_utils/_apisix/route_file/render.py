# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""New YAML text: scalars, keys, mappings and sequences, in the guide's style (block style,
strings in double quotes) or in the style of the value they replace."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import plain_is_str

_PLAIN_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML11_WORDS = frozenset(("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"))
_NONPRINTABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _escape_nonprintable(match: re.Match[str]) -> str:
    return "\\u%04x" % ord(match.group(0))


def double_quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON escapes, which YAML shares)."""
    return _NONPRINTABLE_RE.sub(_escape_nonprintable, json.dumps(value, ensure_ascii=False))


def _plain_ok(value: str) -> bool:
    if not value or value != value.strip() or _NONPRINTABLE_RE.search(value) or "\n" in value or "\r" in value:
        return False
    if value[0] in "-?:,[]{}#&*!|>'\"%@`" or ": " in value or " #" in value or value.endswith(":"):
        return False
    return plain_is_str(value)


def render_scalar(value: object, style: str | None = '"') -> str:
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


def render_key_text(key: object) -> str:
    text = str(key)
    if _PLAIN_KEY_RE.match(text) and text.lower() not in _YAML11_WORDS:
        return text
    return double_quoted(text)


def render_inline(value: object, style: str | None = '"') -> str | None:
    """One-line rendering of ``value``, or None if it needs block lines."""
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (dict, list, tuple)) for item in value):
            return None
        return "[%s]" % ", ".join(render_scalar(item) for item in value)
    return render_scalar(value, style)


def render_entry(key: object, value: Any, indent: int, step: int) -> list[str]:
    """Lines (without line breaks) for ``key: value`` at column ``indent``."""
    head = " " * indent + render_key_text(key) + ":"
    inline = render_inline(value)
    if inline is not None:
        return [head + " " + inline]
    if isinstance(value, dict):
        return [head] + render_mapping(value, indent + step, step)
    return [head] + _render_sequence(value, indent + step, step)


def render_mapping(value: Mapping[Any, Any], indent: int, step: int) -> list[str]:
    lines: list[str] = []
    for key, item in value.items():
        lines.extend(render_entry(key, item, indent, step))
    return lines


def _render_sequence(value: Iterable[Any], indent: int, step: int) -> list[str]:
    lines: list[str] = []
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
        body[0] = pad + "- " + body[0][indent + 2 :]
        lines.extend(body)
    return lines

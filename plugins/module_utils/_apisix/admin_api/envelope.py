# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Response bodies of the APISIX Admin API, 3.x and 2.x.

3.x: one object is ``{"key", "value", "createdIndex", "modifiedIndex"}``, a list
``{"list": [object, ...], "total": N}``. 2.x (and ``admin_api_version: v2``) wraps both in
``{"action": ..., "node": ...}``: one object is ``node`` itself, a list ``node.nodes`` (an empty
list may arrive as ``{}``, as Lua's JSON encoder writes an empty table). Errors carry
``error_msg`` (validation, conflicts), ``message`` (404 ``Key not found``) or ``description``
(401: why the key was refused).
"""

from __future__ import annotations

from typing import Any


class EnvelopeError(ValueError):
    """A body that is neither a 3.x nor a 2.x Admin API answer."""


def is_v2(body: object) -> bool:
    """Whether ``body`` is a 2.x envelope."""
    return isinstance(body, dict) and isinstance(body.get("node"), dict) and "action" in body


def _item(node: object, what: str) -> dict[str, Any]:
    if not isinstance(node, dict) or not isinstance(node.get("value"), dict):
        raise EnvelopeError("%s: the answer holds no route object (no 'value' mapping)" % what)
    return node["value"]


def parse_item(body: Any, what: str = "answer") -> tuple[dict[str, Any], bool]:
    """``(route value, 2.x?)`` of a GET/PUT/PATCH answer for one object."""
    if is_v2(body):
        return _item(body["node"], what), True
    return _item(body, what), False


def parse_list(body: Any, what: str = "answer") -> tuple[list[dict[str, Any]], bool]:
    """``(route values, 2.x?)`` of a GET answer for a collection."""
    if is_v2(body):
        nodes = body["node"].get("nodes")
        if nodes in (None, {}):
            return [], True
        if not isinstance(nodes, list):
            raise EnvelopeError("%s: node.nodes is not a list" % what)
        return [_item(node, what) for node in nodes], True
    if not isinstance(body, dict) or "list" not in body:
        raise EnvelopeError("%s: the answer is neither {list, total} (3.x) nor {action, node} (2.x)" % what)
    items = body["list"]
    if items in (None, {}):
        return [], False
    if not isinstance(items, list):
        raise EnvelopeError("%s: 'list' is not a list" % what)
    return [_item(item, what) for item in items], False


def error_text(body: object) -> str:
    """What APISIX said about a failed request (``error_msg``, ``message``, ``description``), or ``""``."""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    for key in ("error_msg", "message", "description"):
        value = body.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    return ": ".join(parts)

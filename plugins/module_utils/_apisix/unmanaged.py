# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys of an existing ``openid-connect`` block that the module does not manage (``unmanaged_keys``).

The module manages the keys its options write: the guide's keys (``discovery``, ``realm``, ``client_id``,
``client_secret``, ...), ``enable`` and APISIX's switch-off flag (``_meta.disable`` in 3.x, ``disable`` in
2.x), and whatever ``extra_config``/``secret_config`` set. Any other key found in the block (active or
commented out), such as ``ssl_verify``, ``introspection_interval``, ``session.secret`` or ``_meta.priority``,
was added by hand: it is kept (``keep``, the default) or dropped (``remove``), and in both cases named
(by its dotted path, never its value) in one warning per run.

An ``enable: true`` the options do not write (the CX chart's house style) is left as it is: stock APISIX
ignores the key, and the line comes back when the block is commented out again.

Both targets use this unit: the route file (``file_target``) and the Admin API (``admin_api.target``),
which passes ``is_default`` so that a schema default the server stored by itself (servers before 3.14)
is not taken for a hand-added key (``admin_api.compare.stored_default``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted

if TYPE_CHECKING:
    KeyPath = tuple[str, ...]  # a key path in a plugin config: ("session", "secret")
    IsDefault = Callable[[KeyPath, Any], bool]  # (key path, value) -> whether the server stored it by itself

CHOICES = ("keep", "remove")
_MANAGED = frozenset(oidc._DIRECT_OPTIONS) | {"enable"}  # pylint: disable=protected-access


def _never_default(_path: KeyPath, _value: object) -> bool:
    return False


def managed_paths(version: tuple[int, ...]) -> set[KeyPath]:
    """The dotted key paths the module's options write, as tuples."""
    return {(key,) for key in _MANAGED} | {tuple(oidc.disable_flag(version))}


def _leaves(value: object, path: KeyPath, is_default: IsDefault) -> list[KeyPath]:
    if isinstance(value, dict) and value:
        out: list[KeyPath] = []
        for key, item in value.items():
            here = path + (str(key),)
            if not is_default(here, item):
                out.extend(_leaves(item, here, is_default))
        return out or [path]
    return [path]


def _merge(  # pylint: disable=too-many-arguments
    existing: Mapping[str, Any],
    desired: dict[str, Any],
    path: KeyPath,
    managed: set[KeyPath],
    keep: bool,
    found: list[KeyPath],
    is_default: IsDefault,
) -> dict[str, Any]:
    out = copy.deepcopy(desired)
    for key, value in existing.items():
        here = path + (str(key),)
        if key in desired:
            if isinstance(value, dict) and isinstance(desired[key], dict) and here not in managed:
                out[key] = _merge(value, desired[key], here, managed, keep, found, is_default)
            continue
        if here in managed:
            if here == ("enable",) and value is True:
                out[key] = True  # the chart's `enable: true`, which APISIX ignores: left as it is
            continue
        if isinstance(value, dict) and any(other[: len(here)] == here for other in managed):
            kept = _merge(value, {}, here, managed, keep, found, is_default)  # `_meta` around `_meta.disable`
            if kept:
                out[key] = kept
            continue
        if is_default(here, value):
            continue  # what the server stored by itself, not a hand-added key
        found.extend(_leaves(value, here, is_default))
        if keep:
            out[key] = copy.deepcopy(value)
    return out


def merge(
    existing: object,
    desired: Any,
    version: tuple[int, ...],
    keep: bool = True,
    is_default: IsDefault | None = None,
) -> tuple[Any, list[str]]:
    """``(config to write, unmanaged key paths)``: ``desired`` plus (``keep``) the keys of ``existing``
    that the module does not manage; the paths are dotted strings, in the block's order. ``is_default``
    (key path tuple, value -> bool) names values that are no hand-added keys (neither kept nor listed)."""
    if not isinstance(existing, dict) or not isinstance(desired, dict):
        return desired, []
    found: list[KeyPath] = []
    config = _merge(existing, desired, (), managed_paths(version), keep, found, is_default or _never_default)
    return config, [".".join(path) for path in found]


def warning(found: Mapping[str, Sequence[str]], keep: bool, where: str | None = None, limit: int = 10) -> str | None:
    """The one warning of a run about unmanaged keys (``found``: route id -> key paths), or None;
    ``where`` (the Admin API's URL) is named when given."""
    pairs = [(route_id, paths) for route_id, paths in found.items() if paths]
    if not pairs:
        return None
    shown = "; ".join("route %s: %s" % (quoted([route_id]), ", ".join(paths)) for route_id, paths in pairs[:limit])
    if len(pairs) > limit:
        shown += "; and %d more route(s)" % (len(pairs) - limit)
    if where:
        shown = "at %s: %s" % (where, shown)
    if keep:
        return (
            "openid-connect keys the module does not manage were kept as they are (unmanaged_keys=keep): %s; "
            "set unmanaged_keys=remove to drop them, or set them through extra_config/secret_config" % shown
        )
    return "openid-connect keys the module does not manage were removed (unmanaged_keys=remove): %s" % shown

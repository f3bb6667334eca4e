# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a route's stored ``openid-connect`` config already is the one the module writes.

The module writes the whole plugin config (``PATCH .../plugins/openid-connect`` or a PUT of the
route replace it). Keys of the stored config that it does not manage (hand-added ones such as
``ssl_verify`` or ``session.secret``: ``_apisix.unmanaged``, shared with route files) are merged into
what it writes (``unmanaged_keys=keep``) or dropped (``remove``). Servers before 3.14 store the schema's
defaults and return them on GET: a stored key the module does not write counts as the same
when its value is the schema default of the release (top level: ``schema.DEFAULTS`` of the
release; nested: the defaults of the newest schema); it is no hand-added key either. Any
other difference is a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import schema as facts

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import Config
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.unmanaged import IsDefault, KeyPath

_ABSENT = object()


def _nested_default(schema: object, key: str) -> tuple[Any, Any]:
    sub = (schema or {}).get("properties", {}).get(key) if isinstance(schema, dict) else None
    return (sub.get("default", _ABSENT) if isinstance(sub, dict) else _ABSENT), sub


def _same(have: object, want: object, schema: object, defaults: Mapping[str, Any] | None) -> bool:
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        for key, value in want.items():
            _default, sub = _nested_default(schema, key)
            if key not in have or not _same(have[key], value, sub, None):
                return False
        for key, value in have.items():
            if key in want:
                continue
            default = defaults.get(key, _ABSENT) if defaults is not None else _nested_default(schema, key)[0]
            if default is _ABSENT or default != value:
                return False
        return True
    if isinstance(want, (list, tuple)):
        return isinstance(have, list) and len(have) == len(want) and all(a == b for a, b in zip(have, want))
    if isinstance(want, bool) or isinstance(have, bool):
        return type(have) is type(want) and have == want
    return have == want


def holds(current: object, desired: Config, apisix_version: str) -> bool:
    """True when the stored config ``current`` (a GET's ``plugins['openid-connect']``) is ``desired``
    on every key the module manages, stored defaults of ``apisix_version`` aside."""
    if not isinstance(current, dict):
        return False
    _version, tag, _notes = oidc.resolve_version(apisix_version)
    return _same(current, desired, facts.SCHEMA, dict(facts.DEFAULTS.get(tag, {})))


def without_stored_defaults(current: Any, desired: object, apisix_version: str) -> Any:
    """``current`` without the top-level keys ``desired`` lacks whose value is the release's schema default
    (what a server before 3.14 stored by itself): what the diff shows as before."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return current
    _version, tag, _notes = oidc.resolve_version(apisix_version)
    defaults = facts.DEFAULTS.get(tag, {})
    return {
        key: value for key, value in current.items() if key in desired or key not in defaults or defaults[key] != value
    }


def stored_default(apisix_version: str) -> IsDefault:
    """``is_default(path, value)`` for :func:`unmanaged.merge`: the value at ``path`` (a tuple of keys) is the
    schema default of the release (top level: ``schema.DEFAULTS`` of the release; nested: the defaults of the
    newest schema), which servers before 3.14 store by themselves: no hand-added key."""
    _version, tag, _notes = oidc.resolve_version(apisix_version)
    defaults = dict(facts.DEFAULTS.get(tag, {}))

    def is_default(path: KeyPath, value: object) -> bool:
        if len(path) == 1:
            default = defaults.get(path[0], _ABSENT)
        else:
            schema, default = facts.SCHEMA, _ABSENT
            for key in path:
                default, schema = _nested_default(schema, key)
        return default is not _ABSENT and default == value

    return is_default

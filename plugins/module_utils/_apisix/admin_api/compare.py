# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a route's stored ``openid-connect`` config already is the one the module writes.

The module writes the whole plugin config (``PATCH .../plugins/openid-connect`` or a PUT of the
route replace it). Keys of the stored config that it does not manage (:func:`unmanaged`: hand-added
ones such as ``ssl_verify`` or ``session.secret``) are merged into what it writes
(``unmanaged_keys=keep``) or dropped (``remove``). Servers before 3.14 store the schema's
defaults and return them on GET: a stored key the module does not write counts as the same
when its value is the schema default of the release (top level: ``schema.DEFAULTS`` of the
release; nested: the defaults of the newest schema); it is no hand-added key either. Any
other difference is a change.
"""

from __future__ import annotations

import copy

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import schema as facts

_ABSENT = object()


def _nested_default(schema, key):
    sub = (schema or {}).get("properties", {}).get(key) if isinstance(schema, dict) else None
    return (sub.get("default", _ABSENT) if isinstance(sub, dict) else _ABSENT), sub


def _same(have, want, schema, defaults):
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


def holds(current, desired, apisix_version):
    """True when the stored config ``current`` (a GET's ``plugins['openid-connect']``) is ``desired``
    on every key the module manages, stored defaults of ``apisix_version`` aside."""
    if not isinstance(current, dict):
        return False
    _version, tag, _notes = oidc.resolve_version(apisix_version)
    return _same(current, desired, facts.SCHEMA, dict(facts.DEFAULTS.get(tag, {})))


def without_stored_defaults(current, desired, apisix_version):
    """``current`` without the top-level keys ``desired`` lacks whose value is the release's schema default
    (what a server before 3.14 stored by itself): what the diff shows as before."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return current
    _version, tag, _notes = oidc.resolve_version(apisix_version)
    defaults = facts.DEFAULTS.get(tag, {})
    return {
        key: value for key, value in current.items() if key in desired or key not in defaults or defaults[key] != value
    }


# Keys of the block the module's options set (and so manage: an option that does not produce one removes it),
# beside what extra_config/secret_config set: the direct options, the guide's enable key, the switch-off flag.
MANAGED_KEYS = frozenset(
    (
        "discovery",
        "realm",
        "client_id",
        "client_secret",
        "bearer_only",
        "token_signing_alg_values_expected",
        "set_access_token_header",
        "set_userinfo_header",
        "audience",
        "required_scopes",
        "enable",
        "disable",  # the 2.x switch-off flag
    )
)
_MANAGED_META = frozenset(("disable",))  # _meta.disable, the 3.x switch-off flag; other _meta keys are not managed


def _leaves(value, schema, path):
    """Dotted paths of the leaves of ``value`` (a kept key), nested schema defaults aside."""
    if not isinstance(value, dict) or not value:
        return [path]
    paths = []
    for key, item in value.items():
        default, sub = _nested_default(schema, key)
        if default is not _ABSENT and default == item:
            continue
        paths.extend(_leaves(item, sub, "%s.%s" % (path, key)))
    return paths or [path]


def _unmanaged(have, want, schema, defaults, managed, where, paths):
    kept = {}
    for key, value in have.items():
        path = "%s.%s" % (where, key) if where else str(key)
        if key in managed:
            continue
        default, sub = _nested_default(schema, key)
        if defaults is not None:
            default = defaults.get(key, _ABSENT)
        if key == "_meta" and not where:
            sub_managed, sub = _MANAGED_META, None
        else:
            sub_managed = ()
        if key in want or sub_managed:
            wanted = want.get(key)
            if isinstance(value, dict) and (wanted is None or isinstance(wanted, dict)):
                part = _unmanaged(value, wanted or {}, sub, None, sub_managed, path, paths)
                if part:
                    kept[key] = part
            continue
        if default is not _ABSENT and default == value:
            continue  # a schema default the server stored by itself: not a hand-added key
        kept[key] = value
        paths.extend(_leaves(value, sub, path))
    return kept


def unmanaged(current, desired, apisix_version):
    """``(kept, paths)``: what of the stored config ``current`` the module does not manage (keys that neither
    its options nor ``desired`` set, such as a hand-added ``ssl_verify`` or ``_meta.priority``), as a mapping to
    merge into ``desired``, and the dotted paths of its leaves (``session.secret``). A key whose value is the
    release's schema default (stored by servers before 3.14) is not one."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return {}, []
    _version, tag, _notes = oidc.resolve_version(apisix_version)
    paths = []
    kept = _unmanaged(current, desired, facts.SCHEMA, dict(facts.DEFAULTS.get(tag, {})), MANAGED_KEYS, "", paths)
    return kept, paths


def merged(desired, kept):
    """``desired`` with the keys of ``kept`` it lacks added (nested mappings merged, ``desired`` wins)."""
    out = copy.deepcopy(desired)
    for key, value in kept.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        elif key not in out:
            out[key] = copy.deepcopy(value)
    return out


def state_of(current, version_tuple):
    """``present``, ``disabled`` or ``absent``: the openid-connect plugin of a route on the Admin API."""
    if current is None:
        return "absent"
    return "disabled" if isinstance(current, dict) and oidc.is_disabled(current, version_tuple) else "present"

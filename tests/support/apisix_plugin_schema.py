# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TEST SUPPORT ONLY: APISIX's ``openid-connect`` plugin check, done with ``jsonschema``.

Independent of the collection's own validator (``plugins/module_utils/_apisix/plugin_config.py``), so
that the Admin API emulator can catch a bug in it: the schema is APISIX's own, as dumped from its Lua
tables (``tools/data/apisix/openid-connect.schema.json``, release 3.18.0, unedited), and the release
history beside it (``openid-connect.history.json``: per tag the declared keys, ``required`` and the
top-level defaults). For an older release the 3.18.0 schema is cut down to the keys that release
declares, with its ``required`` and its top-level defaults; 2.x injects a top-level ``disable``
flag where 3.x injects ``_meta`` (apisix/plugin.lua).

As APISIX does (its Lua JSON-schema library fills ``default`` while it validates): defaults are
filled first, by a ``jsonschema`` validator extended to set them, then the filled config is validated
with ``Draft7Validator``, then the rules ``check_schema`` of openid-connect.lua adds in code. Errors
read as APISIX's (``property "timeout" validation failed: expected 0 to be greater than 1``).
"""

from __future__ import annotations

import copy
import functools
import json
import os

import jsonschema
from jsonschema import validators

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.path.join(_ROOT, "tools", "data", "apisix")
PLUGIN = "openid-connect"

# Rules openid-connect.lua's check_schema adds in code, and the release that added each.
SESSION_SECRET_FROM = (3, 14, 0)
CLIENT_SECRET_IN_CODE_FROM = (3, 17, 0)
FLAT_KEYS_REJECTED_FROM = (3, 18, 0)


def _load(name):
    with open(os.path.join(DATA_DIR, name), encoding="utf-8") as handle:
        return json.load(handle)


def version_tuple(text):
    parts = [int(part) for part in str(text).lstrip("v").replace("x", "0").split(".")[:3]]
    return tuple((parts + [0, 0])[:3])


@functools.cache
def _history():
    return {tag: entry for tag, entry in _load("openid-connect.history.json").items() if not tag.startswith("_")}


@functools.cache
def _latest_schema():
    return _load("openid-connect.schema.json")


@functools.cache
def flat_keys():
    """The flat keys 3.18.0 rejects: the names the ``par`` and ``dpop`` objects' settings had before
    (``use_par``, ``pushed_authorization_request_endpoint``, ``use_dpop``, ``dpop_private_key`` ...)."""
    props = _latest_schema()["properties"]
    out = []
    for name, prefix in (("par", "pushed_authorization_request_"), ("dpop", "dpop_")):
        out.append("use_" + name)
        out.extend(prefix + key for key in sorted(props[name]["properties"]) if key != "enabled")
    return tuple(out)


def release_tag(version):
    """The newest release of the history not newer than ``version`` (``"3.11"`` -> ``"3.11.0"``)."""
    wanted = version_tuple(version)
    tags = sorted(_history(), key=version_tuple)
    usable = [tag for tag in tags if version_tuple(tag) <= wanted]
    if not usable:
        raise ValueError("APISIX %s is older than the schema history (%s)" % (version, tags[0]))
    return usable[-1]


def declared_keys(tag):
    """Top-level keys the schema of release ``tag`` declares (without the injected ones)."""
    keys = set()
    for each in sorted(_history(), key=version_tuple):
        if version_tuple(each) > version_tuple(tag):
            break
        entry = _history()[each]
        keys.update(entry.get("properties") or ())
        keys.update(entry.get("added") or ())
        keys.difference_update(entry.get("removed") or ())
    return keys


def stored_defaults(tag):
    """The top-level defaults the history records for release ``tag`` (``None``: no default then)."""
    return {key: value for key, value in (_history()[tag].get("defaults") or {}).items() if value is not None}


@functools.cache
def plugin_schema(tag):
    """APISIX's openid-connect schema of release ``tag`` (a JSON-schema draft-07 document)."""
    latest = _latest_schema()
    schema = copy.deepcopy(latest)
    if tag == "3.18.0":
        return schema
    entry = _history()[tag]
    keep = declared_keys(tag)
    props = {key: value for key, value in latest["properties"].items() if key in keep}
    for key, default in (entry.get("defaults") or {}).items():
        if key in props:
            props[key] = dict(props[key])
            if default is None:
                props[key].pop("default", None)
            else:
                props[key]["default"] = default
    if version_tuple(tag) < (3, 0, 0):
        props["disable"] = {"type": "boolean"}  # 2.x: apisix/plugin.lua injects a top-level flag
    else:
        props["_meta"] = copy.deepcopy(latest["properties"]["_meta"])
    schema["properties"] = props
    schema["required"] = list(entry["required"])
    return schema


def _fill_defaults(validator_class):
    """``validator_class`` extended to set each missing property's ``default`` (jsonschema's recipe)."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from check_properties(validator, props, instance, schema)

    return validators.extend(validator_class, {"properties": properties})


_Filler = _fill_defaults(jsonschema.Draft7Validator)


def with_defaults(config, schema):
    """A copy of ``config`` with the schema defaults filled in (nested objects too)."""
    filled = copy.deepcopy(config)
    for _error in _Filler(schema).iter_errors(filled):
        pass  # the errors are the validation pass's business
    return filled


_LUA_TYPES = ((bool, "boolean"), (str, "string"), ((int, float), "number"), ((dict, list), "table"))


def _lua_type(value):
    if value is None:
        return "userdata"  # cjson.null
    for kinds, name in _LUA_TYPES:
        if isinstance(value, kinds):
            return name
    return type(value).__name__


def _leaf(error):
    """The message APISIX's Lua JSON-schema library gives for one failed keyword."""
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        if len(kinds) > 1:
            return "wrong type: expected one of %s, got %s" % (", ".join(kinds), _lua_type(value))
        return "wrong type: expected %s, got %s" % (kinds[0], _lua_type(value))
    if keyword == "required":
        missing = [key for key in expected if key not in value]
        return 'property "%s" is required' % (missing[0] if missing else expected[0])
    if keyword == "enum":
        return "matches non of the enum values"  # sic, as APISIX answers
    if keyword == "minimum":
        return "expected %s to be greater than %s" % (value, expected)
    if keyword == "minLength":
        return "string too short, expected at least %d, got %d" % (expected, len(value))
    if keyword == "minItems":
        return "expect array to have at least %d items" % expected
    if keyword == "pattern":
        return 'failed to match pattern "%s" with "%s"' % (expected, value)
    if keyword == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties") or {}))
        return "additional properties forbidden, found %s" % (extra[0] if extra else "?")
    if keyword == "const":
        return "failed to check const value"
    if keyword == "oneOf":
        return "value should match only one schema, but matches none"
    if keyword == "anyOf":
        return "object matches none of the requireds"
    if keyword == "not":
        return "value wasn't supposed to match schema"
    return error.message


def _message(error):
    text = _leaf(error)
    for part in reversed(list(error.relative_path)):
        if isinstance(part, int):
            text = "failed to validate item %d: %s" % (part + 1, text)
        else:
            text = 'property "%s" validation failed: %s' % (part, text)
    return text


def _code_rules(conf, version):
    """What openid-connect.lua's check_schema rejects after the schema check (first failure or None)."""
    if version >= FLAT_KEYS_REJECTED_FROM:
        for key in flat_keys():
            if key in conf:
                return "%s is no longer supported, use the par/dpop object instead" % key
    bearer = conf.get("bearer_only") is True
    if version >= SESSION_SECRET_FROM and not bearer:
        session = conf.get("session")
        if not (isinstance(session, dict) and "secret" in session):
            return "property session.secret is required when bearer_only is false"
    if version >= CLIENT_SECRET_IN_CODE_FROM and "client_secret" not in conf:
        if bearer:
            exempt = (
                bool(conf.get("public_key"))
                or conf.get("use_jwks") is True
                or conf.get("introspection_endpoint_auth_method") == "private_key_jwt"
            )
        else:
            exempt = conf.get("token_endpoint_auth_method") == "private_key_jwt" or conf.get("use_pkce") is True
        if not exempt:
            return "property client_secret is required"
    return None


def check(conf, version):
    """``(error, filled)`` for one openid-connect config on APISIX ``version``.

    ``error`` is None when APISIX accepts ``conf``, else the text after
    ``failed to check the configuration of plugin openid-connect err: ``; ``filled`` is ``conf``
    with the schema defaults filled in (what APISIX validated).
    """
    if not isinstance(conf, dict):
        return "wrong type: expected object, got %s" % _lua_type(conf), conf
    tag = release_tag(version)
    schema = plugin_schema(tag)
    filled = with_defaults(conf, schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(filled), key=lambda e: list(map(str, e.path)))
    if errors:
        return _message(errors[0]), filled
    return _code_rules(conf, version_tuple(version)), filled

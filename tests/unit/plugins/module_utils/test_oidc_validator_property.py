# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property test: the collection's openid-connect validator (``_apisix/plugin_config.validate_config``)
and ``jsonschema`` with APISIX's own schema (``tests/support/apisix_plugin_schema``, what the Admin API
emulator checks with) accept and reject the same generated configs, on releases from 2.x to 3.18.

The configs are drawn from the 3.18.0 schema itself: a few of its keys each (and keys it does not
declare, the flat keys 3.18 rejects, the guide's ``enable``/``audience``), with values of the right
kind, or of a wrong type, out of the enum, under the minimum, too short, with extra keys in the
objects that forbid them, or with required keys left out."""

import os
import sys

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "support"))
import apisix_plugin_schema as apisix

VERSIONS = ("2.0", "2.15", "3.0", "3.2", "3.8", "3.11", "3.13", "3.14", "3.16", "3.17", "3.18")
LATEST = apisix.plugin_schema("3.18.0")
ROOT_KEYS = sorted(LATEST["properties"]) + ["disable", "enable", "audience", "not_a_key"] + list(apisix.flat_keys())
BASE = {
    "client_id": "cim",
    "client_secret": "s3cr3t-for-tests",
    "discovery": "http://kc/realms/r/.well-known/x",
    "bearer_only": True,
}

# One value of every JSON type: a wrong-type value is one of these that the schema's type does not allow.
_ANY = (
    "text",
    "",
    0,
    7,
    2.5,
    True,
    False,
    None,
    [],
    ["a"],
    {},
    {"a": 1},
)
_OF_TYPE = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _wrong_type(schema):
    kind = schema.get("type")
    if kind is None:
        return st.nothing()
    kinds = kind if isinstance(kind, list) else [kind]
    return st.sampled_from([v for v in _ANY if not any(_OF_TYPE[k](v) for k in kinds)])


def _string(schema):
    if "enum" in schema:  # in the enum, or not
        return st.one_of(st.sampled_from(schema["enum"]), st.sampled_from(["", "none-of-them", "rs256"]))
    if "pattern" in schema:
        return st.one_of(st.from_regex(schema["pattern"], fullmatch=True), st.sampled_from(["a:b", ":"]))
    least = schema.get("minLength", 0)
    return st.one_of(st.text(max_size=4), st.text(min_size=max(least - 1, 0), max_size=least + 2))


def _integer(schema):
    low = schema.get("minimum", 0) - 2
    whole = st.integers(min_value=low, max_value=low + 20)
    return st.one_of(whole, whole.map(float))  # 3.0 is an integer to JSON schema (and to Lua)


def _object(schema, depth):
    props = schema.get("properties") or {}
    if not props:  # a free-form object (claim_schema, public_jwk, ...)
        keys = st.sampled_from(["a", "kty", "x", "d", "k", "p"])
        return st.dictionaries(keys, st.sampled_from(["v", 1, True]), max_size=3)
    extra = st.dictionaries(st.just("not_a_key"), st.just(1), max_size=1)
    present = st.lists(st.sampled_from(sorted(props)), max_size=4, unique=True)
    return st.tuples(present, extra).flatmap(
        lambda pair: st.fixed_dictionaries({key: value_for(props[key], depth + 1) for key in pair[0]}).map(
            lambda chosen, more=pair[1]: {**chosen, **more}
        )
    )


def value_for(schema, depth=0):
    """A value for ``schema``: mostly of its kind (valid or at its edges), sometimes of a wrong type."""
    if "const" in schema:
        return st.sampled_from([schema["const"], not schema["const"]])
    kind = schema.get("type")
    if kind == "string":
        right = _string(schema)
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "integer":
        right = _integer(schema)
    elif kind == "number":
        right = st.one_of(_integer(schema), st.floats(allow_nan=False, allow_infinity=False))
    elif kind == "array":
        items = schema.get("items") or {"type": "string"}
        right = st.lists(value_for(items, depth + 1), min_size=max(schema.get("minItems", 0) - 1, 0), max_size=3)
    elif kind == "object":
        right = _object(schema, depth) if depth < 3 else st.just({})
    else:  # oneOf without a type (_meta.error_response)
        right = st.one_of(st.text(max_size=3), st.just({"a": 1}), st.just(3))
    return st.one_of(right, right, right, _wrong_type(schema))


@st.composite
def configs(draw):
    config = {key: value for key, value in BASE.items() if draw(st.integers(0, 7))}  # a required key left out at times
    for key in draw(st.lists(st.sampled_from(ROOT_KEYS), max_size=5, unique=True)):
        schema = LATEST["properties"].get(key) or ({"type": "boolean"} if key == "disable" else {})
        config[key] = draw(value_for(schema) if schema else st.sampled_from([True, False, ["cim"], "x"]))
    return config


def _disagreements(config):
    out = []
    for version in VERSIONS:
        errors, _warnings = oidc.validate_config(config, version)
        error, _filled = apisix.check(config, version)
        if bool(errors) != (error is not None):
            out.append("%s: module %r, jsonschema %r" % (version, errors, error))
    return out


@settings(
    max_examples=int(os.environ.get("CX_PROPERTY_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(configs())
@example(dict(BASE, timeout=3.0))  # a whole number in float form: JSON schema's (and Lua's) integer
@example(dict(BASE, session={"secret": "0123456789abcdef", "redis": {"port": 6379.0}}, bearer_only=False))
@example(dict(BASE, bearer_only=True, introspection_interval=1.0, jwk_expires_in=86400.0))
def test_module_validator_and_jsonschema_agree(config):
    assert _disagreements(config) == []


def test_the_generated_configs_hold_both_valid_and_invalid_ones():
    """The property above is not vacuous: among generated configs, APISIX 3.18 accepts some and rejects some."""
    seen = set()

    @settings(max_examples=150, deadline=None, database=None)
    @given(configs())
    def collect(config):
        seen.add(apisix.check(config, "3.18")[0] is None)

    collect()
    assert seen == {True, False}

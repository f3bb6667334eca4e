# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Admin API emulator checks openid-connect configs as APISIX does, with jsonschema and APISIX's own
schema of the release (not with the collection's validator): defaults filled first, then validated, and
its 400 bodies read as APISIX's."""

import json
import os
import sys

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import apisix_admin_emulator

PREFIX = "failed to check the configuration of plugin openid-connect err: "
BASE = {"client_id": "cim", "client_secret": "s3cr3t-for-tests", "discovery": "http://kc/d", "bearer_only": True}
SESSION_SECRET = "0123456789abcdef"


@pytest.fixture
def emulator():
    made = []

    def make(version="3.18"):
        made.append(apisix_admin_emulator.Emulator(version))
        return made[-1]

    yield make
    for each in made:
        each.stop() if each._thread else each._server.server_close()


def put(emulator, block, route_id="r1"):
    route = {"uri": "/r/*", "plugins": {"openid-connect": block}}
    headers = {"X-API-KEY": emulator.admin_key}
    raw = json.dumps(route).encode("utf-8")
    return emulator.handle("PUT", "/apisix/admin/routes/%s" % route_id, {}, headers, raw)


def without(key):
    return {k: v for k, v in BASE.items() if k != key}


WRONG_BOOL = "wrong type: expected boolean, got string"


def failed(*path_and_error):
    """APISIX's wording of a failure at a key path: ``property "a" validation failed: ...``."""
    *path, error = path_and_error
    return "".join('property "%s" validation failed: ' % key for key in path) + error


# (version, config, APISIX's error after the prefix): one of each kind of failure
REJECTED = [
    ("3.18", dict(BASE, timeout=0), failed("timeout", "expected 0 to be greater than 1")),
    ("3.18", dict(BASE, bearer_only="yes"), failed("bearer_only", WRONG_BOOL)),
    ("3.11", dict(BASE, unauth_action="maybe"), failed("unauth_action", "matches non of the enum values")),
    ("3.18", without("client_id"), 'property "client_id" is required'),
    ("3.11", without("client_secret"), 'property "client_secret" is required'),
    ("2.15", without("discovery"), 'property "discovery" is required'),
    (
        "3.18",
        dict(BASE, session={"secret": SESSION_SECRET, "cookie_lifetime": 3600}),
        failed("session", "additional properties forbidden, found cookie_lifetime"),
    ),
    (
        "3.18",
        dict(BASE, bearer_only=False, session={"secret": "short"}),
        failed("session", "secret", "string too short, expected at least 16, got 5"),
    ),
    (
        "3.18",
        dict(BASE, required_scopes=["email", 7]),
        failed("required_scopes", "failed to validate item 2: wrong type: expected string, got number"),
    ),
    ("3.18", dict(BASE, _meta={"disable": True, "x": 1}), failed("_meta", "additional properties forbidden, found x")),
    ("2.15", dict(BASE, disable="yes"), failed("disable", WRONG_BOOL)),
    ("3.18", dict(BASE, use_jwks="yes"), failed("use_jwks", WRONG_BOOL)),
    ("3.18", dict(BASE, bearer_only=False), "property session.secret is required when bearer_only is false"),
    ("3.18", dict(BASE, use_par=True), "use_par is no longer supported, use the par/dpop object instead"),
]


@pytest.mark.parametrize("version, config, message", REJECTED)
def test_invalid_configs_are_refused_with_apisix_errors(emulator, version, config, message):
    emu = emulator(version)
    status, body = put(emu, config)
    assert (status, body) == (400, {"error_msg": PREFIX + message})
    assert emu.stored("r1") is None  # nothing half-written


# (version, config): accepted by APISIX
ACCEPTED = [
    ("3.18", dict(BASE, timeout=3.0)),  # a whole number in float form is an integer to JSON schema and to Lua
    ("3.18", dict(BASE, enable=False, audience=["cim"])),  # unknown keys: accepted, ignored
    ("3.11", dict(BASE, use_jwks="yes")),  # declared from 3.16.0 only: an unknown key before
    ("2.15", dict(BASE, _meta={"anything": 1})),  # 2.x injects `disable`, not `_meta`
    # defaults filled first: session.storage is "cookie", so `if storage == redis then require redis` does not hold
    ("3.18", dict(BASE, bearer_only=False, session={"secret": SESSION_SECRET})),
    ("3.18", without("client_secret") | {"public_key": "-----BEGIN PUBLIC KEY-----"}),
]


@pytest.mark.parametrize("version, config", ACCEPTED)
def test_valid_configs_are_stored(emulator, version, config):
    emu = emulator(version)
    status, body = put(emu, config)
    assert status == 201, body
    assert emu.stored("r1")["plugins"]["openid-connect"]["client_id"] == "cim"


def test_the_check_does_not_use_the_collections_validator(emulator, monkeypatch):
    """A validator bug in the collection must not hide in the emulator: with the module's validator
    accepting everything, the emulator still refuses what APISIX refuses."""
    monkeypatch.setattr(plugin_config, "validate_config", lambda config, version: ([], []))
    status, body = put(emulator("3.18"), dict(BASE, timeout=0))
    assert status == 400 and "expected 0 to be greater than 1" in body["error_msg"]


@pytest.mark.parametrize("version, stored", [("3.11", True), ("3.13", True), ("3.14", False), ("3.18", False)])
def test_stored_defaults_before_3_14(emulator, version, stored):
    emu = emulator(version)
    assert put(emu, BASE)[0] == 201
    block = emu.stored("r1")["plugins"]["openid-connect"]
    assert (block.get("ssl_verify"), block.get("timeout")) == ((False, 3) if stored else (None, None))


def test_a_patch_is_checked_too(emulator):
    emu = emulator("3.18")
    assert put(emu, BASE)[0] == 201
    headers = {"X-API-KEY": emu.admin_key}
    raw = json.dumps({"plugins": {"openid-connect": {"timeout": -1}}}).encode("utf-8")  # merged into the stored block
    status, body = emu.handle("PATCH", "/apisix/admin/routes/r1", {}, headers, raw)
    assert (
        status == 400
        and body["error_msg"] == PREFIX + 'property "timeout" validation failed: expected -1 to be greater than 1'
    )
    assert "timeout" not in emu.stored("r1")["plugins"]["openid-connect"]

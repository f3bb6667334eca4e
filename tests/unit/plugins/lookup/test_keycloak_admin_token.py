# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lookup ``cx.api_auth.keycloak_admin_token`` against the stub Keycloak (a real HTTP server).

The plugin runs in a Python process of its own (:func:`lookup`): loading controller code
(``ansible.constants``, the display) into the test process would change how the module tests
see their warnings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import parse_qs

import pytest

from ...fakes import StubKeycloak

# Run the plugin as Ansible does: loaded by the plugin loader, with its documented options (the doc fragment
# of the Keycloak modules among them; ANSIBLE_COLLECTIONS_PATH comes from tests/conftest.py), then run().
_RUNNER = """
import json, sys
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader()
plugin = lookup_loader.get("cx.api_auth.keycloak_admin_token")
try:
    answer = {"result": plugin.run([], variables={}, **json.load(sys.stdin))}
except AnsibleLookupError as exc:
    answer = {"error": str(exc)}
answer["loaded"] = sorted(name for name in HEAVY if name in sys.modules)
print(json.dumps(answer))
"""
# What the lookup must not load (CPU per tenant): python-keycloak, requests, httpx, Ansible's open_url.
HEAVY = ("keycloak", "requests", "httpx", "ansible.module_utils.urls")
_RUNNER = _RUNNER.replace("HEAVY", repr(HEAVY))


class LookupFailed(Exception):
    """The plugin raised AnsibleLookupError (its message is the text)."""


PASSWORD = "Adm1n-lookup-pw"
SECRET = "client-s3cret-lookup"
ADMIN = {"auth_username": "admin", "auth_password": PASSWORD}


@pytest.fixture(params=["", "/auth"], ids=["root", "auth"])
def stub(request):
    server = StubKeycloak(prefix=request.param)
    yield server
    server.close()


def lookup(_env=None, **options):
    """The plugin's result for ``options``; LookupFailed with its message when it raises.

    ``_env``: more environment for the plugin's process; no proxy is set unless it sets one.
    """
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
    env.update(_env or {}, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER], input=json.dumps(options), capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout.splitlines()[-1])
    assert answer["loaded"] == [], "the lookup loaded %s" % answer["loaded"]
    if "error" in answer:
        raise LookupFailed(answer["error"])
    return answer["result"]


def test_password_grant_gives_the_access_token(stub):
    counter = stub.token_ok()
    assert lookup(auth_keycloak_url=stub.url + "/", **ADMIN) == ["tok1"]
    assert counter["n"] == 1
    form = parse_qs(stub.requests[-1][3])
    assert form == {
        "grant_type": ["password"],
        "client_id": ["admin-cli"],
        "username": ["admin"],
        "password": [PASSWORD],
    }


def test_client_credentials_in_another_realm(stub):
    stub.token_ok(realm="ops")
    token = lookup(auth_keycloak_url=stub.url, auth_realm="ops", auth_client_id="ansible", auth_client_secret=SECRET)
    assert token == ["tok1"]
    form = parse_qs(stub.requests[-1][3])
    assert form == {"grant_type": ["client_credentials"], "client_id": ["ansible"], "client_secret": [SECRET]}


# The lookup's former option names, and the module option each one is an alias of.
FORMER_NAMES = {
    "url": "auth_keycloak_url",
    "realm": "auth_realm",
    "username": "auth_username",
    "password": "auth_password",
    "client_id": "auth_client_id",
    "client_secret": "auth_client_secret",
    "timeout": "connection_timeout",
}


def test_the_options_are_the_modules_connection_options():
    """Every option of the lookup is a connection option of the Keycloak modules, with the modules' default."""
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import (
        LOGIN_OPTIONS,
        keycloak_argument_spec,
    )

    spec = keycloak_argument_spec()
    assert set(LOGIN_OPTIONS) == set(spec) - {"token"}
    assert spec["connection_timeout"]["default"] == 10 and set(FORMER_NAMES.values()) <= set(LOGIN_OPTIONS)


def test_the_former_option_names_still_work(stub):
    stub.token_ok(realm="ops")
    given = dict(url=stub.url, realm="ops", **ADMIN, client_id="c", client_secret=SECRET)
    assert lookup(timeout=5, **given) == ["tok1"]
    form = parse_qs(stub.requests[-1][3])
    assert form["client_id"] == ["c"] and form["password"] == [PASSWORD] and form["client_secret"] == [SECRET]


@pytest.mark.parametrize("option", ["auth_password", "auth_client_secret"])
def test_a_secret_that_is_no_text_is_refused_before_any_request(stub, option):
    stub.token_ok()
    given = dict(auth_keycloak_url=stub.url, **ADMIN)
    given[option] = 1234
    with pytest.raises(LookupFailed) as info:
        lookup(**given)
    assert "%s must be text" % option in str(info.value) and "quote it" in str(info.value)
    assert stub.requests == []


def test_refused_login_names_user_realm_and_status_never_the_password(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        401,
        {"error": "invalid_grant", "error_description": "Invalid user credentials %s" % PASSWORD},
    )
    with pytest.raises(LookupFailed) as info:
        lookup(auth_keycloak_url=stub.url, **ADMIN)
    message = str(info.value)
    assert "user 'admin'" in message and "realm 'master'" in message and "401" in message
    assert PASSWORD not in message


def test_unreachable_keycloak_and_bad_url():
    with pytest.raises(LookupFailed) as info:
        lookup(auth_keycloak_url="http://127.0.0.1:9", **ADMIN, connection_timeout=5)
    message = str(info.value)
    assert "Keycloak at http://127.0.0.1:9/" in message and "connection refused" in message
    assert "user 'admin'" in message and PASSWORD not in message
    with pytest.raises(LookupFailed, match="auth_keycloak_url must start with http"):
        lookup(auth_keycloak_url="keycloak.example", **ADMIN)


def test_answer_without_a_token_is_an_error(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (200, {"token_type": "Bearer"})
    with pytest.raises(LookupFailed, match="without an access token"):
        lookup(auth_keycloak_url=stub.url, **ADMIN)


# --------------------------------------------------------------------------- https, redirects, proxies


@pytest.fixture
def tls_stub(self_signed_certificate):
    server = StubKeycloak(tls=self_signed_certificate)
    server.token_ok()
    yield server
    server.close()


def test_https_is_verified_against_ca_path_or_not_at_all(tls_stub, self_signed_certificate):
    assert tls_stub.url.startswith("https://")
    with pytest.raises(LookupFailed) as info:
        lookup(auth_keycloak_url=tls_stub.url, **ADMIN)
    message = str(info.value)
    assert "TLS verification failed" in message and "self-signed certificate" in message and "ca_path" in message
    assert PASSWORD not in message and tls_stub.requests == []  # the form was never sent
    assert lookup(auth_keycloak_url=tls_stub.url, **ADMIN, ca_path=self_signed_certificate[0]) == ["tok1"]
    assert lookup(auth_keycloak_url=tls_stub.url, **ADMIN, validate_certs=False) == ["tok2"]
    assert len(tls_stub.requests) == 2


def test_a_ca_path_that_is_no_certificate_is_named(tls_stub, tmp_path):
    missing, garbage = tmp_path / "missing.pem", tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for path in (missing, garbage):
        with pytest.raises(LookupFailed, match="ca_path %s cannot be read as PEM CA certificates" % path):
            lookup(auth_keycloak_url=tls_stub.url, **ADMIN, ca_path=str(path))
    assert tls_stub.requests == []


def test_http_to_a_tls_port_and_tls_to_an_http_port_are_said_plainly(tls_stub, stub):
    with pytest.raises(LookupFailed) as info:
        lookup(auth_keycloak_url=tls_stub.url.replace("https://", "http://"), **ADMIN, connection_timeout=5)
    assert "Keycloak at %s/" % tls_stub.url.replace("https://", "http://") in str(info.value)
    assert PASSWORD not in str(info.value)
    with pytest.raises(LookupFailed) as info:
        lookup(auth_keycloak_url=stub.url.replace("http://", "https://"), **ADMIN, connection_timeout=5)
    assert "TLS" in str(info.value) and "WRONG_VERSION_NUMBER" in str(info.value) and PASSWORD not in str(info.value)


def test_a_redirect_is_not_followed_with_the_password(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (302, "")
    with pytest.raises(LookupFailed) as info:
        lookup(auth_keycloak_url=stub.url, **ADMIN)
    assert "user 'admin'" in str(info.value) and "302" in str(info.value)
    assert len(stub.requests) == 1


def test_the_proxy_of_the_environment_is_used():
    """As with ``open_url``: ``http_proxy`` carries the request (here the stub is the proxy)."""
    proxy = StubKeycloak()
    try:
        proxy.token_ok()
        env = {"http_proxy": proxy.url}
        assert lookup(auth_keycloak_url="http://keycloak.invalid", **ADMIN, _env=env) == ["tok1"]
        assert [r[:2] for r in proxy.requests] == [("POST", "/realms/master/protocol/openid-connect/token")]
    finally:
        proxy.close()

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

# Run the plugin as the plugin loader sets it up: its documented options, then run().
_RUNNER = """
import json, sys, yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible_collections.cx.api_auth.plugins.lookup import keycloak_admin_token as plugin_module
plugin = plugin_module.LookupModule()
plugin._load_name = "cx.api_auth.keycloak_admin_token"
C.config.initialize_plugin_configuration_definitions(
    "lookup", plugin._load_name, yaml.safe_load(plugin_module.DOCUMENTATION)["options"])
try:
    print(json.dumps({"result": plugin.run([], variables={}, **json.load(sys.stdin))}))
except AnsibleLookupError as exc:
    print(json.dumps({"error": str(exc)}))
"""


class LookupFailed(Exception):
    """The plugin raised AnsibleLookupError (its message is the text)."""


PASSWORD = "Adm1n-lookup-pw"
SECRET = "client-s3cret-lookup"


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
    if "error" in answer:
        raise LookupFailed(answer["error"])
    return answer["result"]


def test_password_grant_gives_the_access_token(stub):
    counter = stub.token_ok()
    assert lookup(url=stub.url + "/", username="admin", password=PASSWORD) == ["tok1"]
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
    assert lookup(url=stub.url, realm="ops", client_id="ansible", client_secret=SECRET) == ["tok1"]
    form = parse_qs(stub.requests[-1][3])
    assert form == {"grant_type": ["client_credentials"], "client_id": ["ansible"], "client_secret": [SECRET]}


def test_refused_login_names_user_realm_and_status_never_the_password(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        401,
        {"error": "invalid_grant", "error_description": "Invalid user credentials %s" % PASSWORD},
    )
    with pytest.raises(LookupFailed) as info:
        lookup(url=stub.url, username="admin", password=PASSWORD)
    message = str(info.value)
    assert "user 'admin'" in message and "realm 'master'" in message and "401" in message
    assert PASSWORD not in message


def test_unreachable_keycloak_and_bad_url():
    with pytest.raises(LookupFailed) as info:
        lookup(url="http://127.0.0.1:9", username="admin", password=PASSWORD, timeout=5)
    assert "no token from Keycloak at http://127.0.0.1:9" in str(info.value) and PASSWORD not in str(info.value)
    with pytest.raises(LookupFailed, match="must start with http"):
        lookup(url="keycloak.example", username="admin", password=PASSWORD)


def test_answer_without_a_token_is_an_error(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (200, {"token_type": "Bearer"})
    with pytest.raises(LookupFailed, match="without an access token"):
        lookup(url=stub.url, username="admin", password=PASSWORD)


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
        lookup(url=tls_stub.url, username="admin", password=PASSWORD)
    message = str(info.value)
    assert "TLS verification failed" in message and "self-signed certificate" in message and "ca_path" in message
    assert PASSWORD not in message and tls_stub.requests == []  # the form was never sent
    assert lookup(url=tls_stub.url, username="admin", password=PASSWORD, ca_path=self_signed_certificate[0]) == ["tok1"]
    assert lookup(url=tls_stub.url, username="admin", password=PASSWORD, validate_certs=False) == ["tok2"]
    assert len(tls_stub.requests) == 2


def test_a_ca_path_that_is_no_certificate_is_named(tls_stub, tmp_path):
    missing, garbage = tmp_path / "missing.pem", tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for path in (missing, garbage):
        with pytest.raises(LookupFailed, match="ca_path %s cannot be read as PEM CA certificates" % path):
            lookup(url=tls_stub.url, username="admin", password=PASSWORD, ca_path=str(path))
    assert tls_stub.requests == []


def test_http_to_a_tls_port_and_tls_to_an_http_port_are_said_plainly(tls_stub, stub):
    with pytest.raises(LookupFailed) as info:
        lookup(url=tls_stub.url.replace("https://", "http://"), username="admin", password=PASSWORD, timeout=5)
    assert "no token from Keycloak at http://" in str(info.value) and PASSWORD not in str(info.value)
    with pytest.raises(LookupFailed) as info:
        lookup(url=stub.url.replace("http://", "https://"), username="admin", password=PASSWORD, timeout=5)
    assert "TLS failed" in str(info.value) and PASSWORD not in str(info.value)


def test_a_redirect_is_not_followed_with_the_password(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (302, "")
    with pytest.raises(LookupFailed) as info:
        lookup(url=stub.url, username="admin", password=PASSWORD)
    assert "refused a token" in str(info.value) and "(302)" in str(info.value)
    assert len(stub.requests) == 1


def test_the_proxy_of_the_environment_is_used():
    """As with ``open_url``: ``http_proxy`` carries the request (here the stub is the proxy)."""
    proxy = StubKeycloak()
    try:
        proxy.token_ok()
        env = {"http_proxy": proxy.url}
        assert lookup(url="http://keycloak.invalid", username="admin", password=PASSWORD, _env=env) == ["tok1"]
        assert [r[:2] for r in proxy.requests] == [("POST", "/realms/master/protocol/openid-connect/token")]
    finally:
        proxy.close()

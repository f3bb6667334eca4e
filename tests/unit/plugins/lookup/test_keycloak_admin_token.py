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


def lookup(**options):
    """The plugin's result for ``options``; LookupFailed with its message when it raises."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
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

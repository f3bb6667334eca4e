# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The realm rule (plugins/module_utils/_keycloak/realm.py) and every place that applies it.

A realm that is not one plain path segment is refused by every module, the lookup and the
APISIX plugin config before any request: the fake Keycloak records no login, no read, no write
and no password grant; the stub Keycloak of the lookup no request at all.
"""

from __future__ import annotations

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import realm as realm_rule
from ansible_collections.cx.api_auth.plugins.modules import (
    keycloak_audience_mapper,
    keycloak_client_secret_info,
    keycloak_customer_user,
)

from ...fakes import StubKeycloak
from ..lookup.test_keycloak_admin_token import LookupFailed, lookup
from ..modules._module_harness import run_module_main

# (realm, what the message says is wrong)
HOSTILE = [
    ("a/../master", "it contains '/'"),
    ("../master", "it contains '/'"),
    ("..", "'..' is a relative path segment"),
    (".", "'.' is a relative path segment"),
    ("a?b", "it contains '?'"),
    ("a#b", "it contains '#'"),
    ("a%2fb", "it contains '%'"),
    ("a\\b", "it contains '\\'"),
    (" a", "it contains whitespace (a space)"),
    ("a b", "it contains whitespace (a space)"),
    ("\n", "it contains whitespace ('\\n')"),
    ("a\tb", "it contains whitespace ('\\t')"),
    ("a\x07b", "it contains a control character ('\\x07')"),
    ("a\u200bb", "it contains a control character ('\\u200b')"),
    ("a\ue000b", "it contains a control character ('\\ue000')"),
    ("", "it is empty"),
]
IDS = [repr(value) for value, _problem in HOSTILE]

MODULES = {
    "keycloak_audience_mapper": (keycloak_audience_mapper, {"client_id": "cim"}),
    "keycloak_customer_user": (keycloak_customer_user, {"password": "Cust0mer-Pa55word"}),
    "keycloak_client_secret_info": (keycloak_client_secret_info, {}),
}


@pytest.mark.parametrize("value, problem", HOSTILE, ids=IDS)
def test_the_rule_refuses_every_member_of_the_class(value, problem):
    assert problem in realm_rule.realm_problem(value)
    message = realm_rule.realm_message(value, "realm")
    assert message.startswith("realm '%s' is not one path segment: " % realm_rule.shown(value))
    assert "\n" not in message and "\t" not in message


def test_the_message_of_the_issue():
    assert realm_rule.realm_message("acme/../master").startswith(
        "realm 'acme/../master' is not one path segment: it contains '/'"
    )


@pytest.mark.parametrize("value", ["expertflow", "tenant-b", "Tenant_1", "a.b", "...", "a:b", "a@b", "ä-realm", "a+b"])
def test_plain_segments_pass_and_are_encoded_in_a_path(value):
    assert realm_rule.realm_problem(value) is None
    segment = realm_rule.path_segment(value)
    assert "/" not in segment and "?" not in segment and "#" not in segment


@pytest.mark.parametrize("option", ["realm", "auth_realm"])
@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("value, problem", HOSTILE, ids=IDS)
def test_every_module_refuses_before_any_request(keycloak, capsys, name, option, value, problem):
    module, args = MODULES[name]
    args = dict(args, realm="expertflow")
    args[option] = value
    result, failed = run_module_main(capsys, module, args)
    if value == "" and option == "auth_realm":  # an empty auth_realm is the default, master
        assert not failed
        return
    assert failed, result
    assert "%s '%s' is not one path segment: %s" % (option, realm_rule.shown(value), problem) in result["msg"]
    assert result.get("changed", False) is False
    assert keycloak.logins == [] and keycloak.calls == [] and keycloak.writes == [] and keycloak.checks == []


@pytest.mark.parametrize("value, problem", HOSTILE, ids=IDS)
def test_the_apisix_plugin_config_refuses_the_realm(value, problem):
    params = dict(keycloak_url="http://kc", realm=value, client_secret="s", apisix_version="3.11")
    with pytest.raises(plugin_config.PluginConfigError) as info:
        plugin_config.build_config(params)
    assert "realm '%s' is not one path segment: %s" % (realm_rule.shown(value), problem) in str(info.value)
    with pytest.raises(plugin_config.PluginConfigError):  # also beside a given discovery URL
        plugin_config.build_config(dict(params, keycloak_url=None, discovery="http://kc/realms/x/.well-known/x"))


def test_the_lookup_refuses_every_member_before_any_request():
    stub = StubKeycloak()
    try:
        stub.token_ok(realm="master")
        for value, problem in HOSTILE:
            with pytest.raises(LookupFailed) as info:
                lookup(auth_keycloak_url=stub.url, auth_realm=value, auth_username="admin", auth_password="pw")
            assert "realm '%s' is not one path segment: %s" % (realm_rule.shown(value), problem) in str(info.value)
        assert stub.requests == []
    finally:
        stub.close()


# --------------------------------------------------------------------------- values in a query, allowed realms in a path

ODD = "a&b?c#d/e f=g%h+i"


def _stub_connection(stub, realm="expertflow"):
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection

    params = dict(auth_keycloak_url=stub.url, auth_username="admin", auth_password="pw", auth_realm="master")
    return KeycloakConnection(params, realm, "a test").open()


def test_client_id_and_username_go_into_the_query_encoded_not_refused():
    """python-keycloak (requests) encodes query values: a client id or a user name is never cut at & ? # /."""
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.customer_user import CustomerUser

    stub = StubKeycloak()
    try:
        stub.token_ok()
        stub.routes[("GET", "/admin/realms/expertflow/clients")] = lambda query, _f, _h: (200, [])
        stub.routes[("GET", "/admin/realms/expertflow/users")] = lambda query, _f, _h: (200, [])
        connection = _stub_connection(stub)
        assert connection.get_client(ODD) is None
        params = {"realm": "expertflow", "username": ODD, "password": None, "password_check_client_secret": None}
        assert CustomerUser(connection, params, [].append).find() is None
        gets = [request for request in stub.requests if request[0] == "GET"]
        assert [(path, query.get("clientId") or query.get("username")) for _m, path, query, _b, _a in gets] == [
            ("/admin/realms/expertflow/clients", [ODD]),
            ("/admin/realms/expertflow/users", [ODD]),
        ]
    finally:
        stub.close()


def test_an_allowed_realm_is_percent_encoded_in_the_path():
    stub = StubKeycloak()
    try:
        stub.token_ok()
        stub.routes[("GET", "/admin/realms/%C3%A4%3Ab%40c%2Bd/clients")] = (200, [])
        assert _stub_connection(stub, realm="ä:b@c+d").get_client("cim") is None
        assert stub.requests[-1][1] == "/admin/realms/%C3%A4%3Ab%40c%2Bd/clients"
    finally:
        stub.close()


def test_a_role_name_is_percent_encoded_in_the_path():
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.customer_user import CustomerUser

    stub = StubKeycloak()
    try:
        stub.token_ok()
        params = {"realm": "expertflow", "username": "c", "password": None, "password_check_client_secret": None}
        assert CustomerUser(_stub_connection(stub), params, [].append).get_role("x?y#z w") is None  # 404
        assert stub.requests[-1][1] == "/admin/realms/expertflow/roles/x%3Fy%23z%20w"
    finally:
        stub.close()


@pytest.mark.parametrize("value, problem", HOSTILE, ids=IDS)
def test_apisix_route_oidc_refuses_the_realm_and_leaves_the_route_file(tmp_path, capsys, value, problem):
    from ..modules import test_apisix_route_oidc as route_tests

    path = route_tests._copy(tmp_path)  # pylint: disable=protected-access
    before = path.read_bytes()
    args = dict(route_tests.PLUGIN_ARGS)
    args.update(realm=value, path=str(path), routes=["files-main"])
    result = route_tests.run(capsys, **args)
    assert result["_rc"] != 0 and result.get("changed", False) is False
    if value == "":  # AnsibleModule's own check (required_if) comes first
        assert "realm" in result["msg"]
    else:
        assert "realm '%s' is not one path segment: %s" % (realm_rule.shown(value), problem) in result["msg"]
    assert path.read_bytes() == before

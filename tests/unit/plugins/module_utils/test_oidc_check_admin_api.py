# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of apisix_oidc_check's Admin API target (plugins/module_utils/_apisix/oidc_check.py):
the routes selected from Admin API answers in 3.x form and in the 2.x envelope, switched-off plugins
reported open, failures of the Admin API, and nothing secret in a result. The Admin API is an
``AdminClient`` whose ``request`` answers from a table; Keycloak is the fake of test_oidc_check."""

import copy
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import oidc_check as oc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import target as admin_target
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.client import AdminClient, Response
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PluginState
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.modules import apisix_oidc_check

from .test_oidc_check import CHECK_ARGS, GATEWAY, PASSWORD, REACHABLE, SECRET, FakeKeycloak

ADMIN_KEY = "Unit-admin-key-4711"
BASE = "http://gw:9180/apisix/admin"
BLOCK = {
    "discovery": GATEWAY + "/realms/r/.well-known/openid-configuration",
    "realm": "r",
    "client_id": "cim",
    "client_secret": SECRET,
    "bearer_only": True,
    "token_signing_alg_values_expected": "RS256",
    "required_scopes": ["email", "profile"],
}
OTHER_KEY = "Unit-key-auth-key-0815"


def _routes(v2=False, secret=SECRET):
    off = dict(BLOCK, client_secret=secret)
    if v2:
        off["disable"] = True
    else:
        off["_meta"] = {"disable": True}
    return [
        {"id": "secured", "uri": "/a/*", "plugins": {"openid-connect": dict(BLOCK, client_secret=secret)}},
        {"id": "switched-off", "uri": "/c/*", "plugins": {"openid-connect": off}},
        {"id": "plain", "uri": "/d/*", "plugins": {"key-auth": {"key": OTHER_KEY}}},
        {"id": "bare", "uri": "/e/*"},
    ]


def _node(route):
    return {"key": "/apisix/routes/%s" % route["id"], "value": route, "createdIndex": 1, "modifiedIndex": 2}


def _answers(routes, v2):
    """``path -> (status, body)`` as APISIX 3.x or 2.x answers GETs of these routes."""
    nodes = [_node(route) for route in routes]
    if v2:
        answers = {"/routes": (200, {"action": "get", "node": {"dir": True, "key": "/apisix/routes", "nodes": nodes}})}
        answers.update({"/routes/" + n["value"]["id"]: (200, {"action": "get", "node": n}) for n in nodes})
    else:
        answers = {"/routes": (200, {"list": nodes, "total": len(nodes)})}
        answers.update({"/routes/" + n["value"]["id"]: (200, n) for n in nodes})
    return answers


class FakeAdmin(AdminClient):
    """The real client with ``request`` answered from a table (a path not in it: 404 as APISIX says)."""

    def __init__(self, answers, **kwargs):
        super().__init__("http://gw:9180", admin_key=ADMIN_KEY, **kwargs)
        self.answers = answers

    def request(self, method, path, data=None):
        self.sent.append((method, path))
        status, body = self.answers.get(path, (404, {"message": "Key not found"}))
        return Response(status, copy.deepcopy(body), self.url(path))


def _run(admin, keycloak=None, **params):
    args = dict(CHECK_ARGS, admin_url="http://gw:9180", admin_key=ADMIN_KEY)
    args.update(params)
    keycloak = keycloak or FakeKeycloak()
    hidden, warnings = [], []
    try:
        result = oc.run(args, True, False, warnings.append, hide=hidden.append, http=keycloak, admin=admin)
    except ModuleError as exc:
        result = dict(exc.result, msg=exc.msg, failed=True)
    text = json.dumps(result) + "\n".join(warnings)
    for secret in (SECRET, PASSWORD, ADMIN_KEY, OTHER_KEY, keycloak.token, "refresh-tok", "not-the-secret-42"):
        assert secret not in text
    assert {method for method, _path in admin.sent} <= {"GET"}  # read only
    return result, hidden, warnings


def _by_route(result):
    return {item["route"]: (item["status"], item["reason"]) for item in result["routes"]}


@pytest.mark.parametrize("v2, version, flag", [(False, "3.11", "_meta.disable"), (True, "2.15", "disable")])
def test_without_routes_every_listed_route_with_the_plugin_is_checked(v2, version, flag):
    admin = FakeAdmin(_answers(_routes(v2), v2))
    result, hidden, _warnings = _run(admin, apisix_version=version)
    assert "failed" not in result, result["msg"]
    assert admin.sent == [("GET", "/routes")]
    routes = _by_route(result)
    assert list(routes) == ["secured", "switched-off"]  # "plain" and "bare" carry no openid-connect
    assert routes["secured"][0] == "ok" and "active at introspection with client 'cim'" in routes["secured"][1]
    assert routes["switched-off"] == ("open", "openid-connect is switched off (%s: true): no authentication" % flag)
    assert result["admin_url"] == BASE and "routes_key" not in result
    assert (
        result["msg"]
        == BASE + ": 2 route(s) checked as the gateway does (1 ok, 1 open, 0 failed); open: 'switched-off'"
    )
    assert SECRET in hidden and PASSWORD in hidden


@pytest.mark.parametrize("v2", [False, True])
def test_listed_routes_are_read_one_by_one_and_one_without_the_plugin_is_open(v2):
    admin = FakeAdmin(_answers(_routes(v2), v2))
    routes = ["secured", "plain", "bare", "secured"]
    result, _hidden, _warnings = _run(admin, routes=routes, apisix_version="2.15" if v2 else "3.18")
    assert admin.sent == [("GET", "/routes/secured"), ("GET", "/routes/plain"), ("GET", "/routes/bare")]
    routes = _by_route(result)
    assert list(routes) == ["secured", "plain", "bare"] and routes["secured"][0] == "ok"
    assert routes["plain"] == routes["bare"] == ("open", oc.NO_PLUGIN)
    result, _hidden, _warnings = _run(
        FakeAdmin(_answers(_routes(v2), v2)),
        routes=routes,
        require_secured=True,
        apisix_version="2.15" if v2 else "3.18",
    )
    assert result["failed"] and result["failed_routes"] == ["plain", "bare"] and "(require_secured)" in result["msg"]


@pytest.mark.parametrize("v2", [False, True])
@pytest.mark.parametrize("listed", [False, True])
def test_each_route_says_where_it_matches(v2, listed):
    """uri/uris and host/hosts of the route object as the Admin API gives it (listed or read one by one)."""
    routes = _routes(v2)
    routes[0].update(host="a.example.invalid", uris=["/a/*", "/a2"])
    routes[1].update(uri=None, uris=["/c/*"], hosts=["c.example.invalid", 7])
    routes[1]["plugins"]["openid-connect"]["uri"] = "/not-the-route-s"
    admin = FakeAdmin(_answers(routes, v2))
    chosen = ["secured", "switched-off", "bare"] if listed else None
    result, _hidden, _warnings = _run(admin, routes=chosen, apisix_version="2.15" if v2 else "3.11")
    places = {item["route"]: (item["uris"], item["hosts"]) for item in result["routes"]}
    expected = {
        "secured": (["/a/*", "/a2"], ["a.example.invalid"]),
        "switched-off": (["/c/*"], ["c.example.invalid"]),
        "bare": (["/e/*"], []),
    }
    if not listed:
        del expected["bare"]  # no openid-connect: not checked unless named
    assert places == expected


def test_a_2x_flag_on_a_3x_server_does_not_switch_the_plugin_off():
    # 3.x ignores a top-level disable: the block is checked like any other (here it passes)
    admin = FakeAdmin(_answers(_routes(v2=True), v2=False))
    result, _hidden, _warnings = _run(admin, routes=["switched-off"], apisix_version="3.11")
    assert _by_route(result)["switched-off"][0] == "ok"


def test_a_wrong_secret_on_the_admin_api_fails_the_route_naming_it():
    admin = FakeAdmin(_answers(_routes(secret="not-the-secret-42"), False))
    result, hidden, _warnings = _run(admin)
    assert result["failed"] and result["failed_routes"] == ["secured"]
    assert result["msg"].startswith(BASE + ": 1 of 2 route(s) fail the gateway's check")
    assert "route 'secured'" in result["msg"] and "wrong or stale secret" in result["msg"]
    assert "not-the-secret-42" in hidden


def _selected(answers):
    target = admin_target.AdminApiTarget(dict(admin_url="http://gw:9180"), print, client=FakeAdmin(answers))
    return target.resolve([], ["openid_connect_block"], required=False), target


def test_selection_from_list_answers():
    selected, target = _selected({"/routes": (200, {"action": "get", "node": {"dir": True, "nodes": {}}})})
    assert (selected, target.v2) == ([], True)
    selected, target = _selected(_answers(_routes(), False))
    assert selected == ["secured", "switched-off"] and target.v2 is False
    nameless = [{"uri": "/x", "plugins": {"openid-connect": BLOCK}}, {"id": 7, "plugins": {"openid-connect": BLOCK}}]
    selected, target = _selected({"/routes": (200, {"list": [{"value": route} for route in nameless], "total": 2})})
    assert selected == ["7"] and target.client.sent == [("GET", "/routes")]
    assert admin_target.plugin_config_of({"id": "x", "plugins": None}) is None
    assert PluginState(active=False, config=None).block((3, 11, 0)) == "absent"


def test_no_route_with_the_plugin_warns_naming_the_admin_api():
    admin = FakeAdmin(_answers([r for r in _routes() if r["id"] in ("plain", "bare")], False))
    result, _hidden, warnings = _run(admin)
    assert result["routes"] == [] and len(result["table"]) == 1
    assert len(warnings) == 1 and warnings[0].startswith("Admin API %s/routes: " % BASE)
    assert "no route has an openid-connect block" in warnings[0]


@pytest.mark.parametrize(
    "answers, params, words",
    [
        ({}, dict(routes=["nope"]), ["GET route 'nope': not found at %s/routes/nope (404: Key not found)" % BASE]),
        (
            {"/routes": (401, {"error_msg": "failed to check token", "description": "wrong apikey"})},
            {},
            ["GET routes at %s/routes was refused" % BASE, "admin_key is wrong or missing"],
        ),
        (
            {"/routes": (200, {"error": "no admin api"})},
            {},
            ["unexpected answer", "is admin_url the APISIX Admin API?"],
        ),
        (
            _answers(_routes(), False),
            dict(apisix_version="2.15"),
            ["answers as APISIX 3.x, but apisix_version is 2.15"],
        ),
        (_answers(_routes(), False), dict(routes_key="routes"), ["routes_key only apply to route files (path)"]),
    ],
)
def test_admin_api_failures_fail_the_module_without_a_secret(answers, params, words):
    result, _hidden, _warnings = _run(FakeAdmin(answers), **params)
    assert result["failed"]
    for word in words:
        assert word in result["msg"]


@pytest.mark.parametrize(
    "args, words",
    [
        (dict(path="/nonexistent/values.yaml", admin_url="http://gw:9180"), "mutually exclusive: path|admin_url"),
        ({}, "one of the following is required: path, admin_url"),
    ],
)
def test_the_module_takes_exactly_one_target(capsys, args, words):
    with patch_module_args(dict(args, password=PASSWORD, admin_key=ADMIN_KEY)):
        with pytest.raises(SystemExit) as exit_info:
            apisix_oidc_check.main()
    out = capsys.readouterr().out
    assert exit_info.value.code != 0 and words in json.loads(out)["msg"]
    assert ADMIN_KEY not in out and PASSWORD not in out


def test_the_admin_api_client_is_built_from_the_admin_options(monkeypatch):
    built = {}

    class Recording(FakeAdmin):
        def __init__(self, **kwargs):
            built.update(kwargs)
            super().__init__(_answers(_routes(), False))

    monkeypatch.setattr(admin_target, "AdminClient", Recording)
    params = dict(
        admin_url="https://gw:9180",
        admin_key=ADMIN_KEY,
        admin_validate_certs=False,
        admin_ca_path="/etc/ssl/apisix-ca.pem",
        admin_timeout=3,
        keycloak_validate_certs=True,
        keycloak_ca_path="/etc/ssl/keycloak-ca.pem",
        keycloak_timeout=30,
        url_map={GATEWAY: REACHABLE},
        username="customer",
        password=PASSWORD,
    )
    result = oc.run(params, True, False, print, http=FakeKeycloak())
    assert "failed" not in result
    assert built["admin_url"] == "https://gw:9180" and built["admin_key"] == ADMIN_KEY
    assert (built["validate_certs"], built["ca_path"], built["timeout"]) == (False, "/etc/ssl/apisix-ca.pem", 3)
    assert built["agent"] == "cx.api_auth.apisix_oidc_check" and PASSWORD in built["secrets"]

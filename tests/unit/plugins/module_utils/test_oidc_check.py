# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_apisix/oidc_check.py: the pure checks, and ``run`` on route files
with a fake HTTP layer playing Keycloak (discovery, token endpoint, introspection)."""

import base64
import json
from urllib.parse import parse_qs

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import oidc_check as oc
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

SECRET = "Unit-cim-secret-0123456789"
PASSWORD = "Unit-customer-pw"
GATEWAY = "http://keycloak.ef-external.svc/auth"
REACHABLE = "http://127.0.0.1:8080/auth"


# --- pure parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            GATEWAY + "/realms/r/.well-known/openid-configuration",
            (REACHABLE + "/realms/r/.well-known/openid-configuration", True),
        ),
        (GATEWAY, (REACHABLE, True)),
        ("http://keycloak.ef-external.svc/authz/x", ("http://kc-root/authz/x", True)),
        ("http://keycloak.ef-external.svc.other/auth", ("http://keycloak.ef-external.svc.other/auth", False)),
        ("http://keycloak.ef-external.svc/realms/r", ("http://kc-root/realms/r", True)),
        ("http://other/auth/realms/r", ("http://other/auth/realms/r", False)),
    ],
)
def test_map_url_longest_prefix_up_to_a_separator(url, expected):
    url_map = {GATEWAY + "/": REACHABLE + "/", "http://keycloak.ef-external.svc": "http://kc-root"}
    assert oc.map_url(url, url_map) == expected


def test_map_url_without_map():
    assert oc.map_url("http://a/b", {}) == ("http://a/b", False)
    assert oc.map_url("http://a/b", None) == ("http://a/b", False)


def test_introspection_problem():
    assert oc.introspection_problem({"active": True}, "cim") is None
    problem = oc.introspection_problem({"active": False}, "cim")
    assert "active: false" in problem and "fix-audience" in problem and "401" in problem
    assert "active: null" in oc.introspection_problem({}, "cim")
    assert "no JSON object" in oc.introspection_problem(None, "cim")


def test_scope_problem():
    assert oc.scope_problem("openid email profile", ["email", "profile"]) is None
    assert oc.scope_problem("openid", None) is None
    problem = oc.scope_problem("openid profile", ["email", "profile"])
    assert "required scope email not in the token's scope 'openid profile'" in problem and "403" in problem
    assert "scopes email, profile" in oc.scope_problem(None, ["email", "profile"])


def test_alg_problem_takes_a_string_or_a_list():
    assert oc.alg_problem("RS256", "RS256") is None
    assert oc.alg_problem("RS256", ["ES256", "RS256"]) is None
    assert oc.alg_problem("HS256", None) is None
    assert "signed with HS256, not with RS256" in oc.alg_problem("HS256", "RS256")
    assert "no alg" in oc.alg_problem(None, ["RS256"])


def test_audience():
    assert oc.audience(["cim", "account"], "cim")
    assert oc.audience("cim", "cim")
    assert not oc.audience("account", "cim")
    assert not oc.audience(None, "cim")


def test_table_one_line_per_route_after_a_header():
    lines = oc.table(
        [
            dict(route="files-main", status="ok", aud_has_client=True, reason="fine"),
            dict(route="a", status="open", aud_has_client=None, reason="commented out"),
            dict(route="orders-main-secured", status="failed", aud_has_client=False, reason="bad"),
        ]
    )
    assert len(lines) == 4
    assert lines[0].split() == ["ROUTE", "STATUS", "AUD", "DETAIL"]
    assert lines[1].split() == ["files-main", "ok", "yes", "fine"]
    assert lines[2].split()[:3] == ["a", "open", "-"]
    assert lines[3].split()[:3] == ["orders-main-secured", "failed", "no"]
    assert len({line.index(" ok ") if " ok " in line else None for line in lines[1:2]}) == 1
    assert lines[1].index("ok") == lines[0].index("STATUS")


def test_resolve_env():
    env = {"CIM": "s"}
    assert oc.resolve_env("${{CIM}}", "client_secret", env) == "s"
    assert oc.resolve_env("${{NOPE:=d}}", "client_secret", env) == "d"
    assert oc.resolve_env(True, "x", env) is True
    with pytest.raises(oc.CheckFailed, match=r"client_secret refers to the environment variable NOPE.*NOPE is not set"):
        oc.resolve_env("${{NOPE}}", "client_secret", env)


def test_jwt_part():
    token = _jwt({"alg": "RS256"}, {"aud": "cim"})
    assert oc.jwt_part(token, 0) == {"alg": "RS256"}
    assert oc.jwt_part(token, 1) == {"aud": "cim"}
    assert oc.jwt_part("not-a-jwt", 1) == {}
    assert oc.jwt_part(None, 0) == {}


def test_display_url_drops_credentials():
    assert oc.display_url("http://u:p@kc/auth") == "http://kc/auth"
    assert oc.display_url("http://kc/auth") == "http://kc/auth"


# --- run() with a fake Keycloak --------------------------------------------------------------


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _jwt(header, claims):
    return "%s.%s.sig" % (_b64(header), _b64(claims))


class FakeKeycloak:
    """Answers like Keycloak at REACHABLE for realm ``r`` with client ``cim``/SECRET and user customer."""

    def __init__(self, aud=("cim", "account"), active=True, scope="openid email profile", alg="RS256"):
        self.token = _jwt({"alg": alg}, {"aud": list(aud), "scope": scope})
        self.aud, self.active, self.scope = list(aud), active, scope
        self.calls = []

    def request(self, method, url, data=None, headers=None):
        self.calls.append((method, url))
        base = REACHABLE + "/realms/r/"
        form = {k: v[0] for k, v in parse_qs(data or "").items()}
        authorized = (headers or {}).get("Authorization") == "Basic " + base64.b64encode(
            ("cim:" + SECRET).encode()
        ).decode() or form.get("client_secret") == SECRET
        if url == base + ".well-known/openid-configuration":
            return 200, json.dumps(
                {
                    "issuer": REACHABLE + "/realms/r",
                    "token_endpoint": GATEWAY + "/realms/r/protocol/openid-connect/token",
                    "introspection_endpoint": GATEWAY + "/realms/r/protocol/openid-connect/token/introspect",
                }
            )
        if url == base + "protocol/openid-connect/token":
            if not authorized:
                return 401, json.dumps({"error": "unauthorized_client", "error_description": "Invalid client secret"})
            if form.get("password") != PASSWORD:
                return 401, json.dumps({"error": "invalid_grant", "error_description": "Invalid user credentials"})
            return 200, json.dumps({"access_token": self.token, "refresh_token": "refresh-tok", "scope": self.scope})
        if url == base + "protocol/openid-connect/token/introspect":
            if not authorized:
                return 401, json.dumps({"error": "invalid_request", "error_description": "Authentication failed."})
            return 200, json.dumps({"active": self.active, "aud": self.aud, "scope": self.scope})
        return 404, json.dumps({"error": "Realm does not exist"})


ROUTES = """\
routes:
  - id: secured
    uri: /a/*
    plugins:
      openid-connect:
        discovery: "%(gw)s/realms/r/.well-known/openid-configuration"
        realm: r
        client_id: cim
        client_secret: "%(secret)s"
        bearer_only: true
        token_signing_alg_values_expected: RS256
        required_scopes: [email, profile]
  - id: commented
    uri: /b/*
    plugins:
#      openid-connect:
#        discovery: "%(gw)s/realms/r/.well-known/openid-configuration"
#        client_secret: "%(secret)s"
      proxy-rewrite:
        uri: /b
  - id: switched-off
    uri: /c/*
    plugins:
      openid-connect:
        discovery: "%(gw)s/realms/r/.well-known/openid-configuration"
        client_id: cim
        client_secret: "%(secret)s"
        bearer_only: true
        _meta:
          disable: true
  - id: plain
    uri: /d/*
#END
"""


def _file(tmp_path, secret=SECRET, text=ROUTES):
    path = tmp_path / "apisix.yaml"
    path.write_text(text % {"gw": GATEWAY, "secret": secret})
    return str(path)


# The check's own options, whatever the target (the Admin API tests import it too).
CHECK_ARGS = dict(
    routes=None,
    url_map={GATEWAY: REACHABLE},
    username="customer",
    password=PASSWORD,
    require_audience=True,
    require_secured=False,
    apisix_version="3.11",
)


def _run(path, keycloak, **params):
    args = dict(
        CHECK_ARGS, path=path, routes_key=None, keycloak_validate_certs=True, keycloak_ca_path=None, keycloak_timeout=10
    )
    args.update(params)
    hidden, warnings = [], []
    try:
        result = oc.run(args, True, False, warnings.append, hide=hidden.append, http=keycloak)
    except ModuleError as exc:
        result = dict(exc.result, msg=exc.msg, failed=True)
    text = json.dumps(result)
    for secret in (SECRET, PASSWORD, keycloak.token, "refresh-tok", "not-the-secret-42"):
        assert secret not in text
    return result, hidden, warnings


def _by_route(result):
    return {item["route"]: item for item in result["routes"]}


def test_every_route_with_a_block_is_checked_by_default(tmp_path):
    keycloak = FakeKeycloak()
    result, hidden, _warnings = _run(_file(tmp_path), keycloak)
    assert "failed" not in result and result["changed"] is False and result["failed_routes"] == []
    routes = _by_route(result)
    assert list(routes) == ["secured", "commented", "switched-off"]  # "plain" has no block
    assert routes["secured"]["status"] == "ok" and routes["secured"]["aud_has_client"] is True
    assert "active at introspection with client 'cim'" in routes["secured"]["reason"]
    assert routes["commented"]["status"] == "open" and "commented out" in routes["commented"]["reason"]
    assert routes["switched-off"]["status"] == "open" and "_meta.disable" in routes["switched-off"]["reason"]
    assert len(result["table"]) == 4
    assert SECRET in hidden and PASSWORD in hidden and keycloak.token in hidden
    # the discovery document's endpoints name the gateway's host: they are mapped too
    assert all(url.startswith(REACHABLE) for _method, url in keycloak.calls)


PLACES = """\
routes:
  - id: one
    uri: /a/*
    host: a.example.invalid
    plugins:
#      openid-connect:
#        client_secret: "%(secret)s"
      proxy-rewrite:
        uri: /rewritten
  - id: many
    uris: [/b/*, /c]
    hosts: [b.example.invalid, c.example.invalid]
    plugins:
      openid-connect:
        discovery: "%(gw)s/realms/r/.well-known/openid-configuration"
        client_id: cim
        client_secret: "%(secret)s"
        _meta:
          disable: true
  - id: both
    uri: /d
    uris: [/d, /e]
    host: d.example.invalid
    hosts: [e.example.invalid]
    plugins:
#      openid-connect: {}
      key-auth: {}
  - id: nowhere
    plugins:
#      openid-connect: {}
      key-auth: {}
  - id: odd
    uri: [1, /f, ""]
    hosts: {a: b}
    plugins:
#      openid-connect: {}
      key-auth: {}
"""


def test_each_route_says_where_it_matches_from_the_route_never_a_plugin(tmp_path):
    """uri/uris and host/hosts of the route itself (the report's URI / hosts column); a plugin's uri is not."""
    result, _hidden, _warnings = _run(_file(tmp_path, text=PLACES), FakeKeycloak())
    places = {item["route"]: (item["uris"], item["hosts"]) for item in result["routes"]}
    assert places == {
        "one": (["/a/*"], ["a.example.invalid"]),
        "many": (["/b/*", "/c"], ["b.example.invalid", "c.example.invalid"]),
        "both": (["/d", "/e"], ["d.example.invalid", "e.example.invalid"]),
        "nowhere": ([], []),
        "odd": (["/f"], []),
    }


def test_a_wrong_secret_fails_the_route_naming_it(tmp_path):
    result, _hidden, _warnings = _run(_file(tmp_path, secret="not-the-secret-42"), FakeKeycloak())
    assert result["failed"] and result["failed_routes"] == ["secured"]
    assert "route 'secured'" in result["msg"] and "wrong or stale secret" in result["msg"]
    assert _by_route(result)["secured"]["status"] == "failed"


def test_a_token_without_the_client_in_aud_fails_unless_require_audience_is_off(tmp_path):
    path = _file(tmp_path)
    result, _hidden, _warnings = _run(path, FakeKeycloak(aud=("account",)))
    assert result["failed"] and "not in the token's aud (account)" in result["msg"]
    assert _by_route(result)["secured"]["aud_has_client"] is False
    result, _hidden, _warnings = _run(path, FakeKeycloak(aud=("account",)), require_audience=False)
    assert "failed" not in result
    assert _by_route(result)["secured"]["status"] == "ok" and _by_route(result)["secured"]["aud_has_client"] is False


def test_inactive_token_missing_scope_and_wrong_alg_fail(tmp_path):
    path = _file(tmp_path)
    result, _hidden, _warnings = _run(path, FakeKeycloak(active=False, aud=("account",)))
    assert "active: false" in result["msg"]
    result, _hidden, _warnings = _run(path, FakeKeycloak(scope="openid profile"))
    assert "required scope email not in the token's scope" in result["msg"]
    result, _hidden, _warnings = _run(path, FakeKeycloak(alg="HS256"))
    assert "signed with HS256, not with RS256" in result["msg"]


def test_a_wrong_password_and_an_unmapped_gateway_url(tmp_path):
    path = _file(tmp_path)
    result, _hidden, _warnings = _run(path, FakeKeycloak(), password="wrong-pw")
    assert "password grant for user 'customer' through client 'cim' failed" in result["msg"]
    result, _hidden, _warnings = _run(path, FakeKeycloak(), url_map={})
    assert "discovery %s/realms/r/.well-known/openid-configuration answered HTTP 404" % GATEWAY in result["msg"]


def test_named_routes_open_ones_fail_with_require_secured(tmp_path):
    path = _file(tmp_path)
    result, _hidden, _warnings = _run(path, FakeKeycloak(), routes=["secured", "plain"])
    assert "failed" not in result
    assert (
        _by_route(result)["plain"]["status"] == "open"
        and "no openid-connect plugin" in _by_route(result)["plain"]["reason"]
    )
    result, _hidden, _warnings = _run(path, FakeKeycloak(), routes=["secured", "plain"], require_secured=True)
    assert result["failed"] and result["failed_routes"] == ["plain"] and "(require_secured)" in result["msg"]
    with pytest.raises(ModuleError, match="unknown route id 'nope'"):
        oc.run(dict(path=path, routes=["nope"], password=PASSWORD), True, False, print, http=FakeKeycloak())


def test_an_environment_reference_is_resolved_or_fails_the_route(tmp_path, monkeypatch):
    path = _file(tmp_path, secret="${{CIM_SECRET}}")
    result, _hidden, _warnings = _run(path, FakeKeycloak())
    assert "client_secret refers to the environment variable CIM_SECRET" in result["msg"]
    monkeypatch.setenv("CIM_SECRET", SECRET)
    result, _hidden, _warnings = _run(path, FakeKeycloak())
    assert "failed" not in result and _by_route(result)["secured"]["status"] == "ok"


def test_a_numeric_password_is_refused_and_a_file_without_blocks_warns(tmp_path):
    with pytest.raises(ModuleError, match=r"password must be text.*quote it"):
        oc.run(dict(path=_file(tmp_path), password=775312), True, False, print, http=FakeKeycloak())
    path = tmp_path / "empty.yaml"
    path.write_text("routes:\n  - id: a\n    uri: /a\n#END\n")
    result, _hidden, warnings = _run(str(path), FakeKeycloak())
    assert result["routes"] == [] and len(result["table"]) == 1
    assert warnings and warnings[0].startswith("%s (under routes): " % path)
    assert "no route has an openid-connect block" in warnings[0]


@pytest.mark.parametrize(
    "commented",
    [
        "      # openid-connect:\n      #   client_id: cim\n      #   bearer_only: true\n",
        "      #openid-connect:\n      #  client_id: cim\n      #  bearer_only: true\n",
        "      #openid-connect:\n        #client_id: cim\n        #bearer_only: true\n",
    ],
    ids=["own-indentation", "hash-before-key", "hash-before-each-key"],
)
def test_a_block_commented_at_its_own_indentation_is_reported_open(tmp_path, commented):
    text = "routes:\n  - id: toggled\n    uri: /t/*\n    plugins:\n      cors: {}\n" + commented + "#END\n"
    path = tmp_path / "apisix.yaml"
    path.write_text(text)
    result, _hidden, _warnings = _run(str(path), FakeKeycloak())
    routes = _by_route(result)
    assert list(routes) == ["toggled"]
    assert routes["toggled"]["status"] == "open" and "commented out" in routes["toggled"]["reason"]


class _Unreachable(FakeKeycloak):
    """No answer; the transport's text names the URL it tried, credentials included."""

    def request(self, method, url, data=None, headers=None):
        raise oc.TransportError("cannot connect to proxy http://puser:Pr0xy-PASS@proxy:3128 for %s" % url)


def test_urls_with_credentials_are_masked_in_reasons_and_messages(tmp_path):
    """Whatever URL the check prints (from the block, the transport or url_map) has its credentials masked."""
    text = ROUTES.replace("%(gw)s/realms", "http://kcuser:Kc-PASS-1@gw/realms", 1)
    path = _file(tmp_path, text=text)
    for keycloak in (FakeKeycloak(), _Unreachable()):
        result, _hidden, _warnings = _run(path, keycloak, url_map={"http://kcuser:Kc-PASS-1@gw": REACHABLE})
        printed = json.dumps(result)
        assert "Kc-PASS-1" not in printed and "Pr0xy-PASS" not in printed
    assert "http://puser:********@proxy:3128" in _by_route(result)["secured"]["reason"]
    result, _hidden, _warnings = _run(path, FakeKeycloak(), url_map={GATEWAY: "ftp://u:Map-PASS@kc"})
    assert result["failed"] and "Map-PASS" not in result["msg"] and "ftp://u:********@kc" in result["msg"]

"""Unit tests of plugins/module_utils/_keycloak.py.

Keycloak is played by a tiny HTTP server in a thread (canned answers per path), so the
whole stack — python-keycloak, requests, our error mapping — runs for real without Java.
"""

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.doc_fragments.keycloak import ModuleDocFragment
from ansible_collections.cx.api_auth.plugins.module_utils import _keycloak as kc

ADMIN_PW = "s3cr3t-Adm1n-pw"
CLIENT_SECRET = "cl1ent-s3cret-value"


# --------------------------------------------------------------------------- fakes


class FakeModule:
    """Just what connect() uses of AnsibleModule."""

    def __init__(self, **params):
        base = {name: spec.get("default") for name, spec in kc.keycloak_argument_spec().items()}
        base.update(params)
        self.params = base
        # as AnsibleModule does: the values of every no_log option
        spec = kc.keycloak_argument_spec()
        self.no_log_values = {v for k, v in base.items() if spec.get(k, {}).get("no_log") and v}

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


class Failed(Exception):
    @property
    def msg(self):
        return self.args[0]["msg"]


def _jwt(lifetime):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return "%s.%s.sig" % (part({"alg": "none"}), part({"exp": int(time.time()) + lifetime}))


class StubKeycloak:
    """Canned answers: ``routes[(method, path)] = (status, body)`` or a callable."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.routes = {}
        self.requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                stub.requests.append((method, parts.path, parse_qs(parts.query), body,
                                      self.headers.get("Authorization")))
                path = parts.path
                if not path.startswith(stub.prefix + "/"):
                    status, payload = 404, "<html>Not Found</html>"
                else:
                    route = stub.routes.get((method, path[len(stub.prefix):]))
                    if route is None:
                        status, payload = 404, {"error": "Unable to find matching target resource method"}
                    elif callable(route):
                        status, payload = route(parse_qs(parts.query), parse_qs(body), self.headers)
                    else:
                        status, payload = route
                data = payload if isinstance(payload, str) else json.dumps(payload)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

            def do_GET(self):  # noqa: N802
                self._answer("GET")

            def do_POST(self):  # noqa: N802
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d%s" % (self.server.server_address[1], prefix)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def token_ok(self, lifetime=60, realm="master"):
        counter = {"n": 0}

        def answer(_query, form, _headers):
            counter["n"] += 1
            return 200, {"access_token": "tok%d" % counter["n"], "expires_in": lifetime,
                         "refresh_expires_in": 1800, "refresh_token": "ref%d" % counter["n"],
                         "token_type": "Bearer"}

        self.routes[("POST", "/realms/%s/protocol/openid-connect/token" % realm)] = answer
        return counter

    def realm(self, name, status=200, body=None):
        self.routes[("GET", "/admin/realms/%s" % name)] = (status, body or {"realm": name})


@pytest.fixture(autouse=True)
def _clean_state():
    kc._SECRETS.clear()
    kc._CONTEXT.update(url=None, user=None, auth_realm=None, realm=None)
    yield
    kc._SECRETS.clear()


@pytest.fixture(params=["", "/auth"], ids=["root", "auth"])
def stub(request):
    server = StubKeycloak(prefix=request.param)
    yield server
    server.close()


def _module(url, **extra):
    params = dict(auth_keycloak_url=url, auth_username="admin", auth_password=ADMIN_PW)
    params.update(extra)
    return FakeModule(**params)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- argspec and docs


def test_doc_fragment_mirrors_argument_spec():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)
    spec = kc.keycloak_argument_spec()
    assert set(doc["options"]) == set(spec)
    for name, option in spec.items():
        documented = doc["options"][name]
        assert documented["type"] == option["type"], name
        assert documented.get("default") == option.get("default"), name
        assert documented.get("aliases", []) == option.get("aliases", []), name
        assert bool(documented.get("required")) == bool(option.get("required")), name
        assert documented["description"], name
    assert doc["requirements"] == ["python-keycloak >= 7.0"]


def test_argument_spec_secrets_are_no_log():
    spec = kc.keycloak_argument_spec()
    for name in ("auth_password", "auth_client_secret", "token"):
        assert spec[name]["no_log"] is True
    assert kc.KEYCLOAK_REQUIRED_ONE_OF == [["token", "auth_username", "auth_client_secret"]]
    assert kc.KEYCLOAK_REQUIRED_TOGETHER == [["auth_username", "auth_password"]]


def test_argument_spec_works_with_ansible_module_validation():
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    validator = ArgumentSpecValidator(
        kc.keycloak_argument_spec(),
        required_one_of=kc.KEYCLOAK_REQUIRED_ONE_OF,
        required_together=kc.KEYCLOAK_REQUIRED_TOGETHER,
    )
    result = validator.validate({"url": "http://h", "auth_username": "a", "auth_password": "b"})
    assert result.error_messages == []
    assert result.validated_parameters["auth_realm"] == "master"
    assert "b" in result._no_log_values  # pylint: disable=protected-access
    assert validator.validate({"url": "http://h"}).error_messages
    assert validator.validate({"url": "http://h", "auth_username": "a"}).error_messages
    # No username/password aliases: those names belong to the customer user module.
    assert validator.validate({"url": "http://h", "username": "a", "password": "b"}).error_messages


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "given,expected",
    [
        ("http://h:8080", "http://h:8080/"),
        ("http://h:8080/", "http://h:8080/"),
        ("http://h:8080/auth", "http://h:8080/auth/"),
        ("http://h:8080/auth/", "http://h:8080/auth/"),
        ("  https://h/auth//  ", "https://h/auth/"),
    ],
)
def test_normalize_url(given, expected):
    assert kc.normalize_url(given) == expected


def test_normalize_url_keeps_auth_for_urljoin():
    from urllib.parse import urljoin

    assert urljoin(kc.normalize_url("http://h/auth"), "admin/realms/x") == "http://h/auth/admin/realms/x"
    assert kc.token_endpoint("http://h/auth", "r") == "http://h/auth/realms/r/protocol/openid-connect/token"


@pytest.mark.parametrize("bad", ["", "h:8080", "ftp://h", None])
def test_normalize_url_rejects(bad):
    with pytest.raises(kc.KeycloakModuleError):
        kc.normalize_url(bad)


def test_display_url_hides_userinfo():
    assert kc.display_url("https://user:pw@h:1/auth/") == "https://h:1/auth"


# --------------------------------------------------------------------------- secrets and error text


def test_scrub_masks_every_registered_secret():
    kc.register_secret("abc123")
    kc.register_secret("abc123456")
    kc.register_secret("")
    kc.register_secret(None)
    assert kc.scrub(b"x abc123456 y abc123") == "x ******** y ********"
    err = kc.KeycloakModuleError("failed with abc123", detail="abc123")
    assert "abc123" not in str(err) and "abc123" not in err.detail


@pytest.mark.parametrize(
    "body,expected",
    [
        (b'{"error":"invalid_grant","error_description":"Invalid user credentials"}',
         "invalid_grant: Invalid user credentials"),
        (b'{"errorMessage":"Protocol mapper exists with same name"}',
         "Protocol mapper exists with same name"),
        ('{"error":"Realm not found."}', "Realm not found."),
        (b"<html><body>Not Found</body></html>", "(HTML page)"),
        (b"plain\n text", "plain text"),
        (None, ""),
    ],
)
def test_keycloak_error_text(body, expected):
    assert kc.keycloak_error_text(body) == expected


def test_keycloak_errors_maps_codes_and_scrubs():
    from keycloak.exceptions import KeycloakGetError, KeycloakPostError

    kc.register_secret(CLIENT_SECRET)
    kc._CONTEXT.update(url="http://kc:1/auth/", user="admin", auth_realm="master", realm="expertflow")
    with pytest.raises(kc.KeycloakModuleError) as info:
        with kc.keycloak_errors("reading client 'cim' in realm 'expertflow'"):
            raise KeycloakGetError(error_message=b'{"error":"HTTP 404 Not Found"}', response_code=404)
    msg = str(info.value)
    assert msg.startswith("reading client 'cim' in realm 'expertflow' failed")
    assert "http://kc:1/auth" in msg and "404" in msg and "HTTP 404 Not Found" in msg
    assert info.value.http_code == 404

    with pytest.raises(kc.KeycloakModuleError) as info:
        with kc.keycloak_errors("creating mapper 'fix-audience'"):
            raise KeycloakPostError(error_message=b'{"error":"unknown_error"}', response_code=403)
    assert "user 'admin' has no permission" in str(info.value)
    assert "realm 'expertflow'" in str(info.value) and "(403" in str(info.value)

    with pytest.raises(kc.KeycloakModuleError) as info:
        with kc.keycloak_errors("updating client 'cim'"):
            raise KeycloakPostError(
                error_message=("bad secret %s" % CLIENT_SECRET).encode(), response_code=400)
    assert CLIENT_SECRET not in str(info.value) and "********" in str(info.value)

    with pytest.raises(kc.KeycloakModuleError) as info:
        with kc.keycloak_errors("x"):
            raise KeycloakPostError(error_message=b"", response_code=401)
    assert "rejected the credentials of 'admin' in realm 'master'" in str(info.value)


def test_keycloak_errors_passes_other_exceptions():
    with pytest.raises(KeyError):
        with kc.keycloak_errors("x"):
            raise KeyError("programming error")


# --------------------------------------------------------------------------- module_failures()


def test_module_failures_masks_no_log_values_of_any_exception():
    module = FakeModule(auth_keycloak_url="http://kc:1", auth_username="admin", auth_password=ADMIN_PW)
    with pytest.raises(Failed) as info:
        with kc.module_failures(module, "Managing mapper 'm' on client 'cim' in realm 'r' failed"):
            raise RuntimeError("login as admin/%s went wrong" % ADMIN_PW)
    assert info.value.args[0] == {
        "msg": "Managing mapper 'm' on client 'cim' in realm 'r' failed: RuntimeError: login as admin/******** went wrong",
    }


def test_module_failures_masks_registered_secrets_and_keeps_module_errors_as_they_are():
    module = FakeModule(auth_keycloak_url="http://kc:1", token="t0ken-value")
    with pytest.raises(Failed) as info:
        with kc.module_failures(module):
            kc.register_secret(CLIENT_SECRET)  # registered after the error object exists
            raise kc.KeycloakModuleError("client 'cim' rejected %s and t0ken-value" % CLIENT_SECRET)
    assert info.value.args[0] == {"msg": "client 'cim' rejected ******** and ********"}
    with pytest.raises(Failed) as info:
        with kc.module_failures(module):
            raise KeyError("t0ken-value")
    assert info.value.args[0] == {"msg": "Unexpected failure: KeyError: '********'"}


def test_module_failures_lets_exit_and_interrupt_pass():
    module = FakeModule(auth_keycloak_url="http://kc:1", token="t0ken-value")
    with pytest.raises(SystemExit):
        with kc.module_failures(module):
            raise SystemExit(0)
    with pytest.raises(KeyboardInterrupt):
        with kc.module_failures(module):
            raise KeyboardInterrupt()
    with kc.module_failures(module):
        value = 1
    assert value == 1


def test_module_failures_adds_no_traceback_even_when_tracebacks_are_enabled(monkeypatch, capsys):
    """A real AnsibleModule with error tracebacks on: the result has no ``exception`` key."""
    from ansible.module_utils import basic
    from ansible.module_utils._internal import _traceback  # ansible-core 2.19+, as in the venv
    from ansible.module_utils.testing import patch_module_args

    monkeypatch.setattr(_traceback, "_module_tracebacks_enabled_events", frozenset(_traceback.TracebackEvent))
    args = {"auth_keycloak_url": "http://kc:1", "auth_username": "admin", "auth_password": ADMIN_PW}
    with patch_module_args(args):
        module = basic.AnsibleModule(kc.keycloak_argument_spec())
        with pytest.raises(SystemExit) as exit_info:
            with kc.module_failures(module, "Doing it failed"):
                raise ValueError("the password is %s" % ADMIN_PW)
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert ADMIN_PW not in out
    result = json.loads(out)
    assert result["msg"] == "Doing it failed: ValueError: the password is ********"
    assert "exception" not in result
    assert result["failed"] is True


# --------------------------------------------------------------------------- connect()


def test_connect_success_uses_user_realm_and_tenant_realm(stub):
    counter = stub.token_ok()
    stub.realm("expertflow")
    url = stub.url  # no trailing slash: /auth must survive
    admin = kc.connect(_module(url), "expertflow", fail=False)
    assert counter["n"] == 1
    assert admin.connection.realm_name == "expertflow"
    assert admin.connection.user_realm_name == "master"
    assert admin.connection.base_url == url + "/"
    assert stub.requests[-1][1] == stub.prefix + "/admin/realms/expertflow"
    assert stub.requests[-1][4] == "Bearer tok1"


def test_connect_wrong_credentials(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
    with pytest.raises(Failed) as info:
        kc.connect(_module(stub.url + "/"), "expertflow")
    assert info.value.msg == (
        "Keycloak at %s rejected the credentials of 'admin' in realm 'master' (invalid_grant)" % stub.url
    )


def test_connect_client_credentials_rejected(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        401, {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"})
    module = FakeModule(auth_keycloak_url=stub.url, auth_client_id="ops", auth_client_secret=CLIENT_SECRET)
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(module, "expertflow", fail=False)
    assert "rejected the credentials of client 'ops' in realm 'master'" in str(info.value)
    assert CLIENT_SECRET not in str(info.value)
    body = parse_qs(stub.requests[0][3])
    assert body["grant_type"] == ["client_credentials"] and body["client_id"] == ["ops"]


def test_connect_unknown_auth_realm(stub):
    stub.routes[("POST", "/realms/nope/protocol/openid-connect/token")] = (404, {"error": "Realm does not exist"})
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(_module(stub.url, auth_realm="nope"), "expertflow", fail=False)
    assert str(info.value) == "Realm 'nope' (auth_realm) does not exist on Keycloak at %s" % stub.url


def test_connect_missing_auth_path_hint():
    """A server under /auth reached without it: the message hints at the context path."""
    stub = StubKeycloak(prefix="/auth")
    url = stub.url[: -len(stub.prefix)]
    try:
        with pytest.raises(kc.KeycloakModuleError) as info:
            kc.connect(_module(url), "expertflow", fail=False)
    finally:
        stub.close()
    assert "No Keycloak token endpoint at %s" % url in str(info.value)
    assert "/auth" in str(info.value)


def test_connect_unknown_realm(stub):
    stub.token_ok()
    stub.realm("nope", 404, {"error": "Realm not found."})
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(_module(stub.url), "nope", fail=False)
    assert str(info.value) == "Realm 'nope' does not exist on Keycloak at %s" % stub.url


def test_connect_no_permission(stub):
    stub.token_ok()
    stub.realm("expertflow", 403, {"error": "HTTP 403 Forbidden"})
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(_module(stub.url, auth_username="x"), "expertflow", fail=False)
    assert str(info.value) == (
        "Keycloak at %s: user 'x' (realm 'master') has no permission to manage realm 'expertflow' (403)"
        % stub.url
    )


def test_connect_connection_refused():
    url = "http://127.0.0.1:%d/auth" % _free_port()
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(_module(url), "expertflow", fail=False)
    assert str(info.value) == "Cannot connect to Keycloak at %s: connection refused" % url


def test_connect_tls_to_plain_http(stub):
    url = stub.url.replace("http://", "https://")
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(_module(url, connection_timeout=5), "expertflow", fail=False)
    msg = str(info.value)
    assert msg.startswith("TLS verification failed for %s: " % url)
    assert "ca_path" in msg and "validate_certs" in msg and ADMIN_PW not in msg


def test_connect_with_static_token(stub):
    stub.realm("expertflow")
    token = _jwt(300)
    admin = kc.connect(FakeModule(auth_keycloak_url=stub.url, token=token), "expertflow", fail=False)
    assert stub.requests[-1][4] == "Bearer " + token
    assert not [r for r in stub.requests if r[0] == "POST"]
    remaining = (admin.connection.expires_at.timestamp() - time.time())
    assert 200 < remaining <= 300


def test_connect_rejected_static_token(stub):
    stub.routes[("GET", "/admin/realms/expertflow")] = (401, {"error": "HTTP 401 Unauthorized"})
    token = _jwt(300)
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.connect(FakeModule(auth_keycloak_url=stub.url, token=token), "expertflow", fail=False)
    assert "rejected the given token" in str(info.value)
    assert token not in str(info.value)


def test_connect_requires_credentials(stub):
    with pytest.raises(Failed) as info:
        kc.connect(FakeModule(auth_keycloak_url=stub.url), "expertflow")
    assert "one of token, auth_username or auth_client_secret" in info.value.msg


def test_connect_missing_library(monkeypatch):
    monkeypatch.setattr(kc, "HAS_KEYCLOAK", False)
    with pytest.raises(Failed) as info:
        kc.connect(_module("http://h"), "expertflow")
    assert "python-keycloak" in info.value.msg


def test_verify_option():
    assert kc._verify_option({"validate_certs": True, "ca_path": None}) is True
    assert kc._verify_option({"validate_certs": True, "ca_path": "/ca.pem"}) == "/ca.pem"
    assert kc._verify_option({"validate_certs": False, "ca_path": "/ca.pem"}) is False


def test_expired_token_is_renewed(stub):
    """python-keycloak renews at 90 % of expires_in: a 2 s token is renewed after 1.8 s."""
    counter = stub.token_ok(lifetime=2)
    stub.realm("expertflow")
    admin = kc.connect(_module(stub.url), "expertflow", fail=False)
    assert counter["n"] == 1
    time.sleep(1.2)
    with kc.keycloak_errors("reading realm"):
        admin.get_realm("expertflow")
    assert counter["n"] == 2
    refresh = parse_qs(stub.requests[-2][3])
    assert refresh["grant_type"] == ["refresh_token"] and refresh["refresh_token"] == ["ref1"]
    assert stub.requests[-1][4] == "Bearer tok2"


def test_token_renewed_after_401(stub):
    """A token revoked on the server (401 before its expiry) is renewed and the call repeated."""
    counter = stub.token_ok(lifetime=3600)
    answers = iter([(200, {"realm": "expertflow"}), (401, {"error": "HTTP 401 Unauthorized"}),
                    (200, {"realm": "expertflow"})])
    stub.routes[("GET", "/admin/realms/expertflow")] = lambda *a: next(answers)
    admin = kc.connect(_module(stub.url), "expertflow", fail=False)
    with kc.keycloak_errors("reading realm"):
        assert admin.get_realm("expertflow") == {"realm": "expertflow"}
    assert counter["n"] == 2


# --------------------------------------------------------------------------- helpers


def test_get_client_by_client_id(stub):
    stub.token_ok()
    stub.realm("expertflow")

    def clients(query, _form, _headers):
        wanted = query.get("clientId", [""])[0]
        found = [c for c in ({"id": "u1", "clientId": "cim"}, {"id": "u2", "clientId": "cim2"})
                 if c["clientId"] == wanted]
        return 200, found

    stub.routes[("GET", "/admin/realms/expertflow/clients")] = clients
    admin = kc.connect(_module(stub.url), "expertflow", fail=False)
    assert kc.get_client_by_client_id(admin, "cim") == {"id": "u1", "clientId": "cim"}
    assert kc.get_client_by_client_id(admin, "nope") is None
    assert stub.requests[-1][2] == {"clientId": ["nope"]}


def test_get_client_by_client_id_error(stub):
    stub.token_ok()
    stub.realm("expertflow")
    stub.routes[("GET", "/admin/realms/expertflow/clients")] = (403, {"error": "HTTP 403 Forbidden"})
    admin = kc.connect(_module(stub.url), "expertflow", fail=False)
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.get_client_by_client_id(admin, "cim")
    msg = str(info.value)
    assert msg.startswith("reading client 'cim' in realm 'expertflow' failed")
    assert "no permission" in msg and "403" in msg


def test_get_server_info(stub):
    stub.token_ok()
    stub.realm("expertflow")
    stub.routes[("GET", "/admin/serverinfo")] = (200, {"systemInfo": {"version": "19.0.1"}})
    admin = kc.connect(_module(stub.url), "expertflow", fail=False)
    assert kc.get_server_info(admin)["systemInfo"]["version"] == "19.0.1"


@pytest.mark.parametrize(
    "status,body,expected",
    [
        (200, {"access_token": "t", "expires_in": 60}, True),
        (401, {"error": "invalid_grant", "error_description": "Invalid user credentials"}, False),
        (400, {"error": "invalid_grant", "error_description": "Account is not fully set up"}, "raise"),
        (401, {"error": "invalid_client", "error_description": "Invalid client credentials"}, "raise"),
        (400, {"error": "unauthorized_client",
               "error_description": "Client not allowed for direct access grants"}, "raise"),
    ],
)
def test_check_password(stub, status, body, expected):
    user_pw = "Us3r-pw-never-shown"
    stub.routes[("POST", "/realms/expertflow/protocol/openid-connect/token")] = (status, body)
    if expected == "raise":
        with pytest.raises(kc.KeycloakModuleError) as info:
            kc.check_password(stub.url, "expertflow", "customer", user_pw, "cim", CLIENT_SECRET)
        assert body["error_description"] in str(info.value)
        assert user_pw not in str(info.value) and CLIENT_SECRET not in str(info.value)
        assert "user 'customer' in realm 'expertflow'" in str(info.value)
    else:
        assert kc.check_password(stub.url, "expertflow", "customer", user_pw, "cim", CLIENT_SECRET) is expected
    form = parse_qs(stub.requests[-1][3])
    assert form["grant_type"] == ["password"] and form["client_secret"] == [CLIENT_SECRET]


def test_check_password_connection_refused():
    url = "http://127.0.0.1:%d" % _free_port()
    with pytest.raises(kc.KeycloakModuleError) as info:
        kc.check_password(url, "r", "u", "pw-secret", "cim")
    assert "connection refused" in str(info.value) and "pw-secret" not in str(info.value)

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_keycloak/{options,errors,connection}.py.

Keycloak is played by ``fakes.StubKeycloak``, a tiny HTTP server in a thread (canned answers per
path), so the whole stack (python-keycloak, requests, the error wording) runs for real without Java.
"""

import base64
import json
import socket
import time
from urllib.parse import parse_qs, urljoin

import pytest
import requests
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from keycloak.exceptions import KeycloakConnectionError, KeycloakGetError, KeycloakPostError

from ansible_collections.cx.api_auth.plugins.module_utils import _http_errors, _masking
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import connection as kc
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import errors
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import (
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    SECRET_OPTIONS,
    keycloak_argument_spec,
    require_text,
)

from ...fakes import StubKeycloak

ADMIN_PW = "s3cr3t-Adm1n-pw"
CLIENT_SECRET = "cl1ent-s3cret-value"
PURPOSE = "mapper 'm' on client 'cim' in realm 'expertflow'"


def options(**args):
    """The connection options as AnsibleModule validates them."""
    result = ArgumentSpecValidator(
        keycloak_argument_spec(), required_one_of=REQUIRED_ONE_OF, required_together=REQUIRED_TOGETHER
    ).validate(args)
    assert result.error_messages == []
    return result.validated_parameters


def connection(url, realm="expertflow", **extra):
    args = dict(auth_keycloak_url=url, auth_username="admin", auth_password=ADMIN_PW)
    args.update(extra)
    return kc.KeycloakConnection(options(**{k: v for k, v in args.items() if v is not None}), realm, PURPOSE)


def refused(conn):
    """The message ``conn.open()`` fails with; it names the purpose and no secret."""
    with pytest.raises(errors.KeycloakModuleError) as info:
        conn.open()
    message = conn.scrub(str(info.value))
    assert message.startswith("Cannot manage %s: " % PURPOSE)
    assert ADMIN_PW not in message and CLIENT_SECRET not in message
    return message


def _jwt(lifetime):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return "%s.%s.sig" % (part({"alg": "none"}), part({"exp": int(time.time()) + lifetime}))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["", "/auth"], ids=["root", "auth"])
def stub(request):
    server = StubKeycloak(prefix=request.param)
    yield server
    server.close()


# --------------------------------------------------------------------------- options


def test_argument_spec_works_with_ansible_module_validation():
    validator = ArgumentSpecValidator(
        keycloak_argument_spec(realm=dict(type="str")),
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
    )
    result = validator.validate({"url": "http://h", "auth_username": "a", "auth_password": "b", "realm": "r"})
    assert result.error_messages == []
    assert result.validated_parameters["auth_realm"] == "master"
    assert result.validated_parameters["realm"] == "r"
    for secret in ("auth_password", "auth_client_secret", "token"):
        given = validator.validate({"url": "http://h", "token": "t", secret: "hidden-%s" % secret})
        assert "hidden-%s" % secret in given._no_log_values  # pylint: disable=protected-access
    assert validator.validate({"url": "http://h"}).error_messages  # no credentials at all
    assert validator.validate({"url": "http://h", "auth_username": "a"}).error_messages  # no password
    # No username/password aliases: those names belong to the customer user module.
    assert validator.validate({"url": "http://h", "username": "a", "password": "b"}).error_messages


@pytest.mark.parametrize("secret", ["auth_password", "auth_client_secret", "token"])
@pytest.mark.parametrize(
    "value, kind, masked",
    [
        (260810, "a number", "260810"),
        (1.5, "a number", "1.5"),
        (True, "a boolean", None),
        (["x-secret"], "a list", "x-secret"),
        ({"k": "v-secret"}, "a mapping", "v-secret"),
    ],
    ids=["int", "float", "bool", "list", "dict"],
)
def test_secret_options_are_never_converted_and_refused_unless_text(secret, value, kind, masked):
    """YAML reads unquoted 0775312 as 260810: AnsibleModule must not turn it into the text '260810'."""
    validator = ArgumentSpecValidator(
        keycloak_argument_spec(), required_one_of=REQUIRED_ONE_OF, required_together=REQUIRED_TOGETHER
    )
    args = {"url": "http://h", "auth_username": "admin", "auth_password": "pw"}
    args[secret] = value
    result = validator.validate(args)
    assert result.error_messages == []
    assert result.validated_parameters[secret] == value and type(result.validated_parameters[secret]) is type(value)
    if masked:  # still hidden by no_log wherever Ansible prints it
        assert masked in result._no_log_values  # pylint: disable=protected-access
    with pytest.raises(errors.KeycloakModuleError) as info:
        require_text(result.validated_parameters, SECRET_OPTIONS, "user 'customer' in realm 'r'")
    message = str(info.value)
    for fact in (
        "user 'customer' in realm 'r'",
        "%s must be text" % secret,
        kind,
        "quote it",
        "never converted",
        "nothing was sent to Keycloak",
    ):
        assert fact in message
    assert str(value) not in message and "260810" not in message and "0775312" not in message
    assert not masked or masked not in message


def test_text_and_unset_secrets_pass():
    params = {"auth_password": "0775312", "auth_client_secret": None, "token": ""}
    require_text(params, SECRET_OPTIONS, "x")
    require_text({}, SECRET_OPTIONS, "x")


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "given,expected",
    [
        ("http://h:8080", "http://h:8080/"),
        ("http://h:8080/", "http://h:8080/"),
        ("http://h:8080/auth", "http://h:8080/auth/"),
        ("http://h:8080/auth/", "http://h:8080/auth/"),
        ("  https://h/auth//  ", "https://h/auth/"),
        ("", None),
        ("h:8080", None),
        ("ftp://h", None),
        (None, None),
    ],
)
def test_normalize_url(given, expected):
    assert kc.normalize_url(given) == expected


def test_normalize_url_keeps_auth_for_urljoin():
    assert urljoin(kc.normalize_url("http://h/auth"), "admin/realms/x") == "http://h/auth/admin/realms/x"


def test_display_url_hides_userinfo():
    assert _http_errors.display_url("https://user:pw@h:1/auth/") == "https://h:1/auth"


def test_bad_url_is_refused_before_any_request():
    message = refused(connection("h:8080"))
    assert "auth_keycloak_url" in message and "'h:8080'" in message


def test_verify_option():
    assert connection("http://h").verify is True
    assert connection("http://h", ca_path="/ca.pem").verify == "/ca.pem"
    assert connection("http://h", ca_path="/ca.pem", validate_certs=False).verify is False


# --------------------------------------------------------------------------- secrets and error text


def test_secrets_mask_every_value_longest_first():
    secrets = _masking.Secrets(["abc123", None, "", True])
    secrets.add("abc123456")
    assert secrets.scrub(b"x abc123456 y abc123") == "x ******** y ********"
    assert secrets.scrub(None) is None


def test_connection_masks_its_secrets_and_the_tokens_it_learnt():
    conn = connection("http://h", auth_client_secret=CLIENT_SECRET)
    assert conn.scrub("%s and %s" % (ADMIN_PW, CLIENT_SECRET)) == "******** and ********"
    conn.admin = type("Admin", (), {"connection": type("C", (), {"token": {"access_token": "acc3ss"}})()})()
    assert conn.scrub("Bearer acc3ss") == "Bearer ********"


@pytest.mark.parametrize(
    "body,expected",
    [
        (
            b'{"error":"invalid_grant","error_description":"Invalid user credentials"}',
            "invalid_grant: Invalid user credentials",
        ),
        (b'{"errorMessage":"Protocol mapper exists with same name"}', "Protocol mapper exists with same name"),
        ('{"error":"Realm not found."}', "Realm not found."),
        (b"<html><body>Not Found</body></html>", "(HTML page)"),
        (b"plain\n text", "plain text"),
        (b"x" * 400, "x" * 297 + "..."),
        (None, ""),
    ],
)
def test_keycloak_error_text(body, expected):
    assert _http_errors.error_text(body) == expected


def test_answer_table():
    context = dict(
        url="http://kc",
        credentials="the credentials of user 'a' in realm 'master'",
        who="user 'a' (realm 'master')",
        realm="r",
    )
    assert errors.answer_message(401, "invalid_grant", **context) == (
        "Keycloak at http://kc rejected the credentials of user 'a' in realm 'master' (401: invalid_grant)"
    )
    assert errors.answer_message(403, "", **context) == (
        "Keycloak at http://kc says user 'a' (realm 'master') has no permission for it in realm 'r' (403)"
    )
    assert errors.answer_message(409, "exists", **context) == "Keycloak at http://kc answered 409: exists"
    assert errors.answer_message(400, "x", as_status=401, **context).startswith("Keycloak at http://kc rejected")
    assert errors.answer_message(None, "", **context) == "Keycloak at http://kc answered with an error"


@pytest.mark.parametrize(
    "exc, problem",
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (requests.exceptions.ConnectTimeout("timed out"), "timed out (connection_timeout)"),
        (OSError("[Errno -2] Name or service not known"), "unknown host"),
        (OSError(113, "No route to host"), "No route to host"),
    ],
)
def test_transport_problems(exc, problem):
    wrapped = KeycloakConnectionError("Can't connect to server")
    wrapped.__cause__ = exc
    assert (
        _http_errors.transport_problem(wrapped, "http://kc") == "Cannot connect to Keycloak at http://kc: %s" % problem
    )
    assert _http_errors.transport_problem(KeyError("x"), "http://kc") is None


def test_errors_word_each_status_with_url_realm_and_admin():
    conn = connection("http://kc:1/auth/", auth_client_secret=CLIENT_SECRET)
    with pytest.raises(errors.KeycloakModuleError) as info:
        with conn.errors("reading client 'cim' in realm 'expertflow'"):
            raise KeycloakGetError(error_message=b'{"error":"HTTP 404 Not Found"}', response_code=404)
    message = str(info.value)
    assert message.startswith("reading client 'cim' in realm 'expertflow' failed")
    assert "http://kc:1/auth " in message and "404" in message and "HTTP 404 Not Found" in message
    assert info.value.http_code == 404 and info.value.detail == "HTTP 404 Not Found"

    with pytest.raises(errors.KeycloakModuleError) as info:
        with conn.errors("creating mapper 'fix-audience'", advice={403: "Grant it."}):
            raise KeycloakPostError(error_message=b'{"error":"unknown_error"}', response_code=403)
    assert "user 'admin'" in str(info.value) and "no permission" in str(info.value)
    assert "realm 'expertflow'" in str(info.value) and "(403" in str(info.value)
    assert str(info.value).endswith(". Grant it.")

    with pytest.raises(errors.KeycloakModuleError) as info:
        with conn.errors("updating client 'cim'"):
            raise KeycloakPostError(error_message=("bad secret %s" % CLIENT_SECRET).encode(), response_code=400)
    assert CLIENT_SECRET not in conn.scrub(str(info.value)) and "********" in conn.scrub(str(info.value))

    with pytest.raises(errors.KeycloakModuleError) as info:
        with conn.errors("x"):
            raise KeycloakPostError(error_message=b"", response_code=401)
    assert "rejected the credentials of user 'admin' in realm 'master'" in str(info.value)


def test_errors_let_other_exceptions_pass():
    with pytest.raises(KeyError):
        with connection("http://kc").errors("x"):
            raise KeyError("programming error")


# --------------------------------------------------------------------------- open()


def test_open_uses_user_realm_and_tenant_realm(stub):
    counter = stub.token_ok()
    stub.realm("expertflow")
    conn = connection(stub.url).open()  # no trailing slash: /auth must survive
    assert counter["n"] == 1
    assert conn.admin.connection.realm_name == "expertflow"
    assert conn.admin.connection.user_realm_name == "master"
    assert conn.admin.connection.base_url == stub.url + "/"
    assert conn.realm_representation == {"realm": "expertflow"}
    assert stub.requests[-1][1] == stub.prefix + "/admin/realms/expertflow"
    assert stub.requests[-1][4] == "Bearer tok1"
    assert conn.scrub("tok1 ref1") == "******** ********"


def test_open_wrong_credentials(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        401,
        {"error": "invalid_grant", "error_description": "Invalid user credentials"},
    )
    message = refused(connection(stub.url + "/"))
    for fact in (stub.url + " ", "rejected the credentials", "user 'admin'", "realm 'master'", "401", "invalid_grant"):
        assert fact in message


def test_open_client_credentials_rejected(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        401,
        {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"},
    )
    message = refused(
        connection(
            stub.url, auth_username=None, auth_password=None, auth_client_id="ops", auth_client_secret=CLIENT_SECRET
        )
    )
    assert "rejected the credentials of client 'ops' in realm 'master'" in message
    body = parse_qs(stub.requests[0][3])
    assert body["grant_type"] == ["client_credentials"] and body["client_id"] == ["ops"]


def test_open_disabled_admin_is_a_refused_login(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (
        400,
        {"error": "invalid_grant", "error_description": "Account disabled"},
    )
    message = refused(connection(stub.url))
    assert "rejected the credentials of user 'admin'" in message and "400" in message and "Account disabled" in message


def test_open_login_answered_otherwise(stub):
    stub.routes[("POST", "/realms/master/protocol/openid-connect/token")] = (500, {"error": "unknown_error"})
    message = refused(connection(stub.url))
    assert "logging in as user 'admin' (realm 'master') failed" in message and "500" in message


def test_open_unknown_auth_realm(stub):
    stub.routes[("POST", "/realms/nope/protocol/openid-connect/token")] = (404, {"error": "Realm does not exist"})
    message = refused(connection(stub.url, auth_realm="nope"))
    assert "Realm 'nope' (auth_realm) does not exist on Keycloak at %s" % stub.url in message


def test_open_missing_auth_path_hint():
    """A server under /auth reached without it: the message hints at the context path."""
    stub = StubKeycloak(prefix="/auth")
    url = stub.url[: -len(stub.prefix)]
    try:
        message = refused(connection(url))
    finally:
        stub.close()
    assert "No Keycloak token endpoint at %s" % url in message and "/auth" in message


def first_call_refused(conn, call=lambda conn: conn.get_client("cim")):
    """The message the first admin call after ``conn.open()`` fails with (open sends no admin call)."""
    conn.open()
    with pytest.raises(errors.KeycloakModuleError) as info:
        call(conn)
    message = conn.scrub(str(info.value))
    assert ADMIN_PW not in message and CLIENT_SECRET not in message
    return message


def _realm_representation(conn):
    return conn.realm_representation


def test_open_reads_nothing_but_the_token(stub):
    stub.token_ok()
    conn = connection(stub.url).open()
    assert [(r[0], r[1]) for r in stub.requests] == [
        ("POST", stub.prefix + "/realms/master/protocol/openid-connect/token")
    ]
    assert not conn.realm_read


def test_unknown_realm_on_the_first_call(stub):
    stub.token_ok()
    stub.routes[("GET", "/admin/realms/nope/clients")] = (404, {"error": "Realm not found."})
    message = first_call_refused(connection(stub.url, realm="nope"))
    assert message.startswith("Cannot manage %s: " % PURPOSE)
    assert "Realm 'nope' does not exist on Keycloak at %s" % stub.url in message


def test_unknown_realm_when_the_realm_is_read(stub):
    stub.token_ok()
    stub.realm("nope", 404, {"error": "Realm not found."})
    message = first_call_refused(connection(stub.url, realm="nope"), _realm_representation)
    assert message.startswith("Cannot manage %s: " % PURPOSE)
    assert "Realm 'nope' does not exist on Keycloak at %s" % stub.url in message


def test_realm_read_without_permission(stub):
    stub.token_ok()
    stub.realm("expertflow", 403, {"error": "HTTP 403 Forbidden"})
    message = first_call_refused(connection(stub.url, auth_username="x"), _realm_representation)
    for fact in (stub.url + " ", "user 'x' (realm 'master')", "no permission", "realm 'expertflow'", "403"):
        assert fact in message


def test_realm_read_answered_otherwise(stub):
    stub.token_ok()
    stub.realm("expertflow", 502, {"error": "bad gateway"})
    message = first_call_refused(connection(stub.url), _realm_representation)
    assert "reading realm 'expertflow' failed" in message and "502" in message


def test_realm_is_read_once(stub):
    stub.token_ok()
    stub.realm("expertflow")
    conn = connection(stub.url).open()
    assert conn.realm_representation == conn.realm_representation == {"realm": "expertflow"}
    assert len([r for r in stub.requests if r[1] == stub.prefix + "/admin/realms/expertflow"]) == 1


def test_open_connection_refused():
    url = "http://127.0.0.1:%d/auth" % _free_port()
    assert refused(connection(url)).endswith("Cannot connect to Keycloak at %s: connection refused" % url)


def test_open_tls_to_plain_http(stub):
    url = stub.url.replace("http://", "https://")
    message = refused(connection(url, connection_timeout=5))
    assert "TLS verification failed for %s: " % url in message
    assert "ca_path" in message and "validate_certs" in message


def test_open_with_static_token(stub):
    token = _jwt(300)
    conn = connection(stub.url, auth_username=None, auth_password=None, token=token).open()
    assert not stub.requests  # nothing is sent until the first admin call
    remaining = conn.admin.connection.expires_at.timestamp() - time.time()
    assert 200 < remaining <= 300
    stub.realm("expertflow")
    conn.realm_representation  # noqa: B018  # pylint: disable=pointless-statement
    assert stub.requests[-1][4] == "Bearer " + token


def test_open_rejected_static_token(stub):
    stub.routes[("GET", "/admin/realms/expertflow/clients")] = (401, {"error": "HTTP 401 Unauthorized"})
    token = _jwt(300)
    conn = connection(stub.url, auth_username=None, auth_password=None, token=token)
    message = first_call_refused(conn)
    assert message.startswith("Cannot manage %s: " % PURPOSE)
    assert "rejected the given token" in message and token not in message


def test_rejected_token_with_credentials_is_replaced_by_one_login(stub):
    """The role's token, rejected (expired or revoked), costs one password grant, never the run."""
    counter = stub.token_ok(lifetime=3600)
    answers = iter([(401, {"error": "HTTP 401 Unauthorized"}), (200, [{"id": "u1", "clientId": "cim"}])])
    stub.routes[("GET", "/admin/realms/expertflow/clients")] = lambda *a: next(answers)
    token = _jwt(300)
    conn = connection(stub.url, token=token).open()
    assert counter["n"] == 0
    assert conn.get_client("cim") == {"id": "u1", "clientId": "cim"}
    assert counter["n"] == 1
    assert parse_qs(stub.requests[1][3])["grant_type"] == ["password"]
    assert stub.requests[1][4] is None or token not in stub.requests[1][4]
    assert stub.requests[-1][4] == "Bearer tok1"


def test_token_near_expiry_with_credentials_is_renewed_before_the_call(stub):
    counter = stub.token_ok(lifetime=3600)
    stub.realm("expertflow")
    conn = connection(stub.url, token=_jwt(1)).open()  # python-keycloak renews at 90 % of the lifetime
    time.sleep(1.1)
    conn.realm_representation  # noqa: B018  # pylint: disable=pointless-statement
    assert counter["n"] == 1 and stub.requests[-1][4] == "Bearer tok1"


def test_credentials_decide_the_wording_when_a_token_is_given_too(stub):
    stub.token_ok()
    stub.routes[("GET", "/admin/realms/expertflow/clients")] = (401, {"error": "HTTP 401 Unauthorized"})
    message = first_call_refused(connection(stub.url, token=_jwt(300)))
    assert "rejected the credentials of user 'admin' in realm 'master'" in message


def test_open_without_python_keycloak(monkeypatch):
    monkeypatch.setattr(kc, "HAS_KEYCLOAK", False)
    with pytest.raises(errors.KeycloakModuleError) as info:
        connection("http://h").open()
    assert "python-keycloak" in str(info.value)


def test_expired_token_is_renewed(stub):
    """python-keycloak renews at 90 % of expires_in: a 2 s token is renewed after 1.8 s."""
    counter = stub.token_ok(lifetime=2)
    stub.realm("expertflow")
    conn = connection(stub.url).open()
    assert counter["n"] == 1
    time.sleep(1.2)
    conn.admin.get_realm("expertflow")
    assert counter["n"] == 2
    refresh = parse_qs(stub.requests[-2][3])
    assert refresh["grant_type"] == ["refresh_token"] and refresh["refresh_token"] == ["ref1"]
    assert stub.requests[-1][4] == "Bearer tok2"


def test_token_renewed_after_401(stub):
    """A token revoked on the server (401 before its expiry) is renewed and the call repeated."""
    counter = stub.token_ok(lifetime=3600)
    answers = iter([(401, {"error": "HTTP 401 Unauthorized"}), (200, {"realm": "expertflow"})])
    stub.routes[("GET", "/admin/realms/expertflow")] = lambda *a: next(answers)
    conn = connection(stub.url).open()
    assert conn.admin.get_realm("expertflow") == {"realm": "expertflow"}
    assert counter["n"] == 2


# --------------------------------------------------------------------------- shared reads


def test_get_client(stub):
    stub.token_ok()
    stub.realm("expertflow")

    def clients(query, _form, _headers):
        wanted = query.get("clientId", [""])[0]
        return 200, [
            c for c in ({"id": "u1", "clientId": "cim"}, {"id": "u2", "clientId": "cim2"}) if c["clientId"] == wanted
        ]

    stub.routes[("GET", "/admin/realms/expertflow/clients")] = clients
    conn = connection(stub.url).open()
    assert conn.get_client("cim") == {"id": "u1", "clientId": "cim"}
    assert conn.get_client("nope") is None
    assert stub.requests[-1][2] == {"clientId": ["nope"]}


def test_get_client_error(stub):
    stub.token_ok()
    stub.realm("expertflow")
    stub.routes[("GET", "/admin/realms/expertflow/clients")] = (403, {"error": "HTTP 403 Forbidden"})
    conn = connection(stub.url).open()
    with pytest.raises(errors.KeycloakModuleError) as info:
        conn.get_client("cim")
    message = str(info.value)
    assert message.startswith("reading client 'cim' in realm 'expertflow' failed")
    assert "no permission" in message and "403" in message


def test_admin_api_under_the_context_path(stub):
    stub.token_ok()
    stub.realm("expertflow")
    stub.routes[("GET", "/admin/serverinfo")] = (200, {"systemInfo": {"version": "19.0.1"}})
    assert connection(stub.url).open().admin.get_server_info()["systemInfo"]["version"] == "19.0.1"
    assert stub.requests[-1][1] == stub.prefix + "/admin/serverinfo"


@pytest.mark.parametrize(
    "status,body,expected",
    [
        (200, {"access_token": "t", "expires_in": 60}, True),
        (401, {"error": "invalid_grant", "error_description": "Invalid user credentials"}, False),
        (400, {"error": "invalid_grant", "error_description": "Invalid user credentials"}, False),
        (400, {"error": "invalid_grant", "error_description": "Account is not fully set up"}, "raise"),
        (401, {"error": "invalid_client", "error_description": "Invalid client credentials"}, "raise"),
        (
            400,
            {"error": "unauthorized_client", "error_description": "Client not allowed for direct access grants"},
            "raise",
        ),
    ],
)
def test_check_password(stub, status, body, expected):
    user_pw = "Us3r-pw-never-shown"
    stub.routes[("POST", "/realms/expertflow/protocol/openid-connect/token")] = (status, body)
    conn = connection(stub.url)
    if expected == "raise":
        with pytest.raises(errors.KeycloakModuleError) as info:
            conn.check_password("customer", user_pw, "cim", CLIENT_SECRET)
        message = conn.scrub(str(info.value))
        assert body["error_description"] in message and info.value.http_code == status
        assert user_pw not in message and CLIENT_SECRET not in message
        assert "user 'customer' in realm 'expertflow'" in message
    else:
        assert conn.check_password("customer", user_pw, "cim", CLIENT_SECRET) is expected
    form = parse_qs(stub.requests[-1][3])
    assert form["grant_type"] == ["password"] and form["client_secret"] == [CLIENT_SECRET]
    assert form["username"] == ["customer"] and form["scope"] == ["openid"]


def test_check_password_connection_refused():
    conn = connection("http://127.0.0.1:%d" % _free_port())
    with pytest.raises(errors.KeycloakModuleError) as info:
        conn.check_password("u", "pw-secret", "cim")
    assert "connection refused" in str(info.value) and "pw-secret" not in str(info.value)

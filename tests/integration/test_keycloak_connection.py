"""KeycloakConnection (module_utils/_keycloak) against real Keycloak 26 (at /) and 19 (at /auth).

In-process: the connection is given options that went through Ansible's own argument-spec
validation (aliases, defaults, no_log), as AnsibleModule does for the modules.
"""

import io
import json
import os
import re
import shutil
import ssl
import subprocess
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from kc import session
from kc.download import download
from kc.process import free_port

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import (
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    keycloak_argument_spec,
)

from ._runner import run_module
from .helpers import Realm, assert_mentions

WRONG_PASSWORD = "Wr0ng-Admin-Passw0rd-42"


PURPOSE = "the probe of the connection tests"


def connect(realm, **args):
    """An open KeycloakConnection for ``realm``, the options validated as AnsibleModule does."""
    return connection(realm, **args).open()


def connection(realm, **args):
    result = ArgumentSpecValidator(
        keycloak_argument_spec(), required_one_of=REQUIRED_ONE_OF, required_together=REQUIRED_TOGETHER
    ).validate(args)
    assert result.error_messages == [], result.error_messages
    return KeycloakConnection(result.validated_parameters, realm, PURPOSE)


def connect_error(realm, **args):
    """The message the connection fails with when it is opened and first used (as a module reports it).

    ``open()`` reads nothing but the token: the first admin call proves the token and the realm.
    """
    conn = connection(realm, **args)
    with pytest.raises(KeycloakModuleError) as info:
        conn.open()
        conn.get_client("cim")
    return conn.scrub(str(info.value))


def assert_no_secret(message, *values):
    for value in values:
        if value:
            assert value not in message, "secret leaked into: %s" % message


def _user(keycloak, realm, username, password, **extra):
    """Create a user able to log in on 19 and 26 in ``realm``; return its id."""
    return Realm(keycloak, realm).add_login_user(username, password, **extra)


# --------------------------------------------------------------------------- logging in


def _url_variants(keycloak):
    base = keycloak.url
    return [base, base + "/"]


def test_admin_login_with_and_without_trailing_slash(keycloak, tenant, kc_auth_args):
    for url in _url_variants(keycloak):
        args = dict(kc_auth_args, auth_keycloak_url=url)
        conn = connect(tenant.realm, **args)
        assert conn.admin.connection.base_url == keycloak.url + "/"
        assert conn.admin.connection.realm_name == tenant.realm
        assert conn.admin.connection.user_realm_name == "master"
        client = conn.get_client("cim")
        assert client["id"] == tenant.client_uuid
        assert client["clientId"] == "cim" and client["directAccessGrantsEnabled"] is True
        assert conn.get_client("cim-nope") is None
        assert conn.get_client("ci") is None  # exact, not a search


def test_url_alias_and_legacy_auth_path(keycloak, tenant):
    """The ``url`` alias; 19 at /auth given as /auth and /auth/ (the server info proves which server answered)."""
    for url in _url_variants(keycloak):
        conn = connect(tenant.realm, url=url, auth_username=keycloak.admin_user, auth_password=keycloak.admin_password)
        if keycloak.relative_path:
            assert conn.admin.connection.base_url.endswith("/auth/")
        assert conn.admin.get_server_info()["systemInfo"]["version"] == keycloak.version


def test_master_admin_manages_tenant_realm(keycloak, tenant, kc_auth_args):
    conn = connect(tenant.realm, **kc_auth_args)
    with conn.errors("reading the secret of client 'cim'"):
        secret = conn.admin.get_client_secrets(tenant.client_uuid)
    assert secret["value"] == tenant.client_secret
    role = "probe-%d" % int(time.time() * 1000)
    with conn.errors("creating realm role '%s' in realm '%s'" % (role, tenant.realm)):
        conn.admin.create_realm_role({"name": role})
    assert keycloak.rest("GET", "realms/%s/roles/%s" % (tenant.realm, role))["name"] == role
    info = conn.admin.get_server_info()
    assert "oidc-audience-mapper" in {m["id"] for m in info["protocolMapperTypes"]["openid-connect"]}


def test_login_with_token_option(keycloak, tenant):
    token = Realm(keycloak, "master").access_token(keycloak.admin_user, keycloak.admin_password)
    conn = connect(tenant.realm, auth_keycloak_url=keycloak.url, token=token)
    assert conn.get_client("cim")["id"] == tenant.client_uuid


def test_login_with_client_credentials(keycloak, tenant):
    """A master client whose service account has the ``admin`` role (no user at all)."""
    client_id = "ops-%s" % tenant.realm
    secret = "Ops-Client-Secret-%s" % tenant.realm
    uuid = keycloak.rest(
        "POST",
        "realms/master/clients",
        json={
            "clientId": client_id,
            "enabled": True,
            "publicClient": False,
            "secret": secret,
            "serviceAccountsEnabled": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": False,
        },
    )
    try:
        account = keycloak.rest("GET", "realms/master/clients/%s/service-account-user" % uuid)
        admin_role = keycloak.rest("GET", "realms/master/roles/admin")
        keycloak.rest("POST", "realms/master/users/%s/role-mappings/realm" % account["id"], json=[admin_role])
        conn = connect(
            tenant.realm, auth_keycloak_url=keycloak.url, auth_client_id=client_id, auth_client_secret=secret
        )
        assert conn.admin.connection.grant_type == "client_credentials"
        assert conn.get_client("cim")["id"] == tenant.client_uuid
        message = connect_error(
            tenant.realm,
            auth_keycloak_url=keycloak.url,
            auth_client_id=client_id,
            auth_client_secret="Not-The-Secret-123",
        )
        assert_mentions(message, keycloak.url, "rejected", "credentials", "client '%s'" % client_id, "realm 'master'")
        assert_no_secret(message, secret, "Not-The-Secret-123")
    finally:
        keycloak.rest("DELETE", "realms/master/clients/%s" % uuid)


# --------------------------------------------------------------------------- token renewal


def test_token_renewed_after_expiry_and_after_lost_session(keycloak, make_tenant):
    """A realm admin of the tenant realm with 3 s access tokens keeps working for longer.

    python-keycloak renews at 90 % of ``expires_in`` (refresh token) and, after a 401,
    refreshes or logs in again when the refresh token is dead too (session logged out).
    """
    tenant = make_tenant()
    realm = tenant.realm
    tenant.update(accessTokenLifespan=3)
    password = "Ops-Passw0rd-%s" % realm
    user_id = _user(keycloak, realm, "ops", password)
    Realm(keycloak, realm).grant_client_roles(user_id, "realm-management", ["realm-admin"])

    conn = connect(realm, auth_keycloak_url=keycloak.url, auth_realm=realm, auth_username="ops", auth_password=password)
    first = conn.admin.connection.token
    assert first["expires_in"] <= 3  # 19 answers 2 (rounds the time already spent)
    time.sleep(3.5)  # the token is now expired on the server too
    assert conn.get_client("cim") is not None
    second = conn.admin.connection.token
    assert second["access_token"] != first["access_token"]

    # Log the session out on the server: access and refresh tokens both die. The next call
    # gets a 401, the refresh fails ("Session not active"), python-keycloak logs in again.
    keycloak.rest("POST", "realms/%s/users/%s/logout" % (realm, user_id))
    assert conn.get_client("cim") is not None
    assert conn.admin.connection.token["access_token"] != second["access_token"]


# --------------------------------------------------------------------------- clear failures


def test_wrong_admin_credentials(keycloak, tenant):
    message = connect_error(
        tenant.realm, auth_keycloak_url=keycloak.url, auth_username="admin", auth_password=WRONG_PASSWORD
    )
    assert_mentions(message, keycloak.url, "rejected", "credentials", "'admin'", "realm 'master'", "invalid_grant")
    assert_no_secret(message, WRONG_PASSWORD, keycloak.admin_password)


def test_unknown_admin_realm(keycloak, tenant, kc_auth_args):
    message = connect_error(tenant.realm, **dict(kc_auth_args, auth_realm="no-such-admin-realm"))
    assert_mentions(message, "realm 'no-such-admin-realm'", "auth_realm", "not exist", keycloak.url)


def test_unknown_realm(keycloak, kc_auth_args):
    message = connect_error("no-such-realm", **kc_auth_args)
    assert_mentions(message, "realm 'no-such-realm'", "not exist", keycloak.url)
    assert_no_secret(message, keycloak.admin_password)


def test_wrong_context_path_is_explained(keycloak, tenant, kc_auth_args):
    if keycloak.relative_path:
        wrong = keycloak.url[: -len(keycloak.relative_path)]
    else:
        wrong = keycloak.url + "/auth"
    message = connect_error(tenant.realm, **dict(kc_auth_args, auth_keycloak_url=wrong))
    assert_mentions(message, "no keycloak token endpoint", wrong, "/auth")
    assert_no_secret(message, keycloak.admin_password)


def test_master_user_without_admin_roles(keycloak, tenant):
    username = "nobody-%s" % tenant.realm
    password = "Nobody-Passw0rd-%s" % tenant.realm
    user_id = _user(keycloak, "master", username, password)
    try:
        message = connect_error(
            tenant.realm, auth_keycloak_url=keycloak.url, auth_username=username, auth_password=password
        )
        assert_mentions(
            message,
            keycloak.url,
            "user '%s'" % username,
            "realm 'master'",
            "no permission",
            "realm '%s'" % tenant.realm,
            "403",
        )
        assert_no_secret(message, password)
    finally:
        keycloak.rest("DELETE", "realms/master/users/%s" % user_id)


def test_tenant_user_with_view_rights_only(keycloak, tenant):
    """Reading works; a write fails with a 403 message naming what, who, realm and URL."""
    realm = tenant.realm
    password = "Viewer-Passw0rd-%s" % realm
    user_id = _user(keycloak, realm, "viewer", password)
    Realm(keycloak, realm).grant_client_roles(user_id, "realm-management", ["view-realm", "view-clients"])
    conn = connect(
        realm, auth_keycloak_url=keycloak.url, auth_realm=realm, auth_username="viewer", auth_password=password
    )
    client = conn.get_client("cim")
    what = "adding mapper 'fix-audience' to client 'cim' in realm '%s'" % realm
    with pytest.raises(KeycloakModuleError) as info:
        with conn.errors(what):
            conn.admin.add_mapper_to_client(
                client["id"],
                {
                    "name": "fix-audience",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-audience-mapper",
                    "config": {"included.client.audience": "cim", "access.token.claim": "true"},
                },
            )
    message = str(info.value)
    assert_mentions(
        message,
        "adding mapper 'fix-audience'",
        "client 'cim'",
        "realm '%s'" % realm,
        "failed",
        keycloak.url,
        "user 'viewer'",
        "no permission",
        "403",
    )
    assert info.value.http_code == 403
    assert_no_secret(message, password)


def test_keycloak_error_text_is_decoded(keycloak, tenant, kc_auth_args):
    conn = connect(tenant.realm, **kc_auth_args)
    payload = {"name": "dup-role"}
    with conn.errors("creating role"):
        conn.admin.create_realm_role(payload)
    with pytest.raises(KeycloakModuleError) as info:
        with conn.errors("creating realm role 'dup-role' in realm '%s'" % tenant.realm):
            conn.admin.create_realm_role(payload)
    assert info.value.http_code == 409
    message = str(info.value)
    # no bytes repr such as b'{"errorMessage": ...}' (a realm name may end in b before its quote)
    assert "409" in message and not re.search(r"(?<![\w-])b'", message) and "dup-role" in message
    assert_mentions(message, "creating realm role 'dup-role'", "realm '%s'" % tenant.realm, "failed", keycloak.url)


def test_tls_to_a_plain_http_port(keycloak, tenant, kc_auth_args):
    url = keycloak.url.replace("http://", "https://")
    message = connect_error(tenant.realm, **dict(kc_auth_args, auth_keycloak_url=url))
    assert_mentions(message, "TLS verification failed", url, "ca_path", "validate_certs")
    assert_no_secret(message, keycloak.admin_password)


def test_check_password(keycloak, tenant, kc_auth_args):
    realm = tenant.realm
    password = "Customer-Passw0rd-%s" % realm
    _user(keycloak, realm, "customer", password)
    conn = connect(realm, **kc_auth_args)
    assert conn.check_password("customer", password, "cim", tenant.client_secret) is True
    unopened = connection(realm, **kc_auth_args)  # the check needs no admin login
    assert unopened.check_password("customer", password, "cim", tenant.client_secret) is True
    assert conn.check_password("customer", "Not-" + password, "cim", tenant.client_secret) is False
    with pytest.raises(KeycloakModuleError) as info:
        conn.check_password("customer", password, "cim", "Not-The-Client-Secret")
    assert_mentions(str(info.value), "client 'cim'", "rejected")
    assert_no_secret(str(info.value), password, "Not-The-Client-Secret", tenant.client_secret)


# --------------------------------------------------------------------------- no server needed


def test_connection_refused():
    url = "http://127.0.0.1:%d" % free_port()
    message = connect_error("expertflow", auth_keycloak_url=url, auth_username="admin", auth_password=WRONG_PASSWORD)
    assert_mentions(message, url, "connection refused")
    url += "/auth/"
    message = connect_error("expertflow", auth_keycloak_url=url, auth_username="admin", auth_password=WRONG_PASSWORD)
    assert_mentions(message, url.rstrip("/"), "connection refused")
    assert url not in message  # shown without the trailing slash


@pytest.fixture(scope="module")
def self_signed_keycloak(self_signed_certificate):
    """A TLS listener with a throwaway self-signed certificate that answers like Keycloak."""
    cert, key = self_signed_certificate

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, payload):
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send({"access_token": "t", "expires_in": 60, "refresh_token": "r"})

        def do_GET(self):
            self._send({"realm": self.path.rsplit("/", 1)[-1]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_tls_self_signed_certificate(self_signed_keycloak):
    url, cert = self_signed_keycloak
    args = dict(auth_keycloak_url=url, auth_username="admin", auth_password=WRONG_PASSWORD)
    message = connect_error("expertflow", **args)
    assert_mentions(message, "TLS verification failed", url, "certificate verify failed")
    assert "ca_path" in message and "validate_certs" in message
    assert_no_secret(message, WRONG_PASSWORD)
    # ca_path trusts the throwaway CA; validate_certs: false skips verification.
    assert connect("expertflow", ca_path=cert, **args).admin.connection.verify == cert
    assert connect("expertflow", validate_certs=False, **args).admin.connection.verify is False


def test_kc_server_records_only_loopback_listeners(keycloak, started_servers):
    """Every socket the Keycloak process group listens on is on 127.0.0.1.

    The server is this process's own (the only one it runs) or the test session's shared one.
    """
    assert keycloak.running()
    assert started_servers in ([keycloak], []), started_servers
    if not started_servers:
        assert session.shared(keycloak.version) is not None  # the session's, not a stray one
    assert shutil.which("ss"), "this test needs the ss command (Debian package iproute2)"
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    pids = {int(p) for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == keycloak.pid}
    mine = [line for line in out.splitlines() if any("pid=%d," % pid in line for pid in pids)]
    assert any(":%d " % keycloak.port in line for line in mine), out
    for line in mine:
        local = line.split()[3]
        assert local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")), line


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


# --------------------------------------------------------------------------- the test servers themselves (tools/kc)


def test_seeded_tenant_is_what_a_cx_install_has(keycloak, tenant):
    realm, uuid = tenant.realm, tenant.client_uuid
    assert keycloak.rest("GET", "realms/%s" % realm)["enabled"] is True
    client = keycloak.rest("GET", "realms/%s/clients/%s" % (realm, uuid))
    assert client["clientId"] == "cim" and client["publicClient"] is False
    assert client["standardFlowEnabled"] and client["directAccessGrantsEnabled"]
    assert client["redirectUris"]
    defaults = {s["name"] for s in keycloak.rest("GET", "realms/%s/clients/%s/default-client-scopes" % (realm, uuid))}
    assert {"email", "profile", "roles"} <= defaults
    discovery = keycloak.rest("GET", "/realms/%s/.well-known/openid-configuration" % realm)
    assert discovery["issuer"] == "%s/realms/%s" % (keycloak.url, realm)


def test_download_is_idempotent_and_survives_a_half_extraction(tmp_path, monkeypatch):
    """With a fake tarball in a fake ~/.m2: extract once, reuse, replace a broken directory."""
    version = "0.0.1"
    repo = tmp_path / "m2"
    tarball = repo / "org/keycloak/keycloak-quarkus-dist" / version / ("keycloak-quarkus-dist-%s.tar.gz" % version)
    tarball.parent.mkdir(parents=True)
    with tarfile.open(str(tarball), "w:gz") as archive:
        data = b"#!/bin/sh\necho fake\n"
        info = tarfile.TarInfo("keycloak-%s/bin/kc.sh" % version)
        info.size = len(data)
        info.mode = 0o755
        archive.addfile(info, io.BytesIO(data))
    monkeypatch.setenv("CX_M2_REPO", str(repo))
    monkeypatch.setenv("CX_KC_CACHE", str(tmp_path / "cache"))

    broken = tmp_path / "cache" / version
    broken.mkdir(parents=True)
    (broken / "half-written").write_text("x")
    home = download(version)
    assert home == str(broken)
    assert os.path.isfile(os.path.join(home, "bin", "kc.sh"))
    assert not os.path.exists(os.path.join(home, "half-written"))
    assert os.path.exists(os.path.join(home, ".cx-extracted"))
    before = os.stat(os.path.join(home, "bin", "kc.sh")).st_mtime_ns
    tarball.unlink()  # a second call must not need the tarball
    assert download(version) == home
    assert os.stat(os.path.join(home, "bin", "kc.sh")).st_mtime_ns == before
    assert sorted(os.listdir(tmp_path / "cache")) == [version]  # no temporary directories left


# --------------------------------------------------------------------------- the lookup: the same options, the same words


def _lookup(args):
    """``(token or None, what Ansible printed)`` of the lookup ``keycloak_admin_token`` with ``args``, run by
    the ``ansible`` CLI (the modules' connection options, as the role passes them)."""
    call = ", ".join("%s=%s" % (name, json.dumps(value)) for name, value in sorted(args.items()))
    result, output = run_module(
        "ansible.builtin.debug", {"msg": "{{ lookup('cx.api_auth.keycloak_admin_token', %s) }}" % call}
    )
    return (None if result.get("failed") else result.get("msg")), output


def test_the_lookup_takes_the_modules_options_and_its_token_serves_a_module(keycloak, tenant, kc_auth_args):
    token, output = _lookup(kc_auth_args)
    assert token, output
    conn = connect(tenant.realm, auth_keycloak_url=keycloak.url, token=token)
    assert conn.get_client("account") is not None


def test_the_lookup_and_a_module_word_a_refused_login_alike(keycloak, tenant, kc_auth_args):
    wrong = dict(kc_auth_args, auth_password=WRONG_PASSWORD)
    module_message = connect_error(tenant.realm, **wrong)
    token, output = _lookup(wrong)
    assert token is None
    # the module's words for the refusal ("Keycloak at <url> rejected the credentials of user 'admin' in realm
    # 'master' (400: invalid_grant ...)") stand in the lookup's message as they are
    problem = module_message.split(": ", 1)[1]
    assert problem in output, output
    assert_mentions(problem, keycloak.url, "user '%s'" % keycloak.admin_user, "realm 'master'", "invalid_grant")
    assert_no_secret(output, WRONG_PASSWORD)

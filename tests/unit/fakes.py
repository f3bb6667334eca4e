# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one fake Keycloak of the unit tests, in the shape of python-keycloak.

:class:`FakeAdmin` is an in-memory Keycloak (realm ``expertflow``) with the ``KeycloakAdmin``
calls the modules make. It behaves like the real servers where it matters (19.0.1 and 26.7.3 were
asked): config values are strings, empty ones are dropped on write, 26 fills keys of its own into
a mapper on every write (:meth:`FakeAdmin._stored_config`), same-named mappers and users are refused with 409, PUT replaces the whole object, the
token endpoint answers a password grant as each version does, and every refusal is the
python-keycloak exception with the status and body the server sends.

:func:`install` puts it in place of python-keycloak in ``_keycloak.connection``: the
``KeycloakOpenIDConnection`` (:class:`FakeConnection`, whose ``raw_get`` returns a
:class:`FakeResponse`), the ``KeycloakAdmin`` and the ``KeycloakOpenID`` of password checks
(:class:`FakeOpenID`). The code under test then runs unchanged, login and error wording included.

:class:`StubKeycloak` is a real HTTP server with canned answers, for the tests of the connection
itself (python-keycloak and requests for real).
"""

from __future__ import annotations

import copy
import itertools
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakDeleteError,
    KeycloakGetError,
    KeycloakPostError,
    KeycloakPutError,
)

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import connection as connection_module

REALM = "expertflow"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "Adm1n-s3cret-pw"
CIM_SECRET = "cim-client-s3cret"
URL = "http://kc.example"
# The connection options of the module tests.
CONNECTION = {"auth_keycloak_url": URL, "auth_username": ADMIN_USER, "auth_password": ADMIN_PASSWORD}

INVALID_CREDENTIALS = {"error": "invalid_grant", "error_description": "Invalid user credentials"}


def keycloak_error(cls, code, body):
    """The exception python-keycloak raises for an answer ``code`` with ``body`` (str, bytes or JSON)."""
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body
    if code == 401:
        cls = KeycloakAuthenticationError  # as raise_error_from_response does
    return cls(error_message=raw, response_code=code, response_body=raw)


def _prop(name, default=None):
    prop = {"name": name, "label": name + ".label", "type": "String", "secret": False}
    if default is not None:
        prop.update(defaultValue=default, type="boolean")
    return prop


AUDIENCE_PROPERTIES_19 = [
    _prop("included.client.audience"),
    _prop("included.custom.audience"),
    _prop("id.token.claim", "false"),
    _prop("access.token.claim", "true"),
]
AUDIENCE_PROPERTIES_26 = AUDIENCE_PROPERTIES_19 + [
    _prop("lightweight.claim", "false"),
    _prop("introspection.token.claim", "true"),
]


class FakeResponse:
    """What ``raw_get`` returns: the parts of ``requests.Response`` that are used."""

    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self._body = body
        self.content = b"" if body is None else json.dumps(body).encode()

    def json(self):
        if self._body is None:
            raise ValueError("no JSON body")
        return copy.deepcopy(self._body)


class FakeConnection:
    """python-keycloak's ``KeycloakOpenIDConnection`` on a :class:`FakeAdmin`: the token and ``raw_get``."""

    def __init__(
        self,
        keycloak,
        server_url=None,
        grant_type=None,
        username=None,
        password=None,
        realm_name=None,
        user_realm_name=None,
        client_id=None,
        client_secret_key=None,
        verify=True,
        timeout=60,
    ):
        self.keycloak = keycloak
        self.server_url = self.base_url = server_url
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.realm_name = realm_name
        self.user_realm_name = user_realm_name
        self.client_id = client_id
        self.client_secret_key = client_secret_key
        self.verify = verify
        self.timeout = timeout
        self.token = None

    @property
    def keycloak_openid(self):
        return self

    def get_token(self):
        self.token = self.keycloak.log_in(self)

    def raw_get(self, path, **query):
        self.keycloak.calls.append(("raw_get", path, query))
        if "GET " + path in self.keycloak.fail:
            return FakeResponse(*self.keycloak.fail["GET " + path])
        if path == "admin/realms/%s/clients" % REALM:
            return FakeResponse(200, self.keycloak.clients_named(query.get("clientId")))
        if path == "realms/%s/.well-known/openid-configuration" % REALM:
            issuer = "%srealms/%s" % (self.server_url, REALM)
            return FakeResponse(200, {"issuer": issuer, "token_endpoint": issuer + "/protocol/openid-connect/token"})
        if path.startswith("admin/realms/") and path.split("/")[2] != REALM:
            return FakeResponse(404, {"error": "Realm not found."})
        return FakeResponse(404, {"error": "Unable to find matching target resource method"})


class FakeOpenID:
    """python-keycloak's ``KeycloakOpenID`` of a password check, on a :class:`FakeAdmin`."""

    def __init__(
        self, keycloak, server_url, realm_name, client_id, client_secret_key=None, verify=True, timeout=60, **options
    ):
        self.keycloak = keycloak
        self.server_url = server_url
        self.realm_name = realm_name
        self.client_id = client_id
        self.client_secret_key = client_secret_key
        self.verify = verify
        self.timeout = timeout
        self.options = options  # max_retries

    def token(self, username="", password=""):
        return self.keycloak.password_grant(self.realm_name, self.client_id, self.client_secret_key, username, password)


def install(monkeypatch, keycloak):
    """Make ``_keycloak.connection`` talk to ``keycloak`` (a :class:`FakeAdmin`); return it."""
    monkeypatch.setattr(
        connection_module, "KeycloakOpenIDConnection", lambda **options: FakeConnection(keycloak, **options)
    )
    monkeypatch.setattr(connection_module, "KeycloakAdmin", keycloak.bind)
    monkeypatch.setattr(connection_module, "KeycloakOpenID", lambda **options: FakeOpenID(keycloak, **options))
    return keycloak


class _TimingOut:
    """A :class:`FakeAdmin` whose calls named in its ``timeouts`` get no answer once (see ``time_out``)."""

    def __init__(self, keycloak):
        self._keycloak = keycloak

    def __getattr__(self, name):
        attribute = getattr(self._keycloak, name)
        if name not in self._keycloak.timeouts:
            return attribute

        def call(*args, **kwargs):
            applied = self._keycloak.timeouts.pop(name)
            if applied:
                attribute(*args, **kwargs)
            else:
                self._keycloak.writes.append((name, "lost") + copy.deepcopy(args))
            if applied == "409":
                raise keycloak_error(KeycloakPostError, 409, {"errorMessage": "Object exists with same name"})
            raise requests.exceptions.ReadTimeout(
                "HTTPConnectionPool(host='kc.example', port=80): Read timed out. (read timeout=10)"
            )

        return call


class FakeAdmin:
    """In-memory Keycloak with the realm ``expertflow`` (version ``26.7.3`` unless given).

    ``configure``/``with_access`` shape the ``access`` flags of its clients; ``policy`` is the
    realm's password policy text (enforced through ``min_length`` and ``history``).
    ``fail[name] = (status, body)`` makes the python-keycloak call ``name`` (or ``"GET <path>"`` of
    ``raw_get``, or ``"get_token"`` of the admin login) fail like Keycloak does.
    """

    def __init__(self, version="26.7.3", configure=True, with_access=True, policy=None, duplicate_emails=False):
        self.version = version
        self.properties = AUDIENCE_PROPERTIES_19 if self.is_19 else AUDIENCE_PROPERTIES_26
        self.realm = {
            "realm": REALM,
            "enabled": True,
            "duplicateEmailsAllowed": duplicate_emails,
            "defaultRole": {"id": "r-default", "name": "default-roles-%s" % REALM, "composite": True},
        }
        if policy:
            self.realm["passwordPolicy"] = policy
        self.min_length = None
        self.history = 0
        self.connection = None
        self._ids = itertools.count(1)
        self.calls = []  # reads: (method, args...)
        self.writes = []  # writes: (method, args...)
        self.logins = []  # admin token requests: (grant_type, username, realm)
        self.checks = []  # password grants of users: (username, client_id, client_secret)
        self.fail = {}
        self.clients = {}
        self.secrets = {}
        self.scopes = {}
        self.mappers = {}
        self.users = {}
        self.passwords = {}
        self.past_passwords = {}
        self.roles = {}
        self.mappings = {}
        self.locked = set()
        self.required_attributes = []  # required user-profile attributes beyond the default ones (26)
        self.timeouts = {}  # call name -> whether it is done before its answer is lost (see time_out)
        self.password_set_at = {}  # user id -> time.time() the password was set
        self.configure = configure
        self.with_access = with_access
        self.add_client("cim", public=False, secret=CIM_SECRET)
        self.add_client("account")
        self.add_client("realm-management", public=False)
        self.add_client("admin-cli")
        self.add_client("web", direct_grants=False)
        self.add_scope("api-audience")
        self.add_scope("saml-scope", protocol="saml")
        for name in ("default-roles-%s" % REALM, "offline_access", "uma_authorization"):
            self.add_role(name)

    @property
    def is_19(self):
        return self.version.startswith("19")

    def bind(self, connection):
        """``KeycloakAdmin(connection=...)``: this Keycloak, seen through ``connection``."""
        self.connection = connection
        return _TimingOut(self) if self.timeouts else self

    def time_out(self, name, applied=True, then_409=False):
        """The next call ``name`` gets no answer (requests' ReadTimeout): done first when ``applied``.

        ``then_409``: done, and answered 409 instead (a request sent twice, the second time refused).
        """
        self.timeouts[name] = "409" if then_409 else applied

    # ---- set-up helpers

    def add_client(self, client_id, public=True, direct_grants=True, secret=None):
        uid = "c-%s" % client_id
        client = {
            "id": uid,
            "clientId": client_id,
            "protocol": "openid-connect",
            "publicClient": public,
            "directAccessGrantsEnabled": direct_grants,
        }
        if self.with_access:
            client["access"] = {"view": True, "configure": self.configure, "manage": self.configure}
        self.clients[uid] = client
        self.mappers[uid] = []
        if secret:
            self.secrets[uid] = secret
        return uid

    def add_scope(self, name, protocol="openid-connect"):
        uid = "s-%s" % name
        self.scopes[uid] = {"id": uid, "name": name, "protocol": protocol, "attributes": {}}
        self.mappers[uid] = []
        return uid

    def clients_named(self, client_id):
        """``GET clients?clientId=X``: each client with its ``protocolMappers`` (left out when there are none)."""
        found = []
        for uid, client in self.clients.items():
            if client["clientId"] == client_id:
                client = copy.deepcopy(client)
                if self.mappers[uid]:
                    client["protocolMappers"] = copy.deepcopy(self.mappers[uid])
                found.append(client)
        return found

    def uuid_of(self, client_id):
        return "c-%s" % client_id

    def scope_uuid(self, name):
        return "s-%s" % name

    def put_mapper(self, owner, name, config, mapper_type="oidc-audience-mapper", protocol="openid-connect"):
        mapper = {
            "id": "m-%d" % next(self._ids),
            "name": name,
            "protocol": protocol,
            "protocolMapper": mapper_type,
            "consentRequired": False,
            "config": dict(config),
        }
        self.mappers[owner].append(mapper)
        return copy.deepcopy(mapper)

    def add_role(self, name):
        self.roles[name] = {"id": "r-%s" % name, "name": name, "composite": False, "clientRole": False}
        return self.roles[name]

    def add_user(self, username, password=None, roles=(), **fields):
        uid = "u-%s-%d" % (username.lower(), len(self.users))
        user = {
            "id": uid,
            "username": username.lower(),
            "enabled": True,
            "emailVerified": False,
            "requiredActions": [],
            "access": {"manage": True},
        }
        user.update(fields)
        self.users[uid] = user
        self.passwords[uid] = password
        self.past_passwords[uid] = [password] if password else []
        self.mappings[uid] = ["default-roles-%s" % REALM] + list(roles)
        return uid

    def user_named(self, username):
        return next(u for u in self.users.values() if u["username"] == username.lower())

    def deny_writes(self, code=403):
        """Every mapper write fails with ``code`` (an admin without the right)."""
        for name in (
            "add_mapper_to_client",
            "update_client_mapper",
            "remove_client_mapper",
            "add_mapper_to_client_scope",
            "update_mapper_in_client_scope",
            "delete_mapper_from_client_scope",
        ):
            self.fail[name] = (code, {"error": "HTTP %d Forbidden" % code})

    # ---- what every call does first

    def _read(self, name, *args):
        self.calls.append((name,) + args)
        self._maybe_fail(name, KeycloakGetError)

    def _write(self, name, cls, *args):
        self.writes.append((name,) + copy.deepcopy(args))
        self._maybe_fail(name, cls)

    def _maybe_fail(self, name, cls):
        if name in self.fail:
            code, body = self.fail[name]
            raise keycloak_error(cls, code, body)

    # ---- the token endpoint

    def log_in(self, connection):
        """The admin's token request (``KeycloakOpenIDConnection.get_token``)."""
        self.logins.append((connection.grant_type, connection.username, connection.user_realm_name))
        self._maybe_fail("get_token", KeycloakPostError)
        if connection.user_realm_name != "master":
            raise keycloak_error(KeycloakPostError, 404, {"error": "Realm does not exist"})
        if connection.grant_type == "password" and (connection.username, connection.password) != (
            ADMIN_USER,
            ADMIN_PASSWORD,
        ):
            raise keycloak_error(KeycloakPostError, 401, INVALID_CREDENTIALS)
        number = len(self.logins)
        return {
            "access_token": "admin-access-token-%d" % number,
            "refresh_token": "admin-refresh-token-%d" % number,
            "expires_in": 60,
        }

    def password_grant(self, realm, client_id, client_secret, username, password):
        """A user's password grant (``KeycloakOpenID.token``), answered as 26 or 19 answer it."""
        self.checks.append((username, client_id, client_secret))
        if realm != REALM:
            raise keycloak_error(KeycloakPostError, 404, {"error": "Realm does not exist"})
        client = next((c for c in self.clients.values() if c["clientId"] == client_id), None)
        if (
            client is None
            or client.get("enabled") is False
            or (not client["publicClient"] and client_secret != self.secrets.get(client["id"]))
        ):
            raise keycloak_error(
                KeycloakPostError,
                401,
                {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"},
            )
        if not client["directAccessGrantsEnabled"]:
            raise keycloak_error(
                KeycloakPostError,
                400,
                {"error": "unauthorized_client", "error_description": "Client not allowed for direct access grants"},
            )
        user = next((u for u in self.users.values() if u["username"] == username.lower()), None)
        if user is None or user["id"] in self.locked:  # a locked user: refused whatever the password
            raise keycloak_error(KeycloakPostError, 401, INVALID_CREDENTIALS)
        right = self.passwords[user["id"]] == password
        if not user["enabled"] and (self.is_19 or right):  # 19 says so before looking at the password
            raise keycloak_error(
                KeycloakPostError, 400, {"error": "invalid_grant", "error_description": "Account disabled"}
            )
        if not right:
            raise keycloak_error(KeycloakPostError, 401, INVALID_CREDENTIALS)
        incomplete = not self.is_19 and not all(user.get(k) for k in ("email", "firstName", "lastName"))
        incomplete = incomplete or any(not (user.get("attributes") or {}).get(k) for k in self.required_attributes)
        if incomplete or user["requiredActions"]:
            raise keycloak_error(
                KeycloakPostError, 400, {"error": "invalid_grant", "error_description": "Account is not fully set up"}
            )
        return {"access_token": "user-access-token", "refresh_token": "user-refresh-token", "id_token": "user-id"}

    # ---- realm and server

    def get_realm(self, realm_name):
        self._read("get_realm", realm_name)
        if realm_name != REALM:
            raise keycloak_error(KeycloakGetError, 404, {"error": "Realm not found."})
        return copy.deepcopy(self.realm)

    def get_server_info(self):
        self._read("get_server_info")
        return {
            "systemInfo": {"version": self.version},
            "protocolMapperTypes": {
                "openid-connect": [
                    {"id": "oidc-hardcoded-claim-mapper", "properties": [_prop("claim.name")]},
                    {"id": "oidc-audience-mapper", "name": "Audience", "properties": copy.deepcopy(self.properties)},
                ]
            },
        }

    def get_client_secrets(self, client_id):
        self._read("get_client_secrets", client_id)
        return {"type": "secret", "value": self.secrets[client_id]}

    def generate_client_secrets(self, client_id):
        """``POST clients/{id}/client-secret``: a new secret (``new-secret-<n>``), answered as Keycloak does."""
        self._write("generate_client_secrets", KeycloakPostError, client_id)
        self.secrets[client_id] = "new-secret-%d" % len(self.writes)
        return {"type": "secret", "value": self.secrets[client_id]}

    # ---- protocol mappers of clients and client scopes

    def _mappers(self, name, owner):
        self._read(name, owner)
        return copy.deepcopy(self.mappers[owner])

    def _stored_config(self, config):
        """A mapper config as the server stores it, on create and on update.

        Empty values are dropped. 26.7.3 (asked) then fills an absent ``introspection.token.claim``
        from ``access.token.claim`` and an absent ``userinfo.token.claim`` from ``id.token.claim``
        ("true" only for exactly "true"), each only when its source is set; 19.0.1 adds nothing.
        """
        stored = {k: v for k, v in config.items() if v not in ("", None)}
        if not self.is_19:
            for key, source in (
                ("introspection.token.claim", "access.token.claim"),
                ("userinfo.token.claim", "id.token.claim"),
            ):
                if key not in stored and source in stored:
                    stored[key] = "true" if stored[source] == "true" else "false"
        return stored

    def _create_mapper(self, name, owner, payload):
        self._write(name, KeycloakPostError, owner, payload)
        if any(m["name"] == payload["name"] and m["protocol"] == payload["protocol"] for m in self.mappers[owner]):
            raise keycloak_error(KeycloakPostError, 409, {"errorMessage": "Protocol mapper exists with same name"})
        stored = copy.deepcopy(payload)
        stored["id"] = "m-%d" % next(self._ids)
        stored["config"] = self._stored_config(payload["config"])
        self.mappers[owner].append(stored)
        return b""

    def _update_mapper(self, name, owner, mapper_id, payload):
        self._write(name, KeycloakPutError, owner, mapper_id, payload)
        for index, mapper in enumerate(self.mappers[owner]):
            if mapper["id"] == mapper_id:
                stored = copy.deepcopy(payload)
                stored["id"] = mapper_id
                stored["config"] = self._stored_config(payload["config"])
                self.mappers[owner][index] = stored
                return {}
        raise keycloak_error(KeycloakPutError, 404, "not found")

    def _delete_mapper(self, name, owner, mapper_id):
        self._write(name, KeycloakDeleteError, owner, mapper_id)
        before = len(self.mappers[owner])
        self.mappers[owner] = [m for m in self.mappers[owner] if m["id"] != mapper_id]
        if len(self.mappers[owner]) == before:
            raise keycloak_error(KeycloakDeleteError, 404, "not found")
        return {}

    def get_mappers_from_client(self, client_uuid):
        return self._mappers("get_mappers_from_client", client_uuid)

    def add_mapper_to_client(self, client_uuid, payload):
        return self._create_mapper("add_mapper_to_client", client_uuid, payload)

    def update_client_mapper(self, client_uuid, mapper_id, payload):
        return self._update_mapper("update_client_mapper", client_uuid, mapper_id, payload)

    def remove_client_mapper(self, client_uuid, mapper_id):
        return self._delete_mapper("remove_client_mapper", client_uuid, mapper_id)

    def get_client_scopes(self):
        self._read("get_client_scopes")
        return copy.deepcopy(list(self.scopes.values()))

    def get_mappers_from_client_scope(self, scope_id):
        return self._mappers("get_mappers_from_client_scope", scope_id)

    def add_mapper_to_client_scope(self, scope_id, payload):
        return self._create_mapper("add_mapper_to_client_scope", scope_id, payload)

    def update_mapper_in_client_scope(self, scope_id, mapper_id, payload):
        return self._update_mapper("update_mapper_in_client_scope", scope_id, mapper_id, payload)

    def delete_mapper_from_client_scope(self, scope_id, mapper_id):
        return self._delete_mapper("delete_mapper_from_client_scope", scope_id, mapper_id)

    # ---- users

    def _policy(self, uid, password, cls):
        if self.min_length and len(password) < self.min_length:
            if cls is KeycloakPostError and self.is_19:
                raise keycloak_error(cls, 400, {"errorMessage": "Password policy not met"})
            raise keycloak_error(
                cls,
                400,
                {
                    "error": "invalidPasswordMinLengthMessage",
                    "error_description": "Invalid password: minimum length %d." % self.min_length,
                },
            )
        if self.history and uid and password in self.past_passwords.get(uid, [])[-self.history :]:
            raise keycloak_error(
                cls,
                400,
                {
                    "error": "invalidPasswordHistoryMessage",
                    "error_description": "Invalid password: must not be equal to any of last "
                    "%d passwords." % self.history,
                },
            )

    def _email_taken(self, email, uid):
        if not email or self.realm["duplicateEmailsAllowed"]:
            return False
        return any((u.get("email") or "").lower() == email.lower() and u["id"] != uid for u in self.users.values())

    def get_users(self, query=None):
        self._read("get_users", query)
        query = query or {}
        # Substring matches, as a server that ignores ``exact`` would answer: the caller must
        # pick the exact match itself.
        found = []
        for user in self.users.values():
            if "username" in query and query["username"].lower() not in user["username"]:
                continue
            if "email" in query and query["email"].lower() not in (user.get("email") or "").lower():
                continue
            found.append({k: v for k, v in user.items() if k != "access"})
        return copy.deepcopy(found)

    def get_user(self, user_id, user_profile_metadata=False):
        self._read("get_user", user_id)
        return copy.deepcopy(self.users[user_id])

    def get_realm_users_profile(self):
        """The realm's user profile: 26 has the default one (plus ``required_attributes``), 19 none (404)."""
        self._read("get_realm_users_profile")
        if self.is_19:
            raise keycloak_error(KeycloakGetError, 404, {"error": "Unable to find matching target resource method"})
        user = {"roles": ["user"]}
        attributes = [{"name": "username"}, {"name": "email", "required": user}]
        attributes += [{"name": name, "required": user} for name in ("firstName", "lastName")]
        attributes += [{"name": name, "required": user} for name in self.required_attributes]
        attributes.append({"name": "admin-only", "required": {"roles": ["admin"]}})
        attributes.append({"name": "by-scope", "required": {"roles": ["user"], "scopes": ["x"]}})
        return {"attributes": attributes}

    def create_user(self, payload, exist_ok=False):
        self._write("create_user", KeycloakPostError, {k: v for k, v in payload.items() if k != "credentials"})
        if any(u["username"] == payload["username"].lower() for u in self.users.values()):
            raise keycloak_error(KeycloakPostError, 409, {"errorMessage": "User exists with same username"})
        if self._email_taken(payload.get("email"), None):
            raise keycloak_error(KeycloakPostError, 409, {"errorMessage": "User exists with same email"})
        password = None
        for credential in payload.get("credentials") or []:
            assert credential == {"type": "password", "value": credential["value"], "temporary": False}
            self._policy(None, credential["value"], KeycloakPostError)
            password = credential["value"]
        fields = {k: v for k, v in payload.items() if k not in ("credentials", "username")}
        if "email" in fields:
            fields["email"] = fields["email"].lower()
        uid = self.add_user(payload["username"], password=password, **fields)
        self.password_set_at[uid] = time.time()
        return uid

    def update_user(self, user_id, payload):
        self._write("update_user", KeycloakPutError, user_id, payload)
        assert "credentials" not in payload and "access" not in payload
        if self._email_taken(payload.get("email"), user_id):
            raise keycloak_error(KeycloakPutError, 409, {"errorMessage": "User exists with same email"})
        stored = dict(payload)
        if stored.get("email"):
            stored["email"] = stored["email"].lower()
        self.users[user_id].update(stored)
        return {}

    def set_user_password(self, user_id, password, temporary=True):
        self._write("set_user_password", KeycloakPutError, user_id, temporary)
        self._policy(user_id, password, KeycloakPutError)
        self.passwords[user_id] = password
        self.password_set_at[user_id] = time.time()
        self.past_passwords[user_id].append(password)
        actions = self.users[user_id]["requiredActions"]
        if not temporary and "UPDATE_PASSWORD" in actions:
            actions.remove("UPDATE_PASSWORD")
        return {}

    def get_credentials(self, user_id):
        self._read("get_credentials", user_id)
        if not self.passwords.get(user_id):
            return []
        created = int(self.password_set_at.get(user_id, 0) * 1000)
        return [{"id": "cred-%s" % user_id, "type": "password", "createdDate": created}]

    def delete_user(self, user_id):
        self._write("delete_user", KeycloakDeleteError, user_id)
        del self.users[user_id]
        return {}

    def get_bruteforce_detection_status(self, user_id):
        self._read("get_bruteforce_detection_status", user_id)
        locked = user_id in self.locked
        # what 26.7.3 and 19.0.1 answer (also for an unknown id or a realm without detection)
        return {
            "numFailures": 1 if locked else 0,
            "disabled": locked,
            "lastIPFailure": "127.0.0.1" if locked else "n/a",
            "lastFailure": 0,
        }

    # ---- realm roles

    def get_realm_role(self, role_name):
        self._read("get_realm_role", role_name)
        if role_name not in self.roles:
            raise keycloak_error(KeycloakGetError, 404, {"error": "Could not find role"})
        return copy.deepcopy(self.roles[role_name])

    def get_realm_roles(self, brief_representation=True, search_text="", query=None):
        self._read("get_realm_roles")
        return [copy.deepcopy(role) for role in self.roles.values()]

    def create_realm_role(self, payload, skip_exists=False):
        self._write("create_realm_role", KeycloakPostError, payload, skip_exists)
        if payload["name"] in self.roles:
            raise keycloak_error(
                KeycloakPostError, 409, {"errorMessage": "Role with name %s already exists" % payload["name"]}
            )
        self.add_role(payload["name"])
        return payload["name"]

    def get_realm_roles_of_user(self, user_id):
        self._read("get_realm_roles_of_user", user_id)
        return [copy.deepcopy(self.roles[name]) for name in self.mappings[user_id]]

    def assign_realm_roles(self, user_id, roles):
        self._write("assign_realm_roles", KeycloakPostError, user_id, sorted(r["name"] for r in roles))
        for role in roles:
            assert role["id"] == self.roles[role["name"]]["id"]
            if role["name"] not in self.mappings[user_id]:
                self.mappings[user_id].append(role["name"])
        return {}

    def delete_realm_roles_of_user(self, user_id, roles):
        self._write("delete_realm_roles_of_user", KeycloakDeleteError, user_id, sorted(r["name"] for r in roles))
        for role in roles:
            assert role["id"] == self.roles[role["name"]]["id"]
            self.mappings[user_id].remove(role["name"])
        return {}


class StubKeycloak:
    """A real HTTP server on 127.0.0.1 with canned answers under ``prefix`` (``""`` or ``"/auth"``).

    ``routes[(method, path)] = (status, body)`` or a callable ``(query, form, headers) ->
    (status, body)``; ``requests`` records ``(method, path, query, body, authorization)``.
    """

    def __init__(self, prefix="", tls=None):
        """``tls``: ``(certificate file, key file)`` to answer https instead of http."""
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
                stub.requests.append(
                    (method, parts.path, parse_qs(parts.query), body, self.headers.get("Authorization"))
                )
                if not parts.path.startswith(stub.prefix + "/"):
                    status, payload = 404, "<html>Not Found</html>"
                else:
                    route = stub.routes.get((method, parts.path[len(stub.prefix) :]))
                    if route is None:
                        status, payload = 404, {"error": "Unable to find matching target resource method"}
                    elif callable(route):
                        status, payload = route(parse_qs(parts.query), parse_qs(body), self.headers)
                    else:
                        status, payload = route
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", self.server.server_address[1], prefix)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def token_ok(self, lifetime=60, realm="master"):
        """Answer every token request with a new token; return the counter of token requests."""
        counter = {"n": 0}

        def answer(_query, _form, _headers):
            counter["n"] += 1
            return 200, {
                "access_token": "tok%d" % counter["n"],
                "expires_in": lifetime,
                "refresh_expires_in": 1800,
                "refresh_token": "ref%d" % counter["n"],
                "token_type": "Bearer",
            }

        self.routes[("POST", "/realms/%s/protocol/openid-connect/token" % realm)] = answer
        return counter

    def realm(self, name, status=200, body=None):
        self.routes[("GET", "/admin/realms/%s" % name)] = (status, body or {"realm": name})

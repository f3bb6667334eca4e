# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the integration tests share: realms on a test server, tokens, message facts.

Everything here talks to Keycloak through the test server's own admin REST client and
token endpoint helpers (``tools/kc``), independent of the code under test, so tests can
seed a realm, read back what a module did and see what Keycloak then issues.

* :class:`Realm` - any realm of a server (``master`` too): users, roles, password grants.
* :class:`Tenant` - a seeded tenant realm (client ``cim`` with its secret) and the
  connection options of the modules for the bootstrap admin; :func:`seed_tenant` makes one
  with a unique name, :meth:`Tenant.delete` removes it.
* :func:`assert_mentions` - a message names the facts a test cares about, however it is
  worded around them.
"""

import json
import secrets

from kc.tokens import audiences, claims, password_grant  # tools/ is on pytest's pythonpath (pytest.ini)

__all__ = ["Realm", "Tenant", "assert_mentions", "audiences", "claims", "seed_tenant", "unique_realm", "warnings_in"]


class Realm:
    """A realm ``name`` on the test server ``server``, with admin REST shortcuts."""

    def __init__(self, server, name):
        self.kc = server
        self.realm = name

    # ---- the realm

    def representation(self):
        return self.kc.rest("GET", "realms/%s" % self.realm)

    def update(self, **fields):
        """Change realm settings (``passwordPolicy=...``, ``bruteForceProtected=...``)."""
        realm = self.representation()
        realm.update(fields)
        self.kc.rest("PUT", "realms/%s" % self.realm, json=realm)

    def delete(self):
        self.kc.rest("DELETE", "realms/%s" % self.realm, expect=(404,))

    # ---- users and roles

    def user(self, username):
        """The user called exactly ``username``, or None."""
        found = self.kc.rest("GET", "realms/%s/users" % self.realm, params={"username": username, "exact": "true"})
        found = [u for u in found if u["username"] == username]
        return found[0] if found else None

    def add_user(self, username, password=None, **fields):
        """Create a user with exactly these fields (and a non-temporary password); return its id."""
        body = {"username": username, "enabled": True}
        body.update(fields)
        if password:
            body["credentials"] = [{"type": "password", "value": password, "temporary": False}]
        return self.kc.rest("POST", "realms/%s/users" % self.realm, json=body)

    def add_login_user(self, username, password, **fields):
        """Create a user able to log in on 19 and 26 (24+ need e-mail and names); return its id."""
        body = {
            "email": "%s@example.test" % username,
            "emailVerified": True,
            "firstName": username.capitalize(),
            "lastName": "Test",
        }
        body.update(fields)
        return self.add_user(username, password, **body)

    def client(self, client_id):
        """The client with clientId ``client_id`` (IndexError when there is none)."""
        return self.kc.rest("GET", "realms/%s/clients" % self.realm, params={"clientId": client_id})[0]

    def grant_client_roles(self, user_id, client_id, role_names):
        """Map roles of client ``client_id`` (e.g. ``realm-management``) to a user."""
        client = self.client(client_id)
        roles = [
            self.kc.rest("GET", "realms/%s/clients/%s/roles/%s" % (self.realm, client["id"], name))
            for name in role_names
        ]
        self.kc.rest(
            "POST", "realms/%s/users/%s/role-mappings/clients/%s" % (self.realm, user_id, client["id"]), json=roles
        )

    def role(self, name):
        return self.kc.rest("GET", "realms/%s/roles/%s" % (self.realm, name))

    def map_roles(self, user_id, *names):
        """Map realm roles to a user."""
        self.kc.rest(
            "POST", "realms/%s/users/%s/role-mappings/realm" % (self.realm, user_id), json=[self.role(n) for n in names]
        )

    def mappings(self, user_id):
        """The names of the realm roles mapped to a user, sorted."""
        return sorted(
            r["name"] for r in self.kc.rest("GET", "realms/%s/users/%s/role-mappings/realm" % (self.realm, user_id))
        )

    # ---- tokens

    def password_grant(self, username, password, client_id="admin-cli", client_secret=None, scope=None):
        """A password grant at the realm's token endpoint: ``(status, parsed JSON body)``."""
        status, body = password_grant(
            self.kc.url, self.realm, client_id, username, password, client_secret=client_secret, scope=scope
        )
        return status, json.loads(body)

    def access_token(self, username, password, client_id="admin-cli"):
        """The raw access token of a successful password grant."""
        status, body = self.password_grant(username, password, client_id)
        assert status == 200, body
        return body["access_token"]


class Tenant(Realm):
    """A tenant realm seeded as a CX install has it: realm, client ``cim`` and its secret.

    ``info`` is what ``KeycloakServer.seed_tenant`` returned.
    """

    def __init__(self, server, info):
        super().__init__(server, info["realm"])
        self.info = info
        self.client_id = info["client_id"]
        self.client_secret = info["client_secret"]
        self.client_uuid = info["client_uuid"]

    def auth(self):
        """The modules' connection options for the bootstrap admin of realm master."""
        return {
            "auth_keycloak_url": self.kc.url,
            "auth_username": self.kc.admin_user,
            "auth_password": self.kc.admin_password,
        }

    def args(self, **kwargs):
        """Module options: :meth:`auth` and ``realm``, then ``kwargs``; None values are left out."""
        args = self.auth()
        args["realm"] = self.realm
        args.update(kwargs)
        return {k: v for k, v in args.items() if v is not None}

    def grant(self, username, password):
        """Password grant through client ``cim`` with its secret (scope openid): ``(status, body)``."""
        return self.password_grant(username, password, self.client_id, self.client_secret, scope="openid")

    def tokens(self, username, password):
        """The decoded ``(access token, ID token)`` claims a user gets through client ``cim``."""
        status, body = self.grant(username, password)
        assert status == 200, body
        return claims(body["access_token"]), claims(body["id_token"])


def unique_realm(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(3))


def seed_tenant(server, prefix="t", kind=Tenant, **kwargs):
    """Seed a uniquely named tenant realm on ``server``; return it as a ``kind`` (a Tenant class).

    ``kwargs`` go to ``KeycloakServer.seed_tenant`` (``client_secret``, ``redirect_uris``, ...).
    """
    return kind(server, server.seed_tenant(unique_realm(prefix), **kwargs))


def assert_mentions(message, *facts):
    """Assert that ``message`` names every fact (a name, id, realm, status, cause), in any case.

    Messages are checked for what they say, not word for word: ``assert_mentions(msg,
    "user 'customer'", "realm 'x'", "401")`` holds however the sentence around them reads.
    """
    lowered = message.lower()
    missing = [fact for fact in facts if str(fact).lower() not in lowered]
    assert not missing, "message %r does not mention %r" % (message, missing)


def warnings_in(output):
    """The ``[WARNING]:`` texts in what Ansible printed, each on one line (wrapping undone)."""
    text = " ".join(output.split())
    found = []
    for part in text.split("[WARNING]:")[1:]:
        found.append(part.split("[DEPRECATION WARNING]")[0].split("localhost |")[0].strip())
    return found

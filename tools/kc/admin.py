# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small admin REST client of a test server, and the tenant realm a CX install starts with.

It logs in as the bootstrap admin of realm master (``admin-cli``) and is independent of the
code under test, so tests can seed and read back what the modules did.
"""

import json as _json
import secrets
import time
import urllib.parse

from .errors import KeycloakServerError
from .tokens import password_grant
from .transport import http


class RestError(KeycloakServerError):
    """An admin REST call answered with an unexpected status."""

    def __init__(self, method, url, status, body):
        super().__init__("%s %s -> %s: %s" % (method, url, status, body[:500]))
        self.status = status
        self.body = body


class AdminClient:
    """Admin REST calls at the Keycloak with base URL ``url`` as a user of realm master."""

    def __init__(self, url, username, password):
        self.url = url
        self.username = username
        self.password = password
        self._token = None
        self._token_expiry = 0.0

    def token(self):
        """A master-realm admin access token (renewed when less than 10 s are left)."""
        if self._token and time.time() < self._token_expiry - 10:
            return self._token
        status, body = password_grant(self.url, "master", "admin-cli", self.username, self.password)
        if status != 200:
            raise KeycloakServerError("admin login to %s failed: %s %s" % (self.url, status, body[:300]))
        data = _json.loads(body)
        self._token = data["access_token"]
        self._token_expiry = time.time() + int(data.get("expires_in", 60))
        return self._token

    def _url(self, path):
        return self.url + (path if path.startswith("/") else "/admin/" + path)

    def rest(self, method, path, json=None, params=None, expect=None):  # pylint: disable=redefined-outer-name
        """Admin REST call.

        ``path`` is relative to ``{url}/admin/`` (``"realms/x/clients"``), or to ``{url}``
        when it starts with ``/`` (``"/realms/x/.well-known/openid-configuration"``).
        Returns the parsed JSON body; for an empty ``201 Created`` the id at the end of
        ``Location``; ``None`` for other empty bodies. Raises RestError unless the status
        is 2xx or in ``expect`` (then a 4xx body is returned as parsed JSON or text).
        """
        url = self._url(path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, headers, body = http(method, url, json_body=json, headers={"Authorization": "Bearer " + self.token()})
        if status >= 300 and not (expect and status in expect):
            raise RestError(method, url, status, body)
        if not body:
            if status == 201 and headers.get("Location"):
                return headers["Location"].rstrip("/").rsplit("/", 1)[-1]
            return None
        try:
            return _json.loads(body)
        except ValueError:
            return body

    def status_of(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        """Return just the HTTP status of an admin REST call (no raise)."""
        return http(method, self._url(path), json_body=json, headers={"Authorization": "Bearer " + self.token()})[0]


def seed_tenant(admin, realm="expertflow", client_id="cim", client_secret=None, redirect_uris=None, recreate=True):
    """Create the tenant realm as a CX installation has it before the guide is applied.

    Realm ``realm`` (enabled) with the confidential client ``client_id`` (secret
    generated unless given; standard flow and direct access grants on; redirect URIs)
    whose default client scopes include ``email``, ``profile`` and ``roles``, through the
    :class:`AdminClient` ``admin``. An existing realm of that name is deleted first
    (``recreate``) or is an error. Returns ``{realm, client_id, client_secret, client_uuid}``.
    """
    if admin.status_of("GET", "realms/%s" % realm) == 200:
        if not recreate:
            raise KeycloakServerError("realm %r already exists on %s" % (realm, admin.url))
        admin.rest("DELETE", "realms/%s" % realm)
    admin.rest("POST", "realms", json={"realm": realm, "enabled": True})
    secret = client_secret or secrets.token_urlsafe(24)
    uuid = admin.rest(
        "POST",
        "realms/%s/clients" % realm,
        json={
            "clientId": client_id,
            "name": client_id,
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": False,
            "clientAuthenticatorType": "client-secret",
            "secret": secret,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": True,
            "serviceAccountsEnabled": False,
            "implicitFlowEnabled": False,
            "redirectUris": list(redirect_uris or ["https://cx.example.test/*", "http://127.0.0.1/*"]),
            "webOrigins": ["+"],
            "attributes": {"post.logout.redirect.uris": "+"},
        },
    )
    attached = {s["name"] for s in admin.rest("GET", "realms/%s/clients/%s/default-client-scopes" % (realm, uuid))}
    wanted = {"email", "profile", "roles"}
    if not wanted <= attached:
        scopes = {s["name"]: s["id"] for s in admin.rest("GET", "realms/%s/client-scopes" % realm)}
        for name in sorted(wanted - attached):
            if name not in scopes:
                raise KeycloakServerError("realm %r has no client scope %r" % (realm, name))
            admin.rest("PUT", "realms/%s/clients/%s/default-client-scopes/%s" % (realm, uuid, scopes[name]))
    stored = admin.rest("GET", "realms/%s/clients/%s/client-secret" % (realm, uuid))
    if stored.get("value") != secret:
        raise KeycloakServerError("client %r in realm %r did not keep the given secret" % (client_id, realm))
    return {"realm": realm, "client_id": client_id, "client_secret": secret, "client_uuid": uuid}

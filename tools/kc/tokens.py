# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tokens from a realm's token endpoint, and what they say (JWT payload claims).

Independent of the code under test: tests, the admin client and ``make demo`` get their
tokens here and read them with :func:`claims`.
"""

import base64
import json

from .transport import http


def token_url(url, realm):
    """The OpenID Connect token endpoint of ``realm`` on the Keycloak at base URL ``url``."""
    return "%s/realms/%s/protocol/openid-connect/token" % (url.rstrip("/"), realm)


def password_grant(url, realm, client_id, username, password, client_secret=None, scope=None, timeout=30):
    """Resource-owner password grant of ``username`` at client ``client_id``: ``(status, body text)``.

    ``client_secret`` for a confidential client, ``scope`` e.g. ``"openid"`` for an ID token too.
    """
    data = {"grant_type": "password", "client_id": client_id, "username": username, "password": password}
    if client_secret is not None:
        data["client_secret"] = client_secret
    if scope is not None:
        data["scope"] = scope
    status, _headers, body = http("POST", token_url(url, realm), data=data, timeout=timeout)
    return status, body


def claims(jwt):
    """The payload of a JWT (a signed token) as a dict; the signature is not checked."""
    payload = jwt.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))


def audiences(token_claims):
    """The ``aud`` claim as a list (a JWT may give one audience as a plain string)."""
    aud = token_claims.get("aud", [])
    return [aud] if isinstance(aud, str) else list(aud)

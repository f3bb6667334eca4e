# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner of ``keycloak_client_secret_info``: a client's secret, read or compared (private).

:func:`run` logs in, finds the client, refuses one that has no secret (public, or
authenticating with a key instead of a secret), reads
``GET admin/realms/{realm}/clients/{uuid}/client-secret`` (python-keycloak's ``get_client_secrets``)
and then either returns the secret (no ``client_secret`` given) or compares it with the given
one; a mismatch fails, naming realm and client, printing neither value. It also reads the
realm's discovery document through the same URL and, for ``compare_url``, says whether that
other URL of the server has the path the realms are served under (:func:`path_check`, pure).

Nothing is written: the module is read-only, check mode included.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import SECRET_OPTIONS, require_text

try:
    from keycloak.exceptions import KeycloakGetError, raise_error_from_response
except ImportError:  # the connection reports the missing library before anything is read
    KeycloakGetError = raise_error_from_response = None

# Client authenticators whose credential is the client secret (the gateway sends it).
SECRET_AUTHENTICATORS = ("client-secret", "client-secret-jwt")


def target(params):
    """``"client 'cim' in realm 'expertflow'"``: what the module reads, for every message."""
    return "the secret of client '%s' in realm '%s'" % (params["client_id"], params["realm"])


def base_path(url):
    """The path of a Keycloak base URL without trailing slash: ``""`` or ``"/auth"``."""
    return urlsplit(str(url or "").strip()).path.rstrip("/")


def path_check(compare_url, server_path):
    """``(ok, fixed)`` for ``compare_url``, another base URL of the server that serves realms under
    ``server_path``: ``ok`` when its path is that path (trailing slashes do not count), ``fixed``
    the same scheme and host with that path. ``None`` when ``compare_url`` is no http(s) URL."""
    parts = urlsplit(str(compare_url or "").strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    want = str(server_path or "").rstrip("/")
    have = parts.path.rstrip("/")
    fixed = urlunsplit((parts.scheme, parts.netloc, want, "", ""))
    return have == want and not parts.query and not parts.fragment, fixed


def refusal(client, realm):
    """Why ``client`` (a representation) has no secret to read (public), or cannot serve (disabled), or None."""
    client_id = client.get("clientId")
    if client.get("publicClient") is True:
        return (
            "client '%s' in realm '%s' is public (publicClient: true, 'Client authentication' OFF) and has no "
            "secret; the gateway's token introspection authenticates as this client with its secret: turn "
            "'Client authentication' ON for it (Clients > %s > Settings)" % (client_id, realm, client_id)
        )
    if client.get("enabled") is False:
        return (
            "client '%s' in realm '%s' is disabled (enabled: false): Keycloak issues no token through it and "
            "refuses the gateway's token introspection, which authenticates as this client; enable it (Clients > "
            "%s > Settings > Enabled)" % (client_id, realm, client_id)
        )
    authenticator = client.get("clientAuthenticatorType") or "client-secret"
    if authenticator not in SECRET_AUTHENTICATORS:
        return (
            "client '%s' in realm '%s' authenticates with '%s', not with a client secret; the gateway sends "
            "client_id and client_secret: set Client Authenticator to 'Client Id and Secret' (Clients > %s > "
            "Credentials)" % (client_id, realm, authenticator, client_id)
        )
    return None


def same_secret(given, stored):
    """Whether the two secrets are equal (constant time)."""
    return hmac.compare_digest(str(given).encode("utf-8"), str(stored).encode("utf-8"))


def mismatch_message(client_id, realm, url):
    """The failure for a given secret that is not Keycloak's; it shows neither value."""
    return (
        "The client_secret given for client '%s' in realm '%s' is not the secret Keycloak at %s holds for that "
        "client (a stale copy?): routes written with it would refuse every token. Put the current secret into the "
        "inventory (Clients > %s > Credentials), or leave it out to have it read from Keycloak; neither secret "
        "is shown here" % (client_id, realm, url, client_id)
    )


def _read_secret(connection, client):
    what = "reading the secret of client '%s' in realm '%s'" % (client["clientId"], connection.realm)
    with connection.errors(what, advice={403: "The admin needs the view-clients role of realm-management"}):
        answer = connection.admin.get_client_secrets(client["id"]) or {}
    secret = answer.get("value") if isinstance(answer, dict) else None
    if not isinstance(secret, str) or not secret:
        raise KeycloakModuleError(
            "Client '%s' in realm '%s' on Keycloak at %s has no secret yet: generate one (Clients > %s > "
            "Credentials > Regenerate)" % (client["clientId"], connection.realm, connection.url, client["clientId"])
        )
    connection.secrets.add(secret)
    return secret


def confidential_client(connection, params, failing="Cannot read"):
    """The representation of client ``params['client_id']`` of the open ``connection``'s realm; KeycloakModuleError
    when there is none, or when it has no secret to read or use (:func:`refusal`; ``failing`` starts that message)."""
    client_id, realm = params["client_id"], params["realm"]
    client = connection.get_client(client_id)
    if client is None:
        raise KeycloakModuleError(
            "Client '%s' does not exist in realm '%s' on Keycloak at %s" % (client_id, realm, connection.url)
        )
    problem = refusal(client, realm)
    if problem:
        raise KeycloakModuleError("%s %s on Keycloak at %s: %s" % (failing, target(params), connection.url, problem))
    return client


def read_secret(connection, client):
    """The secret Keycloak holds for ``client`` (a representation), masked from then on; KeycloakModuleError when
    it has none."""
    return _read_secret(connection, client)


def _discovery(connection):
    """The realm's discovery document as served through ``auth_keycloak_url``."""
    what = "reading the discovery document of realm '%s'" % connection.realm
    with connection.errors(what):
        response = connection.admin.connection.raw_get(
            "realms/%s/.well-known/openid-configuration" % quote(connection.realm, safe="")
        )
        document = raise_error_from_response(response, KeycloakGetError) or {}
    return document if isinstance(document, dict) else {}


def run(connection, params, check_mode, diff, warn):  # pylint: disable=unused-argument
    """The runner of ``keycloak_client_secret_info`` (see ``_runner.run_module``)."""
    require_text(params, SECRET_OPTIONS + ("client_secret",), target(params))
    compare_url = params.get("compare_url")
    if compare_url and path_check(compare_url, "") is None:
        raise KeycloakModuleError("compare_url must be an http:// or https:// URL with a host, got %r" % compare_url)
    connection.open()
    client_id, realm = params["client_id"], params["realm"]
    client = confidential_client(connection, params)
    secret = _read_secret(connection, client)
    given = params.get("client_secret")
    if given is not None and not same_secret(given, secret):
        raise KeycloakModuleError(mismatch_message(client_id, realm, connection.url), client_uuid=client["id"])

    document = _discovery(connection)
    server_path = base_path(params["auth_keycloak_url"])
    result = dict(
        changed=False,
        client_uuid=client["id"],
        client_secret_source="compared" if given is not None else "keycloak",
        base_path=server_path,
        realm_url="%s/realms/%s" % (connection.url, quote(realm, safe="")),
        issuer=document.get("issuer"),
        msg=(
            "The given secret of client '%s' in realm '%s' is the one Keycloak holds" % (client_id, realm)
            if given is not None
            else "Read the secret of client '%s' in realm '%s'" % (client_id, realm)
        ),
    )
    if given is None:
        result["client_secret"] = secret
    if compare_url:
        ok, fixed = path_check(compare_url, server_path)
        result["compare_url_path_ok"] = ok
        result["compare_url_fixed"] = fixed
        result["msg"] += (
            "; compare_url has the server's base path"
            if ok
            else "; compare_url does not have the server's base path: use %s" % masking.mask_urls(fixed)
        )
    return result

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keycloak's OpenID Connect endpoints: the token endpoint, introspection, discovery (private).

With ``connection.py`` (python-keycloak, for the admin REST and the modules' logins) this is the
collection's one access layer to Keycloak: no other plugin builds an HTTP request to it. Used by the
lookup ``keycloak_admin_token`` (:func:`admin_token`) and by ``apisix_oidc_check`` (:func:`discover`,
:func:`request_token`, :func:`introspect`, :func:`client_authentication`).

HTTP goes through :class:`Transport`, the standard library with only the handlers these requests need,
not ``ansible.module_utils.urls.open_url``: that import, and the TLS context that it (like
``urllib.request.build_opener``) builds for every request, loading the system CA bundle even for http,
cost a tenant's run more CPU than the rest of the lookup (measured with py-spy). The proxy settings of
the environment apply as with ``open_url``; a redirect is followed for a GET only, never with a form
(it may hold a password). Failures are worded by ``_http_errors`` and ``errors``, as for the modules.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ansible_collections.cx.api_auth.plugins.module_utils._http_errors import (
    display_url,
    error_text,
    transport_message,
)
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import (
    KeycloakModuleError,
    login_problem,
    login_words,
)
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import require_text
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.realm import path_segment, require_realm

if TYPE_CHECKING:
    from typing import IO

    from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class TransportError(Exception):
    """No HTTP answer at all (refused, timeout, unknown host, TLS, an unreadable ca_path); the message says
    which, naming the server, the URL and the option to change (never the request, which may hold secrets)."""


class Answer:
    """One HTTP answer: ``status``, ``text`` (the body), ``data`` (the body's JSON, or None)."""

    def __init__(self, status: int, text: str | None) -> None:
        self.status = status
        self.text = text or ""
        try:
            self.data: Any = json.loads(self.text) if self.text else None
        except ValueError:
            self.data = None

    @property
    def said(self) -> str:
        """The server's error text, as one short line (``_http_errors.error_text``)."""
        return error_text(self.text)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect of a GET or HEAD; any other answer 3xx is an answer (its status), never followed."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if req.get_method() not in ("GET", "HEAD"):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Transport:
    """GET and form POST to Keycloak: :meth:`request` gives ``(status, body text)`` for any HTTP answer and
    raises :class:`TransportError` without one.

    ``options`` names the plugin's options in messages (``_http_errors.KEYCLOAK_OPTIONS`` by default).
    """

    def __init__(
        self,
        validate_certs: bool = True,
        ca_path: str | None = None,
        timeout: float = 10,
        options: Mapping[str, str] | None = None,
    ) -> None:
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.options = options
        self._tls: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        """The TLS context, built on the first https request: against ``ca_path`` (PEM), or else the system
        CA store; verifying nothing if not ``validate_certs``."""
        if self._tls is None:
            if not self.validate_certs:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                try:
                    context = ssl.create_default_context(cafile=self.ca_path or None)
                except OSError as exc:  # a missing file, or ssl.SSLError for one that holds no PEM certificate
                    raise TransportError(
                        "%s %s cannot be read as PEM CA certificates (%s)"
                        % (
                            (self.options or {}).get("ca_path", "ca_path"),
                            self.ca_path,
                            getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__,
                        )
                    ) from None
            self._tls = context
        return self._tls

    def _opener(self, url: str, method: str) -> urllib.request.OpenerDirector:
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.ProxyHandler(),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            _Redirects(),
            urllib.request.HTTPErrorProcessor(),
        ]
        if url.lower().startswith("https://") or method in ("GET", "HEAD"):  # a GET may be redirected to https
            handlers.append(urllib.request.HTTPSHandler(context=self._context()))
        opener = urllib.request.OpenerDirector()
        for handler in handlers:
            opener.add_handler(handler)
        return opener

    def request(
        self, method: str, url: str, data: str | bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        """``(status, body text)`` of ``method`` ``url`` with ``data`` (a form, urlencoded) and ``headers``."""
        body = data.encode("utf-8") if isinstance(data, str) else data
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        try:
            with self._opener(url, method).open(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read().decode("utf-8", "replace")
            except Exception:  # pylint: disable=broad-except  # the status alone is reported then
                text = ""
            return exc.code, text
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise TransportError(transport_message(exc, display_url(url), options=self.options)) from None


# --------------------------------------------------------------------------- the endpoints


def jwt_part(token: Any, index: int) -> dict[str, Any]:
    """The decoded JSON of part ``index`` of a JWT (0: header, 1: claims), or ``{}``."""
    try:
        part = token.split(".")[index]
        part += "=" * (-len(part) % 4)
        data = json.loads(base64.urlsafe_b64decode(part.encode("ascii")).decode("utf-8"))
    except (AttributeError, IndexError, TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def normalize_url(url: object) -> str | None:
    """The Keycloak base URL with exactly one trailing slash, or ``None`` if it is no http(s) URL.

    python-keycloak joins paths with ``urljoin``, which drops the last path segment of a base
    without a trailing slash (``http://h/auth`` + ``admin/...`` gives ``http://h/admin/...``).
    """
    url = str(url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    return url.rstrip("/") + "/"


def token_endpoint(server_url: object, realm: str) -> str:
    """The token endpoint of ``realm`` on the Keycloak at ``server_url`` (with ``/auth`` where it has one)."""
    return "%s/realms/%s/protocol/openid-connect/token" % (str(server_url).strip().rstrip("/"), path_segment(realm))


def client_authentication(
    client_id: str, secret: str, method: str = "client_secret_basic"
) -> tuple[dict[str, str], dict[str, str]]:
    """``(form fields, headers)`` that authenticate ``client_id`` with ``secret`` by ``method``.

    ``client_secret_post``: both in the form; ``client_secret_basic``: as lua-resty-openidc does, both
    parts URL-encoded, then HTTP Basic (the header holds the secret: mask it).
    """
    if method == "client_secret_post":
        return {"client_id": client_id, "client_secret": secret}, {}
    pair = "%s:%s" % (quote(client_id, safe=""), quote(secret, safe=""))
    return {"client_id": client_id}, {
        "Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    }


def discover(transport: Transport, url: str) -> Answer:
    """The answer of the discovery document at ``url`` (``.../.well-known/openid-configuration``)."""
    return Answer(*transport.request("GET", url, headers={"Accept": "application/json"}))


def request_token(
    transport: Transport, url: str, form: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> Answer:
    """The answer of the token endpoint ``url`` to the grant ``form`` (a dict)."""
    return Answer(*transport.request("POST", url, data=urlencode(form), headers=dict(FORM_HEADERS, **(headers or {}))))


def introspect(
    transport: Transport,
    url: str,
    token: str,
    fields: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """The answer of the introspection endpoint ``url`` for the access ``token``, the client authenticated
    by ``fields`` / ``headers`` (:func:`client_authentication`)."""
    form = dict(fields, token=token, token_type_hint="access_token")
    return request_token(transport, url, form, headers)


def admin_token(transport: Transport, params: Mapping[str, Any], secrets: Secrets) -> str:
    """The access token Keycloak gives for the connection options ``params`` (the modules' names:
    ``auth_keycloak_url``, ``auth_realm``, ``auth_username``/``auth_password`` for a password grant, else a
    client credentials grant of ``auth_client_id`` with ``auth_client_secret``).

    ``secrets`` (``_masking.Secrets``) learns the tokens. Any failure raises KeycloakModuleError worded as
    for the modules (``errors.login_problem``, ``_http_errors.transport_problem``).
    """
    url = display_url(params.get("auth_keycloak_url"))
    realm = "master" if params.get("auth_realm") is None else params["auth_realm"]
    username = params.get("auth_username")
    client_id = params.get("auth_client_id") or "admin-cli"
    who, credentials = login_words(username, client_id, realm)
    # before anything is sent, as the modules do: the URL, the realm (one plain path segment), text secrets
    if normalize_url(params.get("auth_keycloak_url")) is None:
        raise KeycloakModuleError("auth_keycloak_url must start with http:// or https://, got '%s'" % url)
    require_realm(realm, "auth_realm", KeycloakModuleError)
    require_text(params, ("auth_password", "auth_client_secret"), who, "No token for %s")
    form = {"client_id": client_id}
    if username:
        form.update(grant_type="password", username=username, password=params.get("auth_password") or "")
    else:
        form["grant_type"] = "client_credentials"
    if params.get("auth_client_secret"):
        form["client_secret"] = params["auth_client_secret"]
    try:
        answer = request_token(transport, token_endpoint(normalize_url(params["auth_keycloak_url"]), realm), form)
    except TransportError as exc:
        raise KeycloakModuleError("No token for %s: %s" % (who, exc)) from None
    tokens = answer.data if isinstance(answer.data, dict) else {}
    for key in ("access_token", "refresh_token", "id_token"):
        secrets.add(tokens.get(key))
    if answer.status != 200:
        problem = login_problem(answer.status, answer.said, url, realm, who, credentials)
        raise KeycloakModuleError("No token for %s: %s" % (who, problem), http_code=answer.status, detail=answer.said)
    if not tokens.get("access_token"):
        raise KeycloakModuleError(
            "No token for %s: Keycloak at %s answered without an access token (%s)"
            % (who, url, "no JSON" if answer.data is None else "no access_token in its answer")
        )
    return tokens["access_token"]

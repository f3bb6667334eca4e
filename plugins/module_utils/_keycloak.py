# -*- coding: utf-8 -*-
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection plumbing shared by the Keycloak modules of cx.api_auth.

Private to the collection (leading underscore): the modules are its only users.

What a module does with it::

    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import (
        KEYCLOAK_REQUIRED_ONE_OF, KEYCLOAK_REQUIRED_TOGETHER, keycloak_argument_spec,
        connect, keycloak_errors, get_client_by_client_id, module_failures)

    argument_spec = keycloak_argument_spec()
    argument_spec.update(realm=dict(type='str', required=True), ...)
    module = AnsibleModule(argument_spec, supports_check_mode=True,
                           required_one_of=KEYCLOAK_REQUIRED_ONE_OF,
                           required_together=KEYCLOAK_REQUIRED_TOGETHER)
    # Any exception in the block ends in fail_json() with a scrubbed message, no traceback.
    with module_failures(module, "Managing mapper 'x' on client 'cim' in realm 'r' failed"):
        admin = connect(module, module.params['realm'], fail=False)  # KeycloakModuleError
        client = get_client_by_client_id(admin, 'cim')                # raises KeycloakModuleError
        with keycloak_errors("adding mapper 'x' to client 'cim' in realm 'r'"):
            admin.add_mapper_to_client(client['id'], payload)
    module.exit_json(...)

Every message this file makes names the Keycloak URL and the realm and never a secret:
the values of the module's ``no_log`` options are replaced by ``********`` in every
message as a last line of defence.
"""

import base64
import contextlib
import inspect
import json
import time
import traceback
import warnings

from ansible.module_utils.basic import missing_required_lib

REQUESTS_IMPORT_ERROR = None
try:
    import requests
except ImportError:  # python-keycloak needs requests anyway
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

KEYCLOAK_IMPORT_ERROR = None
try:
    from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
    from keycloak.exceptions import KeycloakError
    HAS_KEYCLOAK = True
except ImportError:
    HAS_KEYCLOAK = False
    KEYCLOAK_IMPORT_ERROR = traceback.format_exc()
    KeycloakAdmin = None
    KeycloakOpenIDConnection = None

    class KeycloakError(Exception):
        """Stand-in so that ``except KeycloakError`` works without python-keycloak."""

        response_code = None
        error_message = ""


MASK = "********"

KEYCLOAK_REQUIRED_ONE_OF = [["token", "auth_username", "auth_client_secret"]]
KEYCLOAK_REQUIRED_TOGETHER = [["auth_username", "auth_password"]]

# Default lifetime assumed for a pre-obtained bearer token whose expiry cannot be read.
_STATIC_TOKEN_LIFETIME = 24 * 3600

# What the last connect() set up; keycloak_errors() uses it for its messages.
_CONTEXT = {"url": None, "user": None, "auth_realm": None, "realm": None}
_SECRETS = set()


def keycloak_argument_spec():
    """Return the connection options every Keycloak module of the collection accepts.

    Mirrored by the ``cx.api_auth.keycloak`` doc fragment (a unit test keeps them equal).
    """
    return dict(
        auth_keycloak_url=dict(type="str", required=True, aliases=["url"], no_log=False),
        auth_realm=dict(type="str", default="master"),
        auth_client_id=dict(type="str", default="admin-cli"),
        auth_client_secret=dict(type="str", no_log=True),
        auth_username=dict(type="str"),
        auth_password=dict(type="str", no_log=True),
        token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        connection_timeout=dict(type="int", default=10),
        ca_path=dict(type="path"),
    )


class KeycloakModuleError(Exception):
    """A failure talking to Keycloak, with a message fit for ``fail_json(msg=...)``.

    ``http_code`` is the HTTP status when there was one (else ``None``); ``detail`` is
    Keycloak's own error text, decoded and scrubbed of secrets.
    """

    def __init__(self, message, http_code=None, detail=None):
        message = scrub(message)
        super(KeycloakModuleError, self).__init__(message)
        self.message = message
        self.http_code = http_code
        self.detail = scrub(detail) if detail else detail

    def __str__(self):
        return self.message


# --------------------------------------------------------------------------- secrets


def register_secret(value):
    """Remember ``value`` as a secret: it is masked in every message made from now on."""
    if value is not None and not isinstance(value, bool):
        value = str(value)
        if value:
            _SECRETS.add(value)


def scrub(text):
    """Return ``text`` with every registered secret replaced by ``********``."""
    if text is None:
        return text
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


# --------------------------------------------------------------------------- URLs


def normalize_url(url):
    """Return the Keycloak base URL with exactly one trailing slash.

    python-keycloak joins paths with ``urljoin``, which drops the last path segment of a
    base without a trailing slash: ``http://h/auth`` + ``admin/...`` gives
    ``http://h/admin/...``. Works for servers at ``/`` (17+) and at the legacy ``/auth``.
    """
    if url is None:
        raise KeycloakModuleError("auth_keycloak_url is empty")
    url = str(url).strip()
    if not url:
        raise KeycloakModuleError("auth_keycloak_url is empty")
    lower = url.lower()
    if not (lower.startswith("http://") or lower.startswith("https://")):
        raise KeycloakModuleError(
            "auth_keycloak_url must start with http:// or https://, got '%s'" % display_url(url)
        )
    return url.rstrip("/") + "/"


def display_url(url):
    """Return ``url`` without trailing slash and without any ``user:password@`` part."""
    url = str(url).strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if sep:
        host, slash, path = rest.partition("/")
        if "@" in host:
            host = host.rsplit("@", 1)[1]
        url = scheme + sep + host + slash + path
    return url


def token_endpoint(base_url, realm):
    """Return ``{base}/realms/{realm}/protocol/openid-connect/token`` for a base URL."""
    return "%srealms/%s/protocol/openid-connect/token" % (normalize_url(base_url), realm)


# --------------------------------------------------------------------------- errors


def _decode(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)


def keycloak_error_text(value):
    """Turn Keycloak's error body (bytes, str, JSON or HTML) into one short readable line.

    JSON bodies such as ``{"error":"invalid_grant","error_description":"Invalid user
    credentials"}`` or ``{"errorMessage":"..."}`` give ``invalid_grant: Invalid user
    credentials`` / their message; anything else is returned trimmed.
    """
    text = _decode(value).strip()
    parsed = None
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        description = parsed.get("error_description") or parsed.get("errorMessage")
        if not description and parsed.get("message"):
            description = parsed.get("message")
        if error and description and error != description:
            text = "%s: %s" % (error, description)
        else:
            text = _decode(description or error or text)
    elif text.lstrip().lower().startswith("<"):
        text = "(HTML page)"
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:297] + "..."
    return scrub(text)


def _error_code(exc):
    """Return (http code or None, Keycloak's error text) of a KeycloakError."""
    code = getattr(exc, "response_code", None)
    body = getattr(exc, "response_body", None)
    message = getattr(exc, "error_message", None)
    text = keycloak_error_text(body if body else message)
    if not text:
        text = keycloak_error_text(message)
    return code, text


def _root_causes(exc):
    """Yield ``exc`` and every exception it was caused by or raised while handling."""
    seen = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.append(getattr(current, "__cause__", None))
        todo.append(getattr(current, "__context__", None))
        for arg in getattr(current, "args", ()) or ():
            if isinstance(arg, BaseException):
                todo.append(arg)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)


def transport_problem(exc, url):
    """Describe a failure to reach ``url`` (no HTTP answer), or return ``None``.

    Recognises connection refused, TLS verification failures, timeouts and unknown hosts,
    whether raised by requests directly or wrapped in python-keycloak's
    ``KeycloakConnectionError``.
    """
    url = display_url(url)
    causes = list(_root_causes(exc))
    texts = " | ".join(_decode(c) for c in causes)
    lowered = texts.lower()
    import ssl  # local: only needed here

    is_ssl = any(isinstance(c, ssl.SSLError) for c in causes) or (
        requests is not None
        and any(isinstance(c, requests.exceptions.SSLError) for c in causes)
    )
    if is_ssl or "certificate verify failed" in lowered:
        reason = "TLS handshake failed"
        for cause in causes:
            if isinstance(cause, ssl.SSLCertVerificationError):
                reason = "certificate verify failed: %s" % (
                    _decode(getattr(cause, "verify_message", None)) or "unknown reason")
                break
            if isinstance(cause, ssl.SSLError):
                # e.g. WRONG_VERSION_NUMBER: the port speaks plain HTTP
                reason = _decode(getattr(cause, "reason", None) or cause) or reason
                if reason == "WRONG_VERSION_NUMBER":
                    reason = "the server did not answer with TLS (WRONG_VERSION_NUMBER; plain HTTP?)"
                break
        else:
            if "certificate verify failed" in lowered:
                reason = "certificate verify failed"
        return (
            "TLS verification failed for %s: %s; set ca_path to the CA that signed the "
            "server's certificate, or validate_certs: false" % (url, scrub(reason))
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "connection refused" in lowered:
        return "Cannot connect to Keycloak at %s: connection refused" % url
    timeout_types = [TimeoutError]
    if requests is not None:
        timeout_types.append(requests.exceptions.Timeout)
    if any(isinstance(c, tuple(timeout_types)) for c in causes) or "timed out" in lowered:
        return "Cannot connect to Keycloak at %s: timed out (connection_timeout)" % url
    if (
        "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or "temporary failure in name resolution" in lowered
        or "failed to resolve" in lowered
    ):
        return "Cannot connect to Keycloak at %s: unknown host" % url
    is_connection = any(isinstance(c, (ConnectionError, OSError)) for c in causes) or (
        requests is not None
        and any(isinstance(c, requests.exceptions.RequestException) for c in causes)
    )
    if is_connection:
        detail = ""
        for cause in reversed(causes):
            if isinstance(cause, OSError) and getattr(cause, "strerror", None):
                detail = cause.strerror
                break
        return "Cannot connect to Keycloak at %s: %s" % (url, scrub(detail or "connection failed"))
    return None


def _context_url():
    return display_url(_CONTEXT["url"]) if _CONTEXT["url"] else "the Keycloak server"


def _describe(what, exc, realm=None):
    """Build the KeycloakModuleError for ``exc`` raised while doing ``what``."""
    if isinstance(exc, KeycloakModuleError):
        return exc
    url = _context_url()
    realm = realm or _CONTEXT["realm"]
    problem = transport_problem(exc, _CONTEXT["url"] or url)
    code = getattr(exc, "response_code", None)
    if problem and code is None:
        return KeycloakModuleError("%s: %s" % (what, problem))
    if isinstance(exc, KeycloakError) or code is not None:
        code, text = _error_code(exc)
        suffix = " (%s%s)" % (code, ": " + text if text else "") if code else (
            " (%s)" % text if text else ""
        )
        user = _CONTEXT["user"]
        if code == 403:
            who = "user '%s' has" % user if user else "the given credentials have"
            scope = " in realm '%s'" % realm if realm else ""
            return KeycloakModuleError(
                "%s failed: Keycloak at %s says %s no permission for it%s%s"
                % (what, url, who, scope, suffix),
                http_code=code,
                detail=text,
            )
        if code == 401:
            who = "of '%s'" % user if user else "given"
            return KeycloakModuleError(
                "%s failed: Keycloak at %s rejected the credentials %s in realm '%s'%s"
                % (what, url, who, _CONTEXT["auth_realm"] or "master", suffix),
                http_code=code,
                detail=text,
            )
        answer = "%s: %s" % (code, text) if code and text else (str(code) if code else text)
        return KeycloakModuleError(
            "%s failed: Keycloak at %s answered %s" % (what, url, answer or "with an error"),
            http_code=code,
            detail=text,
        )
    return KeycloakModuleError("%s failed: %s: %s" % (what, type(exc).__name__, _decode(exc)))


@contextlib.contextmanager
def keycloak_errors(what, realm=None):
    """Turn python-keycloak / requests failures inside the block into KeycloakModuleError.

    ``what`` says what was being done, e.g. ``"reading client 'cim' in realm 'expertflow'"``;
    the message adds the HTTP code, Keycloak's own error text (decoded) and the URL, with
    secrets masked. ``realm`` is named in a 403 message (default: the realm given to
    :func:`connect`). KeycloakModuleError raised inside passes through unchanged.
    """
    try:
        yield
    except KeycloakModuleError:
        raise
    except KeycloakError as exc:
        raise _describe(what, exc, realm)
    except Exception as exc:  # pylint: disable=broad-except
        if requests is not None and isinstance(exc, requests.exceptions.RequestException):
            raise _describe(what, exc, realm)
        if isinstance(exc, OSError):
            raise _describe(what, exc, realm)
        raise


def _fail_json_kwargs(module):
    """Return the extra ``fail_json`` arguments that keep a traceback out of the result.

    ansible-core 2.19+ adds the pending exception's traceback (with its message) as
    ``exception`` when tracebacks are enabled, unless ``exception`` is given; an empty
    string means "no traceback". Older versions have no such keyword-only parameter.
    """
    try:
        parameter = inspect.signature(module.fail_json).parameters.get("exception")
    except (TypeError, ValueError):  # not introspectable
        return {}
    if parameter is not None and parameter.kind == inspect.Parameter.KEYWORD_ONLY:
        return {"exception": ""}
    return {}


@contextlib.contextmanager
def module_failures(module, what="Unexpected failure"):
    """Turn any exception escaping the block into ``module.fail_json`` with a scrubbed message.

    A :class:`KeycloakModuleError` fails with its own message; any other ``Exception``
    with ``"<what>: <ExceptionType>: <text>"``. Every value of the module's ``no_log``
    options (and every secret registered with :func:`register_secret`) is masked, and no
    traceback is added to the result: an uncaught exception would print its traceback,
    secrets included, to stderr, which ``no_log`` does not mask. ``SystemExit`` (from
    ``exit_json``/``fail_json``) and ``KeyboardInterrupt`` pass through.
    """
    for value in getattr(module, "no_log_values", None) or ():
        register_secret(value)
    message = None
    try:
        yield
    except KeycloakModuleError as exc:
        message = str(exc)
    except Exception as exc:  # pylint: disable=broad-except
        message = "%s: %s: %s" % (what, type(exc).__name__, _decode(exc))
    if message is not None:
        module.fail_json(msg=scrub(message), **_fail_json_kwargs(module))


# --------------------------------------------------------------------------- connect


def _jwt_lifetime(token):
    """Seconds until the ``exp`` of a JWT, or None when it cannot be read."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
        return max(int(claims["exp"]) - int(time.time()), 1)
    except Exception:  # pylint: disable=broad-except
        return None


def _verify_option(params):
    if not params.get("validate_certs", True):
        return False
    return params.get("ca_path") or True


def _authenticate(connection, url, params):
    """Get the first token, turning token-endpoint failures into clear messages."""
    auth_realm = params.get("auth_realm") or "master"
    user = params.get("auth_username")
    who = "'%s'" % user if user else "client '%s'" % (params.get("auth_client_id") or "admin-cli")
    try:
        connection.get_token()
    except KeycloakError as exc:
        problem = transport_problem(exc, url)
        code, text = _error_code(exc)
        if code is None and problem:
            raise KeycloakModuleError(problem)
        lowered = text.lower()
        if code == 404 and "realm" in lowered:
            raise KeycloakModuleError(
                "Realm '%s' (auth_realm) does not exist on Keycloak at %s" % (auth_realm, url),
                http_code=code,
                detail=text,
            )
        if code == 404:
            raise KeycloakModuleError(
                "No Keycloak token endpoint at %s (404 for realms/%s/protocol/openid-connect/token);"
                " check auth_keycloak_url: servers started with --http-relative-path=/auth and"
                " Keycloak before 17 need the /auth suffix, newer ones usually have none"
                % (url, auth_realm),
                http_code=code,
                detail=text,
            )
        if code in (400, 401) and (
            "invalid_grant" in lowered or "invalid_client" in lowered or "unauthorized" in lowered
            or code == 401
        ):
            reason = text.split(":", 1)[0] if text else str(code)
            raise KeycloakModuleError(
                "Keycloak at %s rejected the credentials of %s in realm '%s' (%s)"
                % (url, who, auth_realm, reason),
                http_code=code,
                detail=text,
            )
        raise KeycloakModuleError(
            "Logging in to Keycloak at %s as %s in realm '%s' failed (%s%s)"
            % (url, who, auth_realm, code, ": " + text if text else ""),
            http_code=code,
            detail=text,
        )
    except Exception as exc:  # pylint: disable=broad-except
        problem = transport_problem(exc, url)
        if problem:
            raise KeycloakModuleError(problem)
        raise


def _verify_realm(admin, url, realm, params):
    """GET admin/realms/{realm}: proves the token works and the realm exists."""
    user = params.get("auth_username")
    who = "user '%s'" % user if user else (
        "client '%s'" % params.get("auth_client_id") if params.get("auth_client_secret")
        else "the given token"
    )
    try:
        admin.get_realm(realm)
    except KeycloakError as exc:
        problem = transport_problem(exc, url)
        code, text = _error_code(exc)
        if code is None and problem:
            raise KeycloakModuleError(problem)
        if code == 404:
            raise KeycloakModuleError(
                "Realm '%s' does not exist on Keycloak at %s" % (realm, url),
                http_code=code,
                detail=text,
            )
        if code == 403:
            raise KeycloakModuleError(
                "Keycloak at %s: %s (realm '%s') has no permission to manage realm '%s' (403)"
                % (url, who, params.get("auth_realm") or "master", realm),
                http_code=code,
                detail=text,
            )
        if code == 401:
            raise KeycloakModuleError(
                "Keycloak at %s rejected %s for the admin API of realm '%s' (401%s)"
                % (url, "the given token" if params.get("token") and not user else who, realm,
                   ": " + text if text else ""),
                http_code=code,
                detail=text,
            )
        raise KeycloakModuleError(
            "Reading realm '%s' on Keycloak at %s failed (%s%s)"
            % (realm, url, code, ": " + text if text else ""),
            http_code=code,
            detail=text,
        )
    except Exception as exc:  # pylint: disable=broad-except
        problem = transport_problem(exc, url)
        if problem:
            raise KeycloakModuleError(problem)
        raise


def connect(module, realm, fail=True):
    """Return a python-keycloak ``KeycloakAdmin`` managing ``realm``, verified to work.

    The admin authenticates in ``auth_realm`` (python-keycloak's ``user_realm_name``) with,
    in this order of preference, the ``token`` option (a pre-obtained bearer token; it
    cannot be renewed unless credentials are given too), ``auth_username`` /
    ``auth_password`` (password grant with ``auth_client_id``, plus
    ``auth_client_secret`` if that client is confidential) or ``auth_client_secret`` alone
    (client credentials grant of ``auth_client_id``). Expired tokens are renewed by
    python-keycloak's ``KeycloakOpenIDConnection`` before each request (at 90 % of their
    lifetime) and after any 401 (refresh token, else a new login).

    The connection is verified by reading the realm; every failure (wrong credentials,
    no permission, unknown realm, connection refused, TLS, timeout) ends in
    ``module.fail_json`` with a message naming URL and realm and no secret — or, with
    ``fail=False``, raises :class:`KeycloakModuleError` with that message.
    """
    if not HAS_KEYCLOAK:
        module.fail_json(msg=missing_required_lib("python-keycloak"), exception=KEYCLOAK_IMPORT_ERROR)
    params = module.params
    # AnsibleModule collects the values of all no_log options (auth_password,
    # auth_client_secret, token and the module's own) in no_log_values.
    for value in getattr(module, "no_log_values", None) or ():
        register_secret(value)
    try:
        return _connect(params, realm)
    except KeycloakModuleError as exc:
        if not fail:
            raise
        module.fail_json(msg=str(exc))


def _new_connection(server_url, grant_type, username, password, realm, auth_realm, params,
                    client_secret):
    return KeycloakOpenIDConnection(
        server_url=server_url,
        grant_type=grant_type,
        username=username,
        password=password,
        realm_name=realm,
        user_realm_name=auth_realm,
        client_id=params.get("auth_client_id") or "admin-cli",
        client_secret_key=client_secret,
        verify=_verify_option(params),
        timeout=params.get("connection_timeout") or 10,
    )


def _connect(params, realm):
    server_url = normalize_url(params.get("auth_keycloak_url"))
    url = display_url(server_url)
    auth_realm = params.get("auth_realm") or "master"
    username = params.get("auth_username")
    password = params.get("auth_password")
    client_secret = params.get("auth_client_secret")
    token = params.get("token")
    if not (token or username or client_secret):
        raise KeycloakModuleError(
            "one of token, auth_username or auth_client_secret is needed to log in to Keycloak at %s"
            % url
        )
    if username and password is None:
        raise KeycloakModuleError("auth_username '%s' needs auth_password" % username)
    _CONTEXT.update(url=server_url, user=username, auth_realm=auth_realm, realm=realm)

    grant_type = None
    if username:
        grant_type = "password"
    elif client_secret:
        grant_type = "client_credentials"
    with warnings.catch_warnings():
        # httpx (python-keycloak's async client, unused here) deprecates verify=<path>.
        warnings.simplefilter("ignore", DeprecationWarning)
        connection = _new_connection(server_url, grant_type, username, password, realm,
                                     auth_realm, params, client_secret)
        connection.keycloak_openid  # pylint: disable=pointless-statement  # created here, warning-free
    if token:
        lifetime = _jwt_lifetime(token) or _STATIC_TOKEN_LIFETIME
        # The token setter also sets the Authorization header and the expiry python-keycloak
        # renews at (90 % of expires_in).
        connection.token = {"access_token": token, "expires_in": lifetime}
    else:
        _authenticate(connection, url, params)
    admin = KeycloakAdmin(connection=connection)
    _verify_realm(admin, url, realm, params)
    return admin


# --------------------------------------------------------------------------- shared helpers


def get_client_by_client_id(admin, client_id, realm=None):
    """Return the client representation whose ``clientId`` is exactly ``client_id``, or None.

    ``GET admin/realms/{realm}/clients?clientId=X`` (an exact match on the server);
    ``realm`` defaults to the realm the admin manages.
    """
    realm = realm or admin.connection.realm_name
    path = "admin/realms/%s/clients" % realm
    with keycloak_errors("reading client '%s' in realm '%s'" % (client_id, realm), realm=realm):
        response = admin.connection.raw_get(path, clientId=client_id)
        found = _json_or_raise(response)
    for client in found or []:
        if client.get("clientId") == client_id:
            return client
    return None


def get_server_info(admin):
    """Return ``GET admin/serverinfo`` (version, protocol mapper types, themes...)."""
    with keycloak_errors("reading the server info"):
        return _json_or_raise(admin.connection.raw_get("admin/serverinfo"))


def _json_or_raise(response):
    """Return the JSON of a 2xx ``requests`` response; raise KeycloakError otherwise."""
    if 200 <= response.status_code < 300:
        if response.status_code == 204 or not response.content:
            return None
        return response.json()
    raise KeycloakError(
        error_message=response.content,
        response_code=response.status_code,
        response_body=response.content,
    )


def check_password(admin_or_url, realm, username, password, client_id, client_secret=None,
                   verify=True, timeout=10):
    """Say whether Keycloak accepts ``username``/``password`` in ``realm`` (password grant).

    ``admin_or_url`` is a ``KeycloakAdmin`` from :func:`connect` (its URL, TLS and timeout
    settings are reused) or a base URL. Runs ``grant_type=password`` at
    ``{base}/realms/{realm}/protocol/openid-connect/token`` with ``client_id`` (and
    ``client_secret`` for a confidential client; it needs "Direct access grants").

    Returns True when a token was issued, False when Keycloak rejected the credentials
    (401 / ``invalid_grant`` "Invalid user credentials"). Anything else (account disabled
    or not fully set up, client not allowed, unknown realm, network) raises
    KeycloakModuleError with Keycloak's own text. The password and the client secret are
    registered as secrets and are never part of a message.
    """
    register_secret(password)
    register_secret(client_secret)
    if hasattr(admin_or_url, "connection"):
        connection = admin_or_url.connection
        base = normalize_url(connection.base_url)
        verify = connection.verify
        timeout = connection.timeout
    else:
        base = normalize_url(admin_or_url)
    url = display_url(base)
    what = "checking the password of user '%s' in realm '%s' at %s" % (username, realm, url)
    data = {
        "grant_type": "password",
        "client_id": client_id,
        "username": username,
        "password": password,
        "scope": "openid",
    }
    if client_secret:
        data["client_secret"] = client_secret
    try:
        response = requests.post(token_endpoint(base, realm), data=data, verify=verify,
                                 timeout=timeout)
    except Exception as exc:  # pylint: disable=broad-except
        problem = transport_problem(exc, base)
        raise KeycloakModuleError("%s failed: %s" % (what, problem or _decode(exc)))
    if response.status_code == 200:
        return True
    text = keycloak_error_text(response.content)
    if response.status_code == 401 or (
        response.status_code == 400 and "invalid user credentials" in text.lower()
    ):
        if "invalid_client" in text or "unauthorized_client" in text:
            raise KeycloakModuleError(
                "%s failed: client '%s' was rejected (%s: %s)"
                % (what, client_id, response.status_code, text),
                http_code=response.status_code,
                detail=text,
            )
        return False
    raise KeycloakModuleError(
        "%s failed (%s: %s)" % (what, response.status_code, text),
        http_code=response.status_code,
        detail=text,
    )

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One wording for what goes wrong on the way to a server (private to the collection).

Used for Keycloak (the modules through python-keycloak, the lookup and ``apisix_oidc_check`` through
``_keycloak/openid.py``) and for the APISIX Admin API (``_apisix/admin_api/client.py``):

* :func:`display_url`: a URL as messages show it (no ``user:password@``, no trailing slash).
* :func:`error_text`: a server's error body (JSON, HTML, text) as one short line.
* :func:`transport_problem` / :func:`transport_message`: what kept a request from getting an HTTP answer
  (TLS, connection refused, timeout, unknown host), naming the server, the URL and the options to change.
* :func:`sent_without_answer`: whether such a request may have reached the server all the same.

``requests`` is never imported here: an exception can only be one of its classes once it is loaded.
"""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# The options a message names, by what they do; a plugin whose options are named otherwise passes its own.
KEYCLOAK_OPTIONS = {"ca_path": "ca_path", "validate_certs": "validate_certs", "timeout": "connection_timeout"}


def decode(value: object) -> str:
    """``value`` (bytes, str, anything) as text; ``""`` for None."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def display_url(url: object) -> str:
    """``url`` without trailing slash and without a ``user:password@`` part."""
    url = str(url or "").strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if sep:
        host, slash, path = rest.partition("/")
        url = scheme + sep + host.rsplit("@", 1)[-1] + slash + path
    return url


def error_text(value: object, limit: int = 300) -> str:
    """A server's error body (bytes, str, JSON or HTML) as one short readable line.

    ``{"error":"invalid_grant","error_description":"Invalid user credentials"}`` gives
    ``invalid_grant: Invalid user credentials``, ``{"errorMessage":"..."}`` its message, an HTML
    page ``(HTML page)``; anything else is returned trimmed to one line of at most ``limit`` characters.
    """
    text = decode(value).strip()
    parsed: Any = None
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error") or parsed.get("error_message")
        description = parsed.get("error_description") or parsed.get("errorMessage") or parsed.get("message")
        if error and description and error != description:
            text = "%s: %s" % (error, description)
        else:
            text = decode(description or error or text)
    elif text.startswith("<"):
        text = "(HTML page)"
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and every exception it was caused by, raised while handling, or wraps."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend((current.__cause__, current.__context__))
        todo.extend(arg for arg in getattr(current, "args", ()) or () if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)


def _instance_of(causes: Sequence[BaseException], *names: str) -> bool:
    """Whether a cause is an instance of one of the ``requests.exceptions`` classes ``names``.

    Only once requests is loaded (python-keycloak loads it): before, no exception can be one of them.
    """
    module = sys.modules.get("requests.exceptions")
    if module is None:
        return False
    classes = tuple(getattr(module, name) for name in names)
    return any(isinstance(cause, classes) for cause in causes)


def _tls_reason(causes: Sequence[BaseException], lowered: str) -> str:
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "certificate verify failed: %s" % (decode(cause.verify_message) or "unknown reason")
        if isinstance(cause, ssl.SSLError):
            reason = decode(getattr(cause, "reason", None) or cause) or "TLS handshake failed"
            if reason == "WRONG_VERSION_NUMBER":
                return "the server did not answer with TLS (WRONG_VERSION_NUMBER; plain HTTP?)"
            return reason
    return "certificate verify failed" if "certificate verify failed" in lowered else "TLS handshake failed"


def transport_problem(
    exc: BaseException, url: str | None, server: str = "Keycloak", options: Mapping[str, str] | None = None
) -> str | None:
    """What kept ``exc`` from reaching ``server`` at ``url`` (no HTTP answer), or ``None``.

    Recognises TLS failures, connection refused, timeouts and unknown hosts, raised by the standard
    library or requests, directly or wrapped (python-keycloak's ``KeycloakConnectionError``, ``URLError``).
    ``options`` names the options a message points at (:data:`KEYCLOAK_OPTIONS` by default); ``url`` None:
    a message without it, for a caller that names it already.
    """
    options = dict(KEYCLOAK_OPTIONS, **(options or {}))
    where = server if url is None else "%s at %s" % (server, url)
    causes = list(_causes(exc))
    lowered = " | ".join(decode(cause) for cause in causes).lower()
    if (
        any(isinstance(c, (ssl.SSLError, ssl.CertificateError)) for c in causes)
        or _instance_of(causes, "SSLError")
        or "certificate verify failed" in lowered
    ):
        return "TLS verification failed%s: %s; set %s to the CA that signed the server's certificate, or %s: false" % (
            "" if url is None else " for %s" % url,
            _tls_reason(causes, lowered),
            options["ca_path"],
            options["validate_certs"],
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "connection refused" in lowered:
        return "Cannot connect to %s: connection refused" % where
    if any(isinstance(c, TimeoutError) for c in causes) or _instance_of(causes, "Timeout") or "timed out" in lowered:
        return "Cannot connect to %s: timed out (%s)" % (where, options["timeout"])
    if any(
        hint in lowered
        for hint in (
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "failed to resolve",
        )
    ):
        return "Cannot connect to %s: unknown host" % where
    if any(isinstance(c, OSError) for c in causes) or _instance_of(causes, "RequestException"):
        detail = next((c.strerror for c in reversed(causes) if isinstance(c, OSError) and c.strerror), None)
        return "Cannot connect to %s: %s" % (where, detail or "connection failed")
    return None


def transport_message(
    exc: BaseException, url: str | None, server: str = "Keycloak", options: Mapping[str, str] | None = None
) -> str:
    """:func:`transport_problem`, or for anything else that ended the exchange without an answer (a broken
    HTTP answer, a bad URL) the same sentence with the exception's class (its text may hold the request)."""
    problem = transport_problem(exc, url, server, options)
    if problem is None:
        where = server if url is None else "%s at %s" % (server, url)
        problem = "Cannot connect to %s: no usable answer (%s)" % (where, type(exc).__name__)
    return problem


def sent_without_answer(exc: BaseException) -> bool:
    """Whether the request of ``exc`` may have reached the server although no answer came.

    A read timeout or a connection dropped after the request was sent: the server may have done what
    was asked (a write that timed out must be read back before it is called "not applied"). False
    for a request that never left (connection refused or timed out while connecting, unknown host,
    TLS) and for any HTTP answer.
    """
    causes = list(_causes(exc))
    lowered = " | ".join(decode(cause) for cause in causes).lower()
    if _instance_of(causes, "ConnectTimeout", "SSLError") or any(
        isinstance(c, (ConnectionRefusedError, ssl.SSLError)) for c in causes
    ):
        return False
    if any(word in lowered for word in ("connecttimeout", "connection refused", "failed to resolve", "newconnection")):
        return False
    if _instance_of(causes, "ReadTimeout", "ChunkedEncodingError") or any(isinstance(c, TimeoutError) for c in causes):
        return True
    return any(
        word in lowered
        for word in ("read timed out", "timed out", "remotedisconnected", "connection aborted", "connection reset")
    )

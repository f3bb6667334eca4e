# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a failure to talk to Keycloak becomes one message (private to the collection).

* :class:`KeycloakModuleError`: the :class:`ModuleError` of the Keycloak modules, with the
  HTTP status and Keycloak's own error text when there was an answer.
* :data:`ANSWERS`: the one table from an HTTP status to what it says, worded by
  :func:`answer_message` for every call (admin API, login, password check).
* :func:`transport_problem`: what went wrong when there was no HTTP answer at all.
* :class:`Secrets`: the values that are masked in every message.
"""

from __future__ import annotations

import json
import ssl

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

try:
    from requests import exceptions as requests_exceptions
except ImportError:  # python-keycloak needs requests; without it nothing is sent anyway
    requests_exceptions = None

MASK = "********"

# What an HTTP answer of Keycloak means, by status; any other status is OTHER_ANSWER.
# {url}: the server; {credentials}: what was used to log in ("the credentials of user 'admin'
# in realm 'master'", "the given token"); {who}: the admin ("user 'admin' (realm 'master')");
# {realm}: the realm the module manages; {answer}: the status and Keycloak's own text.
ANSWERS = {
    401: "Keycloak at {url} rejected {credentials} ({answer})",
    403: "Keycloak at {url} says {who} has no permission for it in realm '{realm}' ({answer})",
}
OTHER_ANSWER = "Keycloak at {url} answered {answer}"


class KeycloakModuleError(ModuleError):
    """A failure talking to Keycloak, with a message fit for ``fail_json(msg=...)``.

    ``http_code`` is the HTTP status when Keycloak answered (else ``None``); ``detail`` is
    Keycloak's own error text, decoded (see :func:`keycloak_error_text`).
    """

    def __init__(self, msg, http_code=None, detail=None, unanswered=False, **result):
        super().__init__(msg, **result)
        self.http_code = http_code
        self.detail = detail
        # the request may have reached Keycloak, but no answer came (see sent_without_answer)
        self.unanswered = unanswered


class Secrets:
    """Values that never appear in a message: :meth:`scrub` replaces them by ``********``."""

    def __init__(self, values=()):
        self._values = set()
        for value in values:
            self.add(value)

    def add(self, value):
        """Mask ``value`` (any non-empty value but a boolean) from now on."""
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        if text:
            self._values.add(text)

    def scrub(self, text):
        """``text`` (str or bytes) with every secret replaced by ``********``."""
        if text is None:
            return text
        text = _decode(text)
        for secret in sorted(self._values, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def _decode(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def keycloak_error_text(value):
    """Keycloak's error body (bytes, str, JSON or HTML) as one short readable line.

    ``{"error":"invalid_grant","error_description":"Invalid user credentials"}`` gives
    ``invalid_grant: Invalid user credentials``, ``{"errorMessage":"..."}`` its message, an HTML
    page ``(HTML page)``; anything else is returned trimmed to one line of at most 300 characters.
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
        description = parsed.get("error_description") or parsed.get("errorMessage") or parsed.get("message")
        if error and description and error != description:
            text = "%s: %s" % (error, description)
        else:
            text = _decode(description or error or text)
    elif text.startswith("<"):
        text = "(HTML page)"
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:297] + "..."
    return text


def keycloak_answer(exc):
    """``(HTTP status or None, Keycloak's error text)`` of a python-keycloak ``KeycloakError``."""
    body = getattr(exc, "response_body", None)
    message = getattr(exc, "error_message", None)
    text = keycloak_error_text(body) or keycloak_error_text(message)
    return getattr(exc, "response_code", None), text


def answer_message(code, text, as_status=None, **context):
    """What Keycloak's answer ``code``/``text`` says, worded from :data:`ANSWERS`.

    ``as_status`` words it as that status instead (a login refused with 400 reads as a 401);
    ``context`` fills the table's fields (``url``, ``credentials``, ``who``, ``realm``).
    """
    if code is None:
        answer = "with an error%s" % (" (%s)" % text if text else "")
    else:
        answer = "%s: %s" % (code, text) if text else str(code)
    return ANSWERS.get(code if as_status is None else as_status, OTHER_ANSWER).format(answer=answer, **context)


def _causes(exc):
    """``exc`` and every exception it was caused by, raised while handling, or wraps."""
    seen = set()
    todo = [exc]
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


def _instance_of(causes, *names):
    """Whether a cause is an instance of one of the ``requests.exceptions`` classes ``names``."""
    if requests_exceptions is None:
        return False
    classes = tuple(getattr(requests_exceptions, name) for name in names)
    return any(isinstance(cause, classes) for cause in causes)


def _tls_reason(causes, lowered):
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "certificate verify failed: %s" % (_decode(cause.verify_message) or "unknown reason")
        if isinstance(cause, ssl.SSLError):
            reason = _decode(getattr(cause, "reason", None) or cause) or "TLS handshake failed"
            if reason == "WRONG_VERSION_NUMBER":
                return "the server did not answer with TLS (WRONG_VERSION_NUMBER; plain HTTP?)"
            return reason
    return "certificate verify failed" if "certificate verify failed" in lowered else "TLS handshake failed"


def transport_problem(exc, url):
    """What kept ``exc`` from reaching Keycloak at ``url`` (no HTTP answer), or ``None``.

    Recognises TLS failures, connection refused, timeouts and unknown hosts, raised by requests
    directly or wrapped in python-keycloak's ``KeycloakConnectionError``.
    """
    causes = list(_causes(exc))
    lowered = " | ".join(_decode(cause) for cause in causes).lower()
    if (
        any(isinstance(c, ssl.SSLError) for c in causes)
        or _instance_of(causes, "SSLError")
        or "certificate verify failed" in lowered
    ):
        return (
            "TLS verification failed for %s: %s; set ca_path to the CA that signed the server's certificate, "
            "or validate_certs: false" % (url, _tls_reason(causes, lowered))
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "connection refused" in lowered:
        return "Cannot connect to Keycloak at %s: connection refused" % url
    if any(isinstance(c, TimeoutError) for c in causes) or _instance_of(causes, "Timeout") or "timed out" in lowered:
        return "Cannot connect to Keycloak at %s: timed out (connection_timeout)" % url
    if any(
        hint in lowered
        for hint in (
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "failed to resolve",
        )
    ):
        return "Cannot connect to Keycloak at %s: unknown host" % url
    if any(isinstance(c, OSError) for c in causes) or _instance_of(causes, "RequestException"):
        detail = next((c.strerror for c in reversed(causes) if isinstance(c, OSError) and c.strerror), None)
        return "Cannot connect to Keycloak at %s: %s" % (url, detail or "connection failed")
    return None


def sent_without_answer(exc):
    """Whether the request of ``exc`` may have reached Keycloak although no answer came.

    A read timeout or a connection dropped after the request was sent: Keycloak may have done what
    was asked (a write that timed out must be read back before it is called "not applied"). False
    for a request that never left (connection refused or timed out while connecting, unknown host,
    TLS) and for any HTTP answer.
    """
    causes = list(_causes(exc))
    lowered = " | ".join(_decode(cause) for cause in causes).lower()
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

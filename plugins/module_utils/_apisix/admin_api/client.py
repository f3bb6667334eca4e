# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP to the APISIX Admin API through Ansible's ``open_url`` (no other dependency), and its errors.

The key travels in the ``X-API-KEY`` header only, never in a URL. Every message names the
URL and what went wrong; text that came from the server is cut short and masked with the
secrets the caller knows (the admin key, client secrets), so no secret reaches a message.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit

from ansible.module_utils.urls import open_url

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import envelope
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._http_errors import transport_message

ADMIN_PREFIX = "/apisix/admin"
# PATCH writes with compare-and-swap; a concurrent change gives 503 "value changed before overwritten".
CAS_ATTEMPTS = 3
CAS_PAUSE = 0.2
_CAS_TEXT = "value changed before overwritten"
ADMIN_API_OPTIONS = {"ca_path": "ca_path", "validate_certs": "validate_certs", "timeout": "timeout"}

T = TypeVar("T")


class AdminApiError(ModuleError):
    """A failed Admin API request; the message names the URL, never a secret."""


class AdminApiTimeout(AdminApiError):
    """No answer within ``timeout``: the server may have acted on the request all the same."""


class Response:
    """``status``, ``body`` (decoded JSON or None) and ``url`` of one answer."""

    def __init__(self, status: int, body: Any, url: str) -> None:
        self.status = status
        self.body = body
        self.url = url

    @property
    def said(self) -> str:
        return envelope.error_text(self.body)


def _timed_out(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason).lower()


def base_url(admin_url: str) -> str:
    """``admin_url`` with ``/apisix/admin`` (added when not given), no trailing slash."""
    text = (admin_url or "").strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AdminApiError(
            "admin_url must be an http:// or https:// URL such as http://127.0.0.1:9180, got %r"
            % (masking.mask_urls(admin_url),)
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise AdminApiError("admin_url must be a plain URL (no user, query or fragment), such as http://127.0.0.1:9180")
    return text if text.endswith(ADMIN_PREFIX) else text + ADMIN_PREFIX


def route_path(route_id: str, sub_path: str = "") -> str:
    return "/routes/%s%s" % (quote(route_id, safe=""), sub_path)


class AdminClient:
    """Requests to one Admin API. ``secrets``: texts to mask in anything the server says."""

    def __init__(
        self,
        admin_url: str,
        admin_key: str | None = None,
        validate_certs: bool = True,
        ca_path: str | None = None,
        timeout: float = 10,
        secrets: Iterable[object] = (),
        agent: str = "cx.api_auth.apisix_route_oidc",
    ) -> None:
        self.base = base_url(admin_url)
        self.agent = agent
        self._key = admin_key
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.secrets = [value for value in (admin_key, *secrets) if isinstance(value, str) and value]
        self.sent: list[tuple[str, str]] = []  # (method, path) of every request, in order

    def url(self, path: str) -> str:
        return self.base + path

    def scrub(self, text: object, limit: int = 300) -> str:
        text = masking.mask_text(str(text), self.secrets)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def request(self, method: str, path: str, data: object = None) -> Response:
        """One request; a :class:`Response` for any HTTP status, :class:`AdminApiError` when there is none."""
        url = self.url(path)
        headers = {"Accept": "application/json"}
        if self._key:
            headers["X-API-KEY"] = self._key
        payload: str | None = None
        if data is not None:
            payload = json.dumps(data)
            headers["Content-Type"] = "application/json"
        self.sent.append((method, path))
        try:
            handle = open_url(
                url,
                data=payload,
                headers=headers,
                method=method,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                timeout=self.timeout,
                http_agent=self.agent,
                follow_redirects="none",
            )
            status, raw = handle.getcode(), handle.read()
        except HTTPError as exc:
            status = exc.code
            try:
                raw = exc.read()
            except Exception:  # pylint: disable=broad-except  # the status alone is reported then
                raw = b""
        except (URLError, OSError, ValueError) as exc:
            if _timed_out(exc):
                raise AdminApiTimeout(
                    "%s %s: no answer within %s seconds (timeout)" % (method, url, self.timeout)
                ) from None
            raise AdminApiError(self._transport_message(method, url, exc)) from None
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            body = None
        return Response(status, body, url)

    def read(self, path: str, what: str, parse: Callable[[Any, str], T]) -> T:
        """GET ``path`` and its answer through ``parse`` (``envelope.parse_item``/``parse_list``): ``(value, 2.x?)``.

        Any status but 200 is :meth:`failure`; a body that is no Admin API answer names the URL.
        """
        response = self.request("GET", path)
        if response.status != 200:
            raise self.failure(response, what)
        try:
            return parse(response.body, what)
        except envelope.EnvelopeError as exc:
            raise AdminApiError(
                "%s at %s: unexpected answer (%s): is admin_url the APISIX Admin API?" % (what, response.url, exc)
            ) from None

    def _transport_message(self, method: str, url: str, exc: BaseException) -> str:
        problem = transport_message(exc, None, "the APISIX Admin API (admin_url)", ADMIN_API_OPTIONS)
        return "%s %s: %s" % (method, url, self.scrub(problem))

    def write(self, method: str, path: str, data: object, sleep: Callable[[float], object] = time.sleep) -> Response:
        """A write; a PATCH that meets a concurrent change (503) is retried up to ``CAS_ATTEMPTS`` times."""
        attempts = CAS_ATTEMPTS if method == "PATCH" else 1
        for attempt in range(1, attempts + 1):
            response = self.request(method, path, data)
            if not (response.status == 503 and _CAS_TEXT in response.said):
                return response
            if attempt < attempts:
                sleep(CAS_PAUSE * attempt)
        raise AdminApiError(
            "%s %s: the route changed under every one of %d attempts (503 %s): another client writes it; "
            "run again when it is quiet" % (method, response.url, attempts, _CAS_TEXT)
        )

    def failure(self, response: Response, what: str) -> AdminApiError:
        """The :class:`AdminApiError` for a failed answer to ``what`` (``"GET route 'x'"``)."""
        said = self.scrub(response.said) if response.said else ""
        shown = " (%d%s)" % (response.status, ": " + said if said else "")
        if response.status in (401, 403):
            if "viewer" in said:
                hint = "admin_key has the viewer role, which may only read: give a key with the admin role"
            else:
                hint = "admin_key is wrong or missing for this Admin API"
            return AdminApiError("%s at %s was refused%s: %s" % (what, response.url, shown, hint))
        if response.status == 404:
            return AdminApiError("%s: not found at %s%s" % (what, response.url, shown))
        if response.status == 400:
            return AdminApiError("%s at %s was rejected by APISIX%s" % (what, response.url, shown))
        return AdminApiError("%s at %s failed%s" % (what, response.url, shown))

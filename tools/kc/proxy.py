# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A counting reverse proxy in front of one Keycloak (standard library only).

The benchmark (``benchmarks/keycloak_converge.py``) and the integration test of the request
budget put it between the code they measure and the server, and read what went through::

    with CountingProxy(server.url) as proxy:      # listens on 127.0.0.1, a free port
        run_the_job(keycloak_url=proxy.url)       # same path as the server (/auth kept)
        proxy.requests                            # [Request(method, path, status, sent, received, grant)]
        proxy.tokens()                            # token grants only, by realm

Every request is forwarded as it came (method, path, query, headers but ``Host``, body) to the
upstream server on a new connection, and the answer goes back unchanged; one thread per client
connection, keep-alive supported. ``path`` is recorded relative to the server's base URL
(``/admin/realms/x/users?username=customer``), so 19 under ``/auth`` and 26 at ``/`` read alike.
A POST to a realm's ``protocol/openid-connect/token`` is a token request: its ``grant`` is the
form's ``grant_type`` and ``realm`` the realm (``master`` for an admin login, the tenant realm
for the customer's password check).
"""

import http.client
import re
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that belong to one hop, never forwarded.
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
_TOKEN_PATH = re.compile(r"^/realms/([^/?]+)/protocol/openid-connect/token(?:\?|$)")


@dataclass
class Request:
    """One request that went through the proxy."""

    method: str
    path: str  # relative to the server's base URL, query included
    status: int
    sent: int  # bytes of the request body
    received: int  # bytes of the answer's body
    grant: str | None = None  # grant_type of a token request, else None
    realm: str | None = None  # the realm of a token request
    username: str | None = None  # the username of a password grant (never the password)

    @property
    def line(self):
        """``"GET /admin/realms/x/clients?clientId=cim"``."""
        return "%s %s" % (self.method, self.path)


class CountingProxy:
    """A reverse proxy on 127.0.0.1 in front of the Keycloak at base URL ``upstream``.

    ``url`` is the proxy's base URL, with the upstream's path (``http://127.0.0.1:P/auth``).
    ``requests`` lists what went through, in the order the answers were sent; :meth:`reset`
    empties it. Use it as a context manager or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, upstream, timeout=120):
        parts = urllib.parse.urlsplit(upstream.rstrip("/"))
        if parts.scheme != "http":
            raise ValueError("CountingProxy forwards plain http only, got %r" % upstream)
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self.requests = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # ---- what went through

    def reset(self):
        with self._lock:
            self.requests = []

    def snapshot(self):
        """A copy of :attr:`requests`."""
        with self._lock:
            return list(self.requests)

    def tokens(self, realm=None, username=None):
        """The token requests (any grant), of ``realm`` and ``username`` when given."""
        return [
            r
            for r in self.snapshot()
            if r.grant is not None and realm in (None, r.realm) and username in (None, r.username)
        ]

    def _record(self, request):
        with self._lock:
            self.requests.append(request)

    # ---- life cycle

    @property
    def url(self):
        return "http://127.0.0.1:%d%s" % (self._server.server_address[1], self.base_path)

    def start(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.timeout)
                try:
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    answer_headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP]
                    status, reason = answer.status, answer.reason
                finally:
                    upstream.close()
                self.send_response(status, reason)
                for key, value in answer_headers:
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                proxy._record(proxy._request(self.command, self.path, status, body, data))

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="kc-counting-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _request(self, method, raw_path, status, body, data):
        path = raw_path
        if self.base_path and (path == self.base_path or path.startswith(self.base_path + "/")):
            path = path[len(self.base_path) :] or "/"
        grant = realm = username = None
        match = _TOKEN_PATH.match(path)
        if method == "POST" and match:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            grant = (form.get("grant_type") or ["?"])[0]
            realm = urllib.parse.unquote(match.group(1))
            username = (form.get("username") or [None])[0]
        return Request(method, path, status, len(body), len(data), grant, realm, username)

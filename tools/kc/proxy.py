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

:meth:`CountingProxy.delay` makes it a slowing proxy: a matching request still reaches the server
at once, only its answer is held back (longer than the client's timeout, the client has given up
by then, while the server did what was asked)::

    proxy.delay("POST", r"^/admin/realms/[^/]+/users$", seconds=9)   # the next one such request
"""

import http.client
import re
import threading
import time
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
    delayed: bool = False  # its answer was held back (see CountingProxy.delay)

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
        self._delays = []  # [method, compiled path pattern, seconds, times left]
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

    def delay(self, method, path_pattern, seconds, times=1):
        """Hold back the answer to the next ``times`` requests ``method`` whose path (relative to the
        server's base URL, query included) matches ``path_pattern`` (``re.search``) by ``seconds``.

        The request itself is forwarded at once, so the server does what it asks; the client, whose
        timeout is shorter, sees no answer. An answer the client no longer waits for is dropped.
        """
        with self._lock:
            self._delays.append([method.upper(), re.compile(path_pattern), seconds, times])

    def _delay_for(self, method, raw_path):
        path = self._relative(raw_path)
        with self._lock:
            for rule in self._delays:
                if rule[3] > 0 and rule[0] == method and rule[1].search(path):
                    rule[3] -= 1
                    return rule[2]
        return 0

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
                request = proxy._request(self.command, self.path, status, body, data)
                seconds = proxy._delay_for(self.command, self.path)
                if seconds:
                    request.delayed = True
                    proxy._record(request)  # the server has done it: recorded now, not when answered
                    time.sleep(seconds)
                try:
                    self.send_response(status, reason)
                    for key, value in answer_headers:
                        if key.lower() != "content-length":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except OSError:  # the client gave up waiting (a held-back answer)
                    self.close_connection = True
                    if not seconds:
                        raise
                if not seconds:
                    proxy._record(request)

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

    def _relative(self, raw_path):
        if self.base_path and (raw_path == self.base_path or raw_path.startswith(self.base_path + "/")):
            return raw_path[len(self.base_path) :] or "/"
        return raw_path

    def _request(self, method, raw_path, status, body, data):
        path = self._relative(raw_path)
        grant = realm = username = None
        match = _TOKEN_PATH.match(path)
        if method == "POST" and match:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            grant = (form.get("grant_type") or ["?"])[0]
            realm = urllib.parse.unquote(match.group(1))
            username = (form.get("username") or [None])[0]
        return Request(method, path, status, len(body), len(data), grant, realm, username)

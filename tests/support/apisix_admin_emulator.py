# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TEST SUPPORT ONLY: an emulator of the APISIX Admin API (routes), for cx.api_auth's tests.

It is not a gateway and is never offered to users as one: it proxies nothing, keeps routes
in memory and serves one thread per request on 127.0.0.1. It behaves like the Admin API as
described in APISIX's source (apisix/admin/init.lua, resource.lua, routes.lua) and the
collection's facts, for what ``apisix_route_oidc`` touches:

* keys: ``X-API-KEY`` header (or ``api_key`` query arg); a wrong or missing key gives 401
  ``{"error_msg": "failed to check token", "description": "wrong apikey"}``; the viewer key
  may only GET (401, ``invalid method for role viewer``);
* 3.x answers ``{"key", "value", "createdIndex", "modifiedIndex"}``, lists
  ``{"list": [...], "total": N}``, writes ``{"key", "value"}``, a missing id 404
  ``{"message": "Key not found"}``; 2.x (``--version 2.x``) wraps all in ``{"action", "node"}``;
* ``PUT /routes/{id}`` creates (201) or replaces (200) the whole route; ``create_time`` or
  ``update_time`` in the body gives 400 ``the property is forbidden:  create_time``; a body id
  other than the URL's gives 400 ``wrong route id``;
* ``PATCH /routes/{id}`` merges (objects recurse, arrays replaced, JSON null deletes);
  ``PATCH /routes/{id}/<sub/path>`` replaces the value at that path (so
  ``.../plugins`` replaces every plugin); PATCH validates the result and writes with
  compare-and-swap: a conflict (injected with :meth:`Emulator.inject_conflicts` or
  ``POST /_emulator/conflicts``) gives 503 ``value changed before overwritten``;
* slow answers (a gateway or etcd under load): a write of a chosen route is applied, then
  answered only after some seconds, longer than a client's timeout (:meth:`Emulator.inject_slow`,
  ``POST /_emulator/slow`` ``{"route", "seconds", "reads", "apply"}`` or ``--slow ROUTE=SECONDS`` at
  start); with ``reads``, every GET of that route after the slow write is slow too (the read-back fails);
  with ``apply: false`` the write is not applied (answered 504 after the seconds);
* plugin validation: ``openid-connect`` with ``jsonschema`` against APISIX's own schema of the release
  (``apisix_plugin_schema``: defaults filled first, then validated, then check_schema's rules in code;
  never the collection's validator), 400 ``failed to check the configuration of plugin
  openid-connect err: property "timeout" validation failed: ...``; unknown plugins 400 ``unknown plugin [x]``;
* per ``--version``: before 3.14 the ``openid-connect`` schema defaults are stored (a GET
  returns them); from 3.10 to 3.17 any PATCH of a route that carries ``openid-connect``
  re-encrypts ``client_secret`` (a GET then returns the ciphertext, as the real bug does).

Every request to ``/apisix/admin`` is recorded (method, path) for the tests
(``requests``, ``GET /_emulator/requests``). The ``/_emulator/`` control paths need no key.

CLI (for molecule or a shell)::

    python tests/support/apisix_admin_emulator.py start --port 0 --version 3.11 --state-file /tmp/emu.json
    python tests/support/apisix_admin_emulator.py stop --state-file /tmp/emu.json
    python tests/support/apisix_admin_emulator.py serve ...   # in the foreground

``start`` runs the server in the background (double fork), waits for it and prints one JSON
line ``{"url", "pid", "admin_key", "viewer_key", "version"}``, also written to the state file
(mode 0600); ``--routes FILE`` seeds routes from a JSON list of route objects; ``--slow ROUTE=SECONDS``
(repeatable, with ``--slow-reads``) as :meth:`Emulator.inject_slow`.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)  # run as a script too (CLI below)
import apisix_plugin_schema as plugin_schema  # noqa: E402  (jsonschema, APISIX's own schema: not the module's validator)

PREFIX = "/apisix/admin"
KNOWN_PLUGINS = (
    "openid-connect",
    "proxy-rewrite",
    "key-auth",
    "basic-auth",
    "hmac-auth",
    "jwt-auth",
    "limit-count",
    "limit-req",
    "cors",
    "ip-restriction",
    "response-rewrite",
    "request-id",
    "prometheus",
)
_FORBIDDEN = ("create_time", "update_time")


class _Reply(Exception):
    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


def _version(text):
    parts = [int(part) for part in text.replace("x", "0").split(".")[:3]]
    return tuple((parts + [0, 0])[:3])


def _merge(base, patch):
    """APISIX's PATCH merge: objects recurse, anything else (arrays too) replaces, null deletes."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _encrypt(value):
    return base64.b64encode(("apisix-aes:" + value).encode("utf-8")).decode("ascii")


class Emulator:
    """The emulated Admin API. ``version``: ``"3.18"``, ``"3.11"``, ``"2.x"`` ..."""

    def __init__(self, version="3.18", admin_key=None, viewer_key=None, host="127.0.0.1", port=0, tls=None):
        self.version_text = version
        self.version = _version(version)
        self.apisix_version = "%d.%d" % self.version[:2]
        self.v2 = self.version < (3, 0, 0)
        self.stores_defaults = self.version < (3, 14, 0)
        self.reencrypts = (3, 10, 0) <= self.version < (3, 18, 0)
        self.admin_key = admin_key or "admin-" + secrets.token_hex(12)
        self.viewer_key = viewer_key or "viewer-" + secrets.token_hex(12)
        self.requests = []  # (method, path) of every Admin API request
        self._routes = {}  # id -> {"value", "createdIndex", "modifiedIndex"}
        self._index = 100
        self._conflicts = {}
        self._slow = {}  # route id -> {"seconds", "reads", "written"}: see inject_slow
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._tls = bool(tls)
        if tls:  # (certificate file, key file): serve HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = None

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return "%s://%s:%d" % ("https" if self._tls else "http", host, port)

    # --- running ------------------------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="apisix-admin-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    # --- test hooks -----------------------------------------------------------------------

    def seed(self, route):
        """Store ``route`` as a PUT would (validated, defaults stored), without recording a request."""
        with self._lock:
            self._put(str(route["id"]), copy.deepcopy(route))

    def stored(self, route_id):
        """What GET returns as the value of ``route_id`` (a copy), or None."""
        with self._lock:
            node = self._routes.get(route_id)
            return copy.deepcopy(node["value"]) if node else None

    def inject_conflicts(self, route_id, count):
        """The next ``count`` PATCHes of ``route_id`` meet a concurrent change (503)."""
        with self._lock:
            self._conflicts[route_id] = count

    def inject_slow(self, route_id, seconds, reads=False, apply=True):
        """Every write of ``route_id`` is applied, then answered after ``seconds``; with ``reads``, every GET
        of it after such a write is answered after ``seconds`` too; with ``apply=False``, the write is not
        applied (a server that hangs before it writes), answered 504 after ``seconds``."""
        with self._lock:
            self._slow[route_id] = {"seconds": float(seconds), "reads": bool(reads), "apply": apply, "written": False}

    def _delay(self, method, route_id, status):
        """Seconds to wait before answering this request (outside the lock: other requests go on)."""
        slow = self._slow.get(route_id)
        if not slow:
            return 0
        if method in ("PUT", "PATCH") and status in (200, 201):
            slow["written"] = True
            return slow["seconds"]
        if method == "GET" and slow["reads"] and slow["written"]:
            return slow["seconds"]
        return 0

    def writes(self):
        return [(method, path) for method, path in self.requests if method != "GET"]

    # --- the Admin API ----------------------------------------------------------------------

    def _check_plugins(self, plugins):
        if not isinstance(plugins, dict):
            raise _Reply(400, {"error_msg": 'invalid configuration: property "plugins" validation failed: wrong type'})
        for name, conf in plugins.items():
            if name not in KNOWN_PLUGINS:
                raise _Reply(400, {"error_msg": "unknown plugin [%s]" % name})
            if not isinstance(conf, dict):
                raise _Reply(
                    400, {"error_msg": "failed to check the configuration of plugin %s err: wrong type" % name}
                )
            if name == plugin_schema.PLUGIN:
                error, _filled = plugin_schema.check(conf, self.apisix_version)
                if error:
                    raise _Reply(
                        400, {"error_msg": "failed to check the configuration of plugin %s err: %s" % (name, error)}
                    )

    def _check_route(self, route_id, conf):
        if not isinstance(conf, dict):
            raise _Reply(400, {"error_msg": "invalid configuration"})
        if "id" in conf and str(conf["id"]) != route_id:
            raise _Reply(400, {"error_msg": "wrong route id"})
        if not (conf.get("uri") or conf.get("uris")):
            raise _Reply(
                400, {"error_msg": "invalid configuration: value should match only one schema, but matches none"}
            )
        self._check_plugins(conf.get("plugins", {}))

    def _store_defaults(self, conf):
        block = (conf.get("plugins") or {}).get(plugin_schema.PLUGIN)
        if self.stores_defaults and isinstance(block, dict):
            # the top-level defaults the release history records (the module compares those)
            for key, value in plugin_schema.stored_defaults(plugin_schema.release_tag(self.apisix_version)).items():
                block.setdefault(key, copy.deepcopy(value))

    def _commit(self, route_id, conf, created):
        now = int(time.time())
        previous = self._routes.get(route_id)
        conf["id"] = route_id
        conf["create_time"] = previous["value"].get("create_time", now) if previous else now
        conf["update_time"] = now
        self._store_defaults(conf)
        self._index += 1
        self._routes[route_id] = {
            "value": conf,
            "createdIndex": previous["createdIndex"] if previous else self._index,
            "modifiedIndex": self._index,
        }
        return self._node(route_id, with_index=False), (201 if created else 200)

    def _put(self, route_id, conf):
        self._check_route(route_id, conf)
        return self._commit(route_id, conf, route_id not in self._routes)

    def _node(self, route_id, with_index=True):
        node = self._routes[route_id]
        out = {"key": "/apisix/routes/%s" % route_id, "value": copy.deepcopy(node["value"])}
        if with_index:
            out.update(createdIndex=node["createdIndex"], modifiedIndex=node["modifiedIndex"])
        return out

    def _wrap(self, action, node):
        return {"action": action, "node": node} if self.v2 else node

    def _not_found(self):
        return _Reply(404, {"action": "get", "message": "Key not found"} if self.v2 else {"message": "Key not found"})

    def handle(self, method, path, query, headers, raw):
        """``(status, body)`` for one Admin API request."""
        self.requests.append((method, path))
        key = headers.get("X-API-KEY") or (query.get("api_key") or [None])[0]
        if not key:
            return 401, {"error_msg": "failed to check token", "description": "missing apikey"}
        if key not in (self.admin_key, self.viewer_key):
            return 401, {"error_msg": "failed to check token", "description": "wrong apikey"}
        if key == self.viewer_key and method != "GET":
            return 401, {"error_msg": "failed to check token", "description": "invalid method for role viewer"}
        segments = [unquote(part) for part in path[len(PREFIX) :].strip("/").split("/") if part]
        if not segments or segments[0] != "routes":
            return 404, {"error_msg": "404 Route Not Found"}
        body = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                return 400, {"error_msg": "invalid request body"}
        route_id = segments[1] if len(segments) > 1 else None
        sub_path = segments[2:]
        slow = self._slow.get(route_id)
        if slow and not slow["apply"] and method in ("PUT", "PATCH"):
            time.sleep(slow["seconds"])
            return 504, {"error_msg": "upstream timed out"}
        try:
            with self._lock:
                status, answer = self._dispatch(method, route_id, sub_path, body)
                delay = self._delay(method, route_id, status)
        except _Reply as reply:
            return reply.status, reply.body
        if delay:
            time.sleep(delay)
        return status, answer

    def _dispatch(self, method, route_id, sub_path, body):
        if method == "GET":
            if route_id is None:
                items = [self._node(rid) for rid in sorted(self._routes)]
                if self.v2:
                    return 200, {"action": "get", "node": {"dir": True, "key": "/apisix/routes", "nodes": items or {}}}
                return 200, {"list": items, "total": len(items)}
            if route_id not in self._routes:
                raise self._not_found()
            return 200, self._wrap("get", self._node(route_id))
        if method in ("PUT", "POST"):
            if not isinstance(body, dict):
                raise _Reply(400, {"error_msg": "invalid configuration"})
            for name in _FORBIDDEN:
                if name in body:
                    raise _Reply(400, {"error_msg": "the property is forbidden:  %s" % name})
            if method == "POST":
                route_id = str(self._index + 1)
            if route_id is None:
                raise _Reply(400, {"error_msg": "missing route id"})
            node, status = self._put(route_id, copy.deepcopy(body))
            return status, self._wrap("set" if method == "PUT" else "create", node)
        if method == "PATCH":
            return self._patch(route_id, sub_path, body)
        if method == "DELETE":
            if route_id not in self._routes:
                raise self._not_found()
            node = self._node(route_id, with_index=False)
            del self._routes[route_id]
            return 200, self._wrap("delete", {"key": node["key"], "value": None} if self.v2 else {"key": node["key"]})
        raise _Reply(404, {"error_msg": "404 Route Not Found"})

    def _patch(self, route_id, sub_path, body):
        if route_id is None:
            raise _Reply(400, {"error_msg": "missing route id"})
        if body is None:
            raise _Reply(400, {"error_msg": "missing new configuration"})
        if not sub_path and not isinstance(body, dict):
            raise _Reply(400, {"error_msg": "invalid configuration"})
        if route_id not in self._routes:
            raise self._not_found()
        value = copy.deepcopy(self._routes[route_id]["value"])
        if sub_path:
            node = value
            for part in sub_path[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise _Reply(400, {"error_msg": "invalid sub-path: /%s" % "/".join(sub_path)})
            node[sub_path[-1]] = copy.deepcopy(body)
        else:
            value = _merge(value, body)
        self._check_route(route_id, {k: v for k, v in value.items() if k not in _FORBIDDEN})
        if self._conflicts.get(route_id):
            self._conflicts[route_id] -= 1
            raise _Reply(503, {"error_msg": "value changed before overwritten"})
        block = (value.get("plugins") or {}).get(plugin_schema.PLUGIN)
        if self.reencrypts and isinstance(block, dict) and isinstance(block.get("client_secret"), str):
            block["client_secret"] = _encrypt(block["client_secret"])  # the 3.10-3.17 bug
        node, _status = self._commit(route_id, value, False)
        return 200, self._wrap("compareAndSwap", node)

    # --- control paths (tests) -------------------------------------------------------------

    def control(self, method, path, raw):
        if path == "/_emulator/requests" and method == "GET":
            return 200, {"requests": [list(item) for item in self.requests]}
        if path == "/_emulator/requests" and method == "DELETE":
            del self.requests[:]
            return 200, {}
        if path == "/_emulator/conflicts" and method == "POST":
            body = json.loads(raw.decode("utf-8"))
            self.inject_conflicts(str(body["route"]), int(body["count"]))
            return 200, {}
        if path == "/_emulator/slow" and method == "POST":
            body = json.loads(raw.decode("utf-8"))
            self.inject_slow(
                str(body["route"]), float(body["seconds"]), bool(body.get("reads")), bool(body.get("apply", True))
            )
            return 200, {}
        if path.startswith("/_emulator/routes/") and method == "GET":
            value = self.stored(unquote(path.rsplit("/", 1)[1]))
            return (200, value) if value is not None else (404, {})
        return 404, {"error_msg": "unknown control path"}


def _handler(emulator):
    class Handler(BaseHTTPRequestHandler):
        server_version = "APISIX"
        sys_version = ""

        def log_message(self, format, *args):  # quiet: the tests read requests, not logs
            pass

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if parts.path.startswith(PREFIX):
                status, body = emulator.handle(self.command, parts.path, parse_qs(parts.query), self.headers, raw)
            else:
                status, body = emulator.control(self.command, parts.path, raw)
            data = json.dumps(body).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # a client that gave up waiting (slow answers)
                pass

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

    return Handler


# --- CLI -------------------------------------------------------------------------------------


def _describe(emulator):
    return {
        "url": emulator.url,
        "pid": os.getpid(),
        "admin_key": emulator.admin_key,
        "viewer_key": emulator.viewer_key,
        "version": emulator.version_text,
    }


def _write_state(path, data):
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)


def _build(args):
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    emulator = Emulator(args.version, args.admin_key, args.viewer_key, args.host, args.port, tls)
    if args.routes:
        with open(args.routes, encoding="utf-8") as handle:
            for route in json.load(handle):
                emulator.seed(route)
    for item in args.slow or ():
        route_id, _sep, seconds = item.rpartition("=")
        emulator.inject_slow(route_id, float(seconds), reads=args.slow_reads)
    return emulator


def _serve(args):
    emulator = _build(args)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=emulator.stop, daemon=True).start())
    if args.state_file:
        _write_state(args.state_file, _describe(emulator))
    print(json.dumps(_describe(emulator)), flush=True)
    emulator.serve_forever()
    if args.state_file and os.path.exists(args.state_file):
        os.unlink(args.state_file)


def _start(args):
    if os.path.exists(args.state_file):
        os.unlink(args.state_file)
    pid = os.fork()
    if pid == 0:  # the first child: a new session, then the server in a grandchild
        os.setsid()
        if os.fork():
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            _serve(args)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(args.state_file):
            with open(args.state_file, encoding="utf-8") as handle:
                print(handle.read(), flush=True)
            return 0
        time.sleep(0.05)
    sys.stderr.write("the emulator did not write %s within 20 seconds\n" % args.state_file)
    return 1


def _stop(args):
    try:
        with open(args.state_file, encoding="utf-8") as handle:
            pid = json.load(handle)["pid"]
    except (OSError, ValueError, KeyError):
        sys.stderr.write("no running emulator recorded in %s\n" % args.state_file)
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    if os.path.exists(args.state_file):
        os.unlink(args.state_file)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="APISIX Admin API emulator (test support only, not a gateway)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve"):
        each = sub.add_parser(name)
        each.add_argument("--host", default="127.0.0.1")
        each.add_argument("--port", type=int, default=0)
        each.add_argument("--version", "--mode", dest="version", default="3.18", help="3.18, 3.11, 2.x ...")
        each.add_argument("--admin-key")
        each.add_argument("--viewer-key")
        each.add_argument("--routes", help="JSON list of route objects to seed")
        each.add_argument("--state-file", required=(name == "start"))
        each.add_argument("--tls-cert", help="PEM certificate: serve HTTPS (with --tls-key)")
        each.add_argument("--tls-key")
        each.add_argument(
            "--slow",
            action="append",
            metavar="ROUTE=SECONDS",
            help="apply every write of ROUTE, then answer after SECONDS (repeatable)",
        )
        each.add_argument("--slow-reads", action="store_true", help="with --slow: GETs after a slow write are slow too")
    stop = sub.add_parser("stop")
    stop.add_argument("--state-file", required=True)
    args = parser.parse_args(argv)
    if args.command == "start":
        return _start(args)
    if args.command == "stop":
        return _stop(args)
    _serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

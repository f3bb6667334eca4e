# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keycloak servers shared by a whole test session: one per version, a realm per test.

A Keycloak start costs a minute on a small machine, so ``make test`` starts one server per
pinned version once (``tools/with_keycloak.sh``), in the background while lint, sanity and
the unit tests run, and every consumer attaches to it: the integration tests' ``keycloak``
fixture and each molecule scenario's create step (``kc_server.py acquire``). They isolate
themselves with realms of their own and never stop a shared server; the session's owner
stops them at the end (also on failure or Ctrl-C, by its trap).

The session is a JSON file named by ``CX_KC_SESSION``::

    {"owner": PID, "ready": true, "error": null,
     "servers": {"26.7.3": "/tmp/.../26.7.3-41234/state.json", "19.0.1": ".../state.json"}}

``ready`` is false while the owner is still starting servers; consumers wait for it (up
to the start timeout) instead of starting a server of their own. Without ``CX_KC_SESSION``
nothing is shared: consumers start (and stop) their own server, as before.
"""

import json
import os
import time

from .errors import KeycloakServerError
from .log import log
from .server import START_TIMEOUT, KeycloakServer
from .versions import DEFAULT_RELATIVE_PATHS

ENV = "CX_KC_SESSION"


def session_file():
    """The session file named by ``CX_KC_SESSION``, or None."""
    return os.environ.get(ENV) or None


def _write(path, data):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise KeycloakServerError("session file %s is not JSON: %s" % (path, err)) from err


def start(versions, path):
    """Start one server per version (in order) and record them in the session file ``path``.

    The file says ``ready: false`` until every server answers; on a failure it records the
    error (consumers report it) and the servers started so far stay recorded for ``stop``.
    """
    data = {"owner": os.getpid(), "ready": False, "error": None, "servers": {}}
    _write(path, data)
    try:
        for version in versions:
            server = KeycloakServer(version, DEFAULT_RELATIVE_PATHS.get(version, "")).start()
            data["servers"][version] = os.path.join(server.dir, "state.json")
            _write(path, data)
    except KeycloakServerError as err:
        data["error"] = str(err)
        _write(path, data)
        raise
    data["ready"] = True
    _write(path, data)
    return data


def stop(path):
    """Stop every server recorded in the session file and remove the file; return how many."""
    data = _read(path) or {}
    count = 0
    for version, state in sorted((data.get("servers") or {}).items()):
        if os.path.exists(state):
            log("stopping the session's Keycloak %s" % version)
            KeycloakServer.from_state(state).stop()
            count += 1
    if os.path.exists(path):
        os.unlink(path)
    return count


def shared(version, relative_path=None, timeout=None):
    """The session's running server of ``version``, or None when no session is set.

    Waits while the session is starting. Raises when the session failed, does not hold
    the version, serves it under another path, or its server died.
    """
    path = session_file()
    if not path:
        return None
    deadline = time.time() + (START_TIMEOUT * 2 if timeout is None else timeout)
    while True:
        data = _read(path)
        if data is None:
            raise KeycloakServerError("%s=%s: no such session file" % (ENV, path))
        if data.get("error"):
            raise KeycloakServerError("the session's Keycloak did not start: %s" % data["error"])
        state = (data.get("servers") or {}).get(version)
        if state or data.get("ready"):
            break
        if time.time() > deadline:
            raise KeycloakServerError("the session's Keycloak %s was not ready in time (%s)" % (version, path))
        time.sleep(1)
    if not state:
        raise KeycloakServerError(
            "the session (%s) runs Keycloak %s, not %s" % (path, ", ".join(sorted(data["servers"])) or "-", version)
        )
    server = KeycloakServer.from_state(state)
    if relative_path is not None and server.relative_path != KeycloakServer(version, relative_path).relative_path:
        raise KeycloakServerError(
            "the session's Keycloak %s is served at %r, not %r" % (version, server.relative_path or "/", relative_path)
        )
    if not server.running():
        raise KeycloakServerError("the session's Keycloak %s (pid %s) is not running" % (version, server.pid))
    return server


def acquire(version, relative_path=None):
    """``(server, owned)``: the session's server of ``version``, else a new one (owned)."""
    server = shared(version, relative_path)
    if server is not None:
        return server, False
    if relative_path is None:
        relative_path = DEFAULT_RELATIVE_PATHS.get(version, "")
    return KeycloakServer(version, relative_path).start(), True

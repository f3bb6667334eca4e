# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The servers recorded under this checkout's state root: list, find by name, stop all."""

import os

from .errors import KeycloakServerError
from .log import log
from .server import KeycloakServer, state_root


def recorded_servers():
    """Every server with a ``state.json`` under this checkout's state root."""
    root = state_root()
    found = []
    if not os.path.isdir(root):
        return found
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name, "state.json")
        if os.path.isfile(path):
            try:
                found.append(KeycloakServer.from_state(path))
            except (OSError, ValueError, KeyError) as err:
                log("unreadable %s: %s" % (path, err))
    return found


def stop_all():
    """Stop every server recorded under the state root; return how many were recorded."""
    servers = recorded_servers()
    for server in servers:
        log("stopping %s (pid %s)" % (server.name, server.pid))
        server.stop()
    return len(servers)


def find(name=None):
    """The recorded server called ``name`` (``<version>-<port>``, version, URL or state file).

    Without a name, the only recorded server (an error when there are none or several).
    """
    servers = recorded_servers()
    if name:
        if os.path.exists(name):
            return KeycloakServer.from_state(name)
        for server in servers:
            if server.name == name or server.version == name or server.url == name:
                return server
        raise KeycloakServerError("no recorded server %r under %s" % (name, state_root()))
    if len(servers) != 1:
        raise KeycloakServerError(
            "%d servers recorded under %s; name one: %s"
            % (len(servers), state_root(), ", ".join(s.name for s in servers) or "-")
        )
    return servers[0]

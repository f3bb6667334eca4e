# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real Keycloak servers for the integration tests: download, start, seed, stop.

Standard library only, so it runs before the project's virtualenv exists. The work is done
by the package ``tools/kc/`` (one job per module, see its docstring); this file is the
command line, and keeps the names callers import from ``kc_server``.

CLI::

    python3 tools/kc_server.py download [VERSION ...]          # default: every pinned version
    python3 tools/kc_server.py start VERSION [--relative-path /auth]   # prints the state JSON
    python3 tools/kc_server.py seed [SERVER] [--realm expertflow]      # prints the tenant JSON
    python3 tools/kc_server.py status
    python3 tools/kc_server.py stop SERVER
    python3 tools/kc_server.py stop-all                               # the Makefile's trap

Library (what tests/integration/conftest.py uses)::

    server = KeycloakServer("19.0.1", relative_path="/auth").start()
    server.url            # http://127.0.0.1:PORT/auth (no trailing slash)
    server.seed_tenant("expertflow")   # {realm, client_id, client_secret, client_uuid}
    server.rest("GET", "realms/expertflow/clients", params={"clientId": "cim"})
    server.stop()

Downloads are cached in ``${CX_KC_CACHE:-~/.cache/cx-api-auth/keycloak}`` (``kc/download.py``);
started servers are recorded under a state root of this checkout (``kc/server.py``).
"""

import sys

from kc.admin import AdminClient, RestError, seed_tenant
from kc.cli import main
from kc.download import cache_root, download
from kc.errors import KeycloakServerError
from kc.process import free_port, kill_group
from kc.registry import find, recorded_servers, stop_all
from kc.server import KeycloakServer, state_root
from kc.tokens import claims, password_grant
from kc.transport import http
from kc.versions import DEFAULT_RELATIVE_PATHS, VERSIONS

__all__ = [
    "DEFAULT_RELATIVE_PATHS",
    "VERSIONS",
    "AdminClient",
    "KeycloakServer",
    "KeycloakServerError",
    "RestError",
    "cache_root",
    "claims",
    "download",
    "find",
    "free_port",
    "http",
    "kill_group",
    "main",
    "password_grant",
    "recorded_servers",
    "seed_tenant",
    "state_root",
    "stop_all",
]

if __name__ == "__main__":
    sys.exit(main())

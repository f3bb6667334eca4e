# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``tools/kc_server.py`` commands: download, start, seed, drop-realm, status, stop, stop-all,
and the shared-session ones (``session-start``, ``session-stop``, ``acquire``, see kc/session.py).

Machine-readable results (state and tenant JSON, paths) go to stdout, progress and errors
to stderr; the exit code is 1 on a :class:`~kc.errors.KeycloakServerError`.
"""

import argparse
import json
import os

from . import session
from .download import download
from .errors import KeycloakServerError
from .log import log
from .registry import find, recorded_servers, stop_all
from .server import KeycloakServer
from .versions import DEFAULT_RELATIVE_PATHS, VERSIONS

DESCRIPTION = "Real Keycloak servers for the integration tests: download, start, seed, stop."


def parser():
    result = argparse.ArgumentParser(description=DESCRIPTION)
    sub = result.add_subparsers(dest="command", required=True)
    p_download = sub.add_parser("download", help="fetch and extract Keycloak versions")
    p_download.add_argument("versions", nargs="*", default=list(VERSIONS))
    p_start = sub.add_parser("start", help="start a server, print its state JSON")
    p_start.add_argument("version", choices=VERSIONS)
    p_start.add_argument("--relative-path", default=None, help="e.g. /auth (default: /auth for 19.0.1, / for 26.7.3)")
    p_start.add_argument("--timeout", type=float, default=None)
    p_stop = sub.add_parser("stop", help="stop one recorded server")
    p_stop.add_argument("server", nargs="?", help="name (<version>-<port>), version or state file")
    sub.add_parser("stop-all", help="stop every server recorded under the state root")
    p_session = sub.add_parser("session-start", help="start one server per version for a test session")
    p_session.add_argument("versions", nargs="*", default=list(VERSIONS))
    p_session.add_argument("--file", required=True, help="the session file (what CX_KC_SESSION names)")
    p_session_stop = sub.add_parser("session-stop", help="stop the servers of a session file")
    p_session_stop.add_argument("--file", required=True)
    p_acquire = sub.add_parser(
        "acquire", help="print the state JSON of the session's server of VERSION, or start one (owned: true)"
    )
    p_acquire.add_argument("version", choices=VERSIONS)
    p_acquire.add_argument("--relative-path", default=None)
    p_drop = sub.add_parser("drop-realm", help="delete a realm (no error when it is gone)")
    p_drop.add_argument("server", nargs="?")
    p_drop.add_argument("--realm", required=True)
    sub.add_parser("status", help="list recorded servers")
    p_seed = sub.add_parser("seed", help="create a tenant realm with client cim; print JSON")
    p_seed.add_argument("server", nargs="?")
    p_seed.add_argument("--realm", default="expertflow")
    p_seed.add_argument("--client-id", default="cim")
    p_seed.add_argument("--client-secret", default=None)
    p_seed.add_argument("--keep", action="store_true", help="fail if the realm exists instead of recreating it")
    return result


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "download":
            for version in args.versions:
                print(download(version))
        elif args.command == "start":
            relative = args.relative_path
            if relative is None:
                relative = DEFAULT_RELATIVE_PATHS.get(args.version, "")
            server = KeycloakServer(args.version, relative).start(timeout=args.timeout)
            print(json.dumps(server.state(), indent=2))
        elif args.command == "stop":
            find(args.server).stop()
        elif args.command == "stop-all":
            count = stop_all()
            log("%d server(s) stopped" % count)
        elif args.command == "status":
            for server in recorded_servers():
                print(
                    "%-22s %-8s %s  pid=%s  %s"
                    % (server.name, "running" if server.running() else "dead", server.url, server.pid, server.log)
                )
        elif args.command == "session-start":
            session.start(args.versions, args.file)
            print(args.file)
        elif args.command == "session-stop":
            log("%d session server(s) stopped" % session.stop(args.file))
        elif args.command == "acquire":
            server, owned = session.acquire(args.version, args.relative_path)
            print(json.dumps(dict(server.state(), owned=owned, state=os.path.join(server.dir, "state.json")), indent=2))
        elif args.command == "drop-realm":
            if args.realm == "master":
                raise KeycloakServerError("drop-realm refuses to delete realm master")
            find(args.server).rest("DELETE", "realms/%s" % args.realm, expect=(404,))
        elif args.command == "seed":
            info = find(args.server).seed_tenant(args.realm, args.client_id, args.client_secret, recreate=not args.keep)
            print(json.dumps(info, indent=2))
    except KeycloakServerError as err:
        log("error: %s" % err)
        return 1
    return 0

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One Keycloak in dev mode on 127.0.0.1: its private home, start, state file and stop.

Each started server gets its own directory under the state root
(``${CX_KC_STATE:-<tmp>/cx-api-auth-kc-<hash of this checkout>}/<version>-<port>/``): a
private Keycloak home (a copy of the small parts of the install, ``lib/lib`` symlinked
to the cache, since ``start-dev`` rewrites ``lib/quarkus`` on every start), the log,
and ``state.json``. So servers of the same version in other checkouts do not clash, and
``stop-all`` stops only this checkout's servers.

Every listener is on 127.0.0.1: the HTTP port is a free port; the database is H2 in memory
(``--db=dev-mem``: no H2 TCP server, which ``dev-file`` opens on 0.0.0.0 in 19, and a fresh
master realm each start); 26's management interface is moved to another free port on
127.0.0.1 (it is off anyway unless health or metrics are enabled); the only other socket
is the transaction manager's status listener, on an ephemeral port of 127.0.0.1.
"""

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error

from .admin import AdminClient, seed_tenant
from .download import download
from .errors import KeycloakServerError
from .java import HEAP_26, JAVA_OPTS_19, java_home
from .log import log
from .process import free_port, group_alive, kill_group, tail
from .transport import http
from .versions import major

# The checkout this tooling belongs to (tools/kc/ -> the root).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

START_TIMEOUT = float(os.environ.get("CX_KC_START_TIMEOUT", "360"))
ADMIN_USER = "admin"


class PortTaken(KeycloakServerError):
    """Someone took the port between the probe and Keycloak's bind."""


def state_root():
    """Where this checkout's running servers are recorded."""
    if os.environ.get("CX_KC_STATE"):
        return os.environ["CX_KC_STATE"]
    digest = hashlib.sha1(ROOT.encode("utf-8")).hexdigest()[:10]
    return os.path.join(tempfile.gettempdir(), "cx-api-auth-kc-%s" % digest)


def private_home(install, target):
    """Lay out a private Keycloak home in ``target``: copies, with lib/lib symlinked."""
    os.makedirs(target)
    for name in os.listdir(install):
        if name in ("data", ".cx-extracted"):
            continue
        src = os.path.join(install, name)
        dst = os.path.join(target, name)
        if name == "lib":
            os.makedirs(dst)
            for sub in os.listdir(src):
                if sub == "lib":
                    os.symlink(os.path.join(src, sub), os.path.join(dst, sub))
                elif os.path.isdir(os.path.join(src, sub)):
                    shutil.copytree(os.path.join(src, sub), os.path.join(dst, sub), symlinks=True)
                else:
                    shutil.copy2(os.path.join(src, sub), os.path.join(dst, sub))
        elif os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst)


class KeycloakServer:  # pylint: disable=too-many-instance-attributes
    """One Keycloak in dev mode on 127.0.0.1, started from the cached install.

    ``url`` is the base URL without trailing slash (``http://127.0.0.1:PORT`` or
    ``http://127.0.0.1:PORT/auth``); the bootstrap admin is ``admin_user`` /
    ``admin_password`` (random per start) in realm master. ``rest``, ``status_of`` and
    ``seed_tenant`` go through an :class:`~kc.admin.AdminClient` for that admin.
    """

    def __init__(self, version, relative_path=""):
        self.version = version
        relative_path = (relative_path or "").strip()
        if relative_path in ("", "/"):
            relative_path = ""
        elif not relative_path.startswith("/"):
            relative_path = "/" + relative_path
        self.relative_path = relative_path.rstrip("/")
        self.port = None
        self.management_port = None
        self.admin_user = ADMIN_USER
        self.admin_password = None
        self.pid = None
        self.dir = None
        self.log = None
        self.startup_seconds = None
        self.java_home = None
        self._admin = None
        self._proc = None

    # ---- state

    @property
    def url(self):
        if self.port is None:
            return None
        return "http://127.0.0.1:%d%s" % (self.port, self.relative_path)

    @property
    def name(self):
        return os.path.basename(self.dir) if self.dir else None

    def state(self):
        return {
            "name": self.name,
            "version": self.version,
            "relative_path": self.relative_path,
            "url": self.url,
            "port": self.port,
            "management_port": self.management_port,
            "admin_user": self.admin_user,
            "admin_password": self.admin_password,
            "pid": self.pid,
            "dir": self.dir,
            "log": self.log,
            "java_home": self.java_home,
            "startup_seconds": self.startup_seconds,
        }

    def _write_state(self):
        path = os.path.join(self.dir, "state.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.state(), handle, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    @classmethod
    def from_state(cls, path):
        """Re-attach to a server recorded in ``state.json`` (``path`` = file or its directory)."""
        if os.path.isdir(path):
            path = os.path.join(path, "state.json")
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        server = cls(data["version"], data.get("relative_path", ""))
        server.port = data["port"]
        server.management_port = data.get("management_port")
        server.admin_user = data["admin_user"]
        server.admin_password = data["admin_password"]
        server.pid = data["pid"]
        server.dir = data["dir"]
        server.log = data["log"]
        server.java_home = data.get("java_home")
        server.startup_seconds = data.get("startup_seconds")
        return server

    def running(self):
        return bool(self.pid) and group_alive(self.pid)

    # ---- start / stop

    def _command(self):
        home = os.path.join(self.dir, "home")
        args = [
            os.path.join(home, "bin", "kc.sh"),
            "start-dev",
            "--db=dev-mem",
            "--http-host=127.0.0.1",
            "--http-port=%d" % self.port,
        ]
        if self.relative_path:
            args.append("--http-relative-path=%s" % self.relative_path)
        if major(self.version) >= 25:
            # hostname v2: issuer and every URL Keycloak makes use 127.0.0.1:PORT[/auth].
            args.append("--hostname=%s" % self.url)
            args.append("--http-management-host=127.0.0.1")
            args.append("--http-management-port=%d" % self.management_port)
        else:
            # hostname v1: start-dev takes host, port and path from each request (strict
            # off), and every client here talks to 127.0.0.1.
            args.append("--hostname-strict=false")

        return args

    def _environment(self):
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KC_", "KEYCLOAK_", "JAVA_OPTS", "QUARKUS_"))
            and key not in ("JAVA_HOME", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")
        }
        env["JAVA_HOME"] = self.java_home
        if major(self.version) >= 25:
            env["KC_BOOTSTRAP_ADMIN_USERNAME"] = self.admin_user
            env["KC_BOOTSTRAP_ADMIN_PASSWORD"] = self.admin_password
            env["JAVA_OPTS_KC_HEAP"] = HEAP_26
        else:
            env["KEYCLOAK_ADMIN"] = self.admin_user
            env["KEYCLOAK_ADMIN_PASSWORD"] = self.admin_password
            # 19's dev-mem H2 database (jdbc:h2:mem:keycloakdb${kc.db-url-properties:}) is
            # dropped when the pool closes its last idle connection: after ~12 idle minutes
            # every request failed with 'Table "USER_ENTITY" not found'. Keep it for the
            # JVM's life (26 does this itself). An environment variable, not an argument:
            # 19's kc.sh evals its arguments, and the ';' would end the command there.
            env["KC_DB_URL_PROPERTIES"] = ";DB_CLOSE_DELAY=-1"
            env["JAVA_OPTS"] = JAVA_OPTS_19
        return env

    def start(self, timeout=None):
        """Start the server and wait until ``{url}/realms/master`` answers 200."""
        if self.running():
            return self
        install = download(self.version)
        self.java_home = java_home(self.version)
        timeout = START_TIMEOUT if timeout is None else timeout
        last_error = None
        for attempt in range(3):
            try:
                self._start_once(install, timeout)
                return self
            except PortTaken as err:  # someone grabbed the port between probe and bind
                last_error = err
                log("port clash on attempt %d, retrying" % (attempt + 1))
        raise KeycloakServerError(str(last_error))

    def _start_once(self, install, timeout):
        self.port = free_port()
        self.management_port = free_port()
        while self.management_port == self.port:
            self.management_port = free_port()
        self.admin_password = "Kc-" + secrets.token_urlsafe(18)
        os.makedirs(state_root(), exist_ok=True)
        self.dir = os.path.join(state_root(), "%s-%d" % (self.version, self.port))
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        private_home(install, os.path.join(self.dir, "home"))
        self.log = os.path.join(self.dir, "keycloak.log")
        began = time.time()
        with open(self.log, "ab") as log_file:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                self._command(),
                cwd=self.dir,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = proc.pid
        self._proc = proc
        self._write_state()
        log(
            "started Keycloak %s (pid %d, %s, JDK %s); waiting for %s/realms/master"
            % (self.version, self.pid, self.log, os.path.basename(self.java_home), self.url)
        )
        deadline = began + timeout
        while True:
            if proc.poll() is not None:
                log_tail = tail(self.log)
                kill_group(self.pid)
                self._forget()
                if "Address already in use" in log_tail or "Port already bound" in log_tail:
                    raise PortTaken("port %d taken" % self.port)
                raise KeycloakServerError(
                    "Keycloak %s exited with %s before it was ready; log tail:\n%s"
                    % (self.version, proc.returncode, log_tail)
                )
            try:
                status = http("GET", self.url + "/realms/master", timeout=5)[0]
            except (OSError, urllib.error.URLError):
                status = None
            if status == 200 and self._admin_can_log_in():
                # 19 adds the bootstrap admin only after the HTTP port answers.
                break
            if time.time() > deadline:
                log_tail = tail(self.log)
                kill_group(self.pid)
                self._forget()
                raise KeycloakServerError(
                    "Keycloak %s not ready after %.0f s; log tail:\n%s" % (self.version, timeout, log_tail)
                )
            time.sleep(1)
        self.startup_seconds = round(time.time() - began, 1)
        self._write_state()
        log("Keycloak %s ready at %s after %.1f s" % (self.version, self.url, self.startup_seconds))
        return self

    def _admin_can_log_in(self):
        self._admin = None
        try:
            self.admin_token()
        except (KeycloakServerError, OSError, urllib.error.URLError, ValueError):
            return False
        return True

    def _forget(self):
        if self.dir and not os.environ.get("CX_KC_KEEP"):
            # keep the log of a failed start beside the state root for a post-mortem
            if self.log and os.path.exists(self.log):
                shutil.copy2(self.log, os.path.join(state_root(), "last-failed-%s.log" % self.version))
            shutil.rmtree(self.dir, ignore_errors=True)
        self.pid = None

    def stop(self):
        """SIGTERM the server's process group, then SIGKILL; remove its directory."""
        if self.pid:
            kill_group(self.pid, self.dir)
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.dir and os.path.isdir(self.dir):
            if os.environ.get("CX_KC_KEEP"):
                os.rename(os.path.join(self.dir, "state.json"), os.path.join(self.dir, "state.stopped.json"))
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
        self.pid = None
        self._admin = None
        return self

    # ---- admin REST, as the bootstrap admin (see kc.admin)

    @property
    def admin(self):
        """The :class:`~kc.admin.AdminClient` of the bootstrap admin (new after a restart)."""
        if self._admin is None or (self._admin.url, self._admin.password) != (self.url, self.admin_password):
            self._admin = AdminClient(self.url, self.admin_user, self.admin_password)
        return self._admin

    def admin_token(self):
        """A master-realm admin access token (renewed when less than 10 s are left)."""
        return self.admin.token()

    def rest(self, method, path, json=None, params=None, expect=None):  # pylint: disable=redefined-outer-name
        """Admin REST call as the bootstrap admin, independent of the code under test (see AdminClient.rest)."""
        return self.admin.rest(method, path, json=json, params=params, expect=expect)

    def status_of(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        """Return just the HTTP status of an admin REST call (no raise)."""
        return self.admin.status_of(method, path, json=json)

    def seed_tenant(self, realm="expertflow", client_id="cim", client_secret=None, redirect_uris=None, recreate=True):
        """Create the tenant realm a CX install has before the guide (see kc.admin.seed_tenant)."""
        return seed_tenant(self.admin, realm, client_id, client_secret, redirect_uris, recreate)

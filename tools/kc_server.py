"""Real Keycloak servers for the integration tests: download, start, seed, stop.

Standard library only, so it runs before the project's virtualenv exists.

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

Where things live:

* Downloads: ``mvn dependency:get`` puts ``org.keycloak:keycloak-quarkus-dist:<v>:tar.gz`` in
  ``~/.m2``; it is extracted once into ``${CX_KC_CACHE:-~/.cache/cx-api-auth/keycloak}/<v>/``
  (outside the checkout; extracted to a temporary directory and renamed, so a half-done
  earlier run never counts).
* Each started server gets its own directory under the state root
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

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Versions the tests run against. 26.7.3 is the newest 26.x Maven Central serves to this
# project's machines, 19.0.1 the only 19.0.x.
VERSIONS = ("26.7.3", "19.0.1")
DEFAULT_RELATIVE_PATHS = {"26.7.3": "", "19.0.1": "/auth"}

# JDKs per Keycloak major version, first one found wins; override with CX_KC_JAVA_HOME
# (all versions) or CX_KC_JAVA_HOME_<major> (e.g. CX_KC_JAVA_HOME_19).
# Verified on this machine (2 cores; start-dev = build + start, until admin login works):
#   Keycloak  JDK              result
#   26.7.3    Temurin 25       ok, 45-55 s (default: 26 supports 21 and 25; 17 is deprecated)
#   26.7.3    OpenJDK 17       ok, ~47 s
#   19.0.1    OpenJDK 17       ok, 35-40 s (default)
#   19.0.1    Temurin 25       fails in the build: Hibernate's Byte Buddy "Java 25 (69) is not
#                              supported ... officially supports Java 19 (63)"
JDK_CANDIDATES = {
    26: ("/usr/lib/jvm/temurin-25-jdk-amd64", "/usr/lib/jvm/temurin-21-jdk-amd64",
         "/usr/lib/jvm/java-21-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-amd64"),
    19: ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-17-jdk-amd64",
         "/usr/lib/jvm/java-11-openjdk-amd64"),
}

# Keycloak 19's own default JAVA_OPTS (heap capped at 512 MiB), set explicitly so that a
# JAVA_OPTS in the caller's environment cannot lift the cap.
JAVA_OPTS_19 = (
    "-Xms64m -Xmx512m -XX:MetaspaceSize=96M -XX:MaxMetaspaceSize=256m "
    "-Djava.net.preferIPv4Stack=true -Dfile.encoding=UTF-8"
)
HEAP_26 = "-Xms64m -Xmx512m"

START_TIMEOUT = float(os.environ.get("CX_KC_START_TIMEOUT", "360"))
ADMIN_USER = "admin"


class KeycloakServerError(Exception):
    """Downloading, starting, seeding or talking to a test server failed."""


class RestError(KeycloakServerError):
    """An admin REST call answered with an unexpected status."""

    def __init__(self, method, url, status, body):
        super().__init__("%s %s -> %s: %s" % (method, url, status, body[:500]))
        self.status = status
        self.body = body


# --------------------------------------------------------------------------- paths


def cache_root():
    """Where extracted Keycloak versions live (shared by every checkout)."""
    return os.environ.get("CX_KC_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "cx-api-auth", "keycloak"
    )


def state_root():
    """Where this checkout's running servers are recorded."""
    if os.environ.get("CX_KC_STATE"):
        return os.environ["CX_KC_STATE"]
    digest = hashlib.sha1(ROOT.encode("utf-8")).hexdigest()[:10]
    return os.path.join(tempfile.gettempdir(), "cx-api-auth-kc-%s" % digest)


def major(version):
    return int(str(version).split(".", maxsplit=1)[0])


def _m2_tarball(version):
    repo = os.environ.get("CX_M2_REPO") or os.path.join(os.path.expanduser("~"), ".m2", "repository")
    return os.path.join(
        repo, "org", "keycloak", "keycloak-quarkus-dist", version,
        "keycloak-quarkus-dist-%s.tar.gz" % version,
    )


def _log(message):
    sys.stderr.write("[kc_server] %s\n" % message)
    sys.stderr.flush()


# --------------------------------------------------------------------------- download


def download(version):
    """Make sure Keycloak ``version`` is extracted in the cache; return its home directory.

    Fetches the tarball with Maven when ``~/.m2`` lacks it. Idempotent; a half-extracted
    directory from an interrupted run is replaced.
    """
    home = os.path.join(cache_root(), version)
    marker = os.path.join(home, ".cx-extracted")
    if os.path.exists(marker):
        return home
    tarball = _m2_tarball(version)
    if not os.path.exists(tarball):
        _log("fetching org.keycloak:keycloak-quarkus-dist:%s:tar.gz with Maven" % version)
        cmd = [
            "mvn", "-q", "-B", "dependency:get",
            "-Dartifact=org.keycloak:keycloak-quarkus-dist:%s:tar.gz" % version,
            "-Dtransitive=false",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not os.path.exists(tarball):
            raise KeycloakServerError(
                "mvn could not fetch Keycloak %s (rc=%s):\n%s%s"
                % (version, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
            )
    os.makedirs(cache_root(), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".extract-%s-" % version, dir=cache_root())
    try:
        _log("extracting %s" % tarball)
        with tarfile.open(tarball, "r:gz") as archive:
            if sys.version_info >= (3, 12):
                archive.extractall(tmp, filter="tar")  # pylint: disable=unexpected-keyword-arg
            else:
                archive.extractall(tmp)  # noqa: S202 - Maven Central's signed-off artifact
        top = os.path.join(tmp, "keycloak-%s" % version)
        if not os.path.isfile(os.path.join(top, "bin", "kc.sh")):
            raise KeycloakServerError("%s has no keycloak-%s/bin/kc.sh" % (tarball, version))
        with open(os.path.join(top, ".cx-extracted"), "w", encoding="utf-8") as handle:
            handle.write(tarball + "\n")
        if os.path.lexists(home):
            # Left by an interrupted run (no marker): move aside, then delete.
            stale = home + ".stale-%d" % os.getpid()
            os.rename(home, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(top, home)
        except OSError:
            if not os.path.exists(marker):  # lost a race with another extractor? fine if done
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return home


# --------------------------------------------------------------------------- helpers


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def java_home(version):
    """The JDK to run ``version`` with (see JDK_CANDIDATES)."""
    override = os.environ.get("CX_KC_JAVA_HOME_%d" % major(version)) or os.environ.get("CX_KC_JAVA_HOME")
    if override:
        return override
    for candidate in JDK_CANDIDATES.get(major(version), JDK_CANDIDATES[26]):
        if os.path.exists(os.path.join(candidate, "bin", "java")):
            return candidate
    raise KeycloakServerError(
        "no JDK for Keycloak %s in %s; set CX_KC_JAVA_HOME"
        % (version, ", ".join(JDK_CANDIDATES.get(major(version), ())))
    )


def _tail(path, lines=60):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - 64 * 1024, 0))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies still count for killpg; look for a live member.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                fields = handle.read().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _is_ours(pid, server_dir):
    """Is ``pid`` (still) the Keycloak started in ``server_dir``? Guards against reused pids."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().decode("utf-8", "replace")
    except OSError:
        return False
    return server_dir in cmdline


def kill_group(pgid, server_dir=None, timeout=30.0):
    """SIGTERM the process group, wait up to ``timeout`` s, then SIGKILL it."""
    if server_dir and not _group_alive(pgid):
        return
    if server_dir and _alive(pgid) and not _is_ours(pgid, server_dir):
        _log("pid %d is no longer the Keycloak of %s; not killing it" % (pgid, server_dir))
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.time() + 10
    while time.time() < deadline and _group_alive(pgid):
        time.sleep(0.1)


def _private_home(install, target):
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


# --------------------------------------------------------------------------- HTTP


def http(method, url, data=None, json_body=None, headers=None, timeout=30):
    """Plain urllib request; returns ``(status, headers, body text)`` (no raise on 4xx/5xx)."""
    headers = dict(headers or {})
    payload = None
    if json_body is not None:
        payload = json.dumps(json_body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    elif data is not None:
        payload = urllib.parse.urlencode(data).encode("utf-8")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=payload, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode("utf-8", "replace")


# --------------------------------------------------------------------------- the server


class KeycloakServer:
    """One Keycloak in dev mode on 127.0.0.1, started from the cached install.

    ``url`` is the base URL without trailing slash (``http://127.0.0.1:PORT`` or
    ``http://127.0.0.1:PORT/auth``); the bootstrap admin is ``admin_user`` /
    ``admin_password`` (random per start) in realm master.
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
        self._token = None
        self._token_expiry = 0.0

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
        return bool(self.pid) and _group_alive(self.pid)

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
            except _PortTaken as err:  # someone grabbed the port between probe and bind
                last_error = err
                _log("port clash on attempt %d, retrying" % (attempt + 1))
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
        _private_home(install, os.path.join(self.dir, "home"))
        self.log = os.path.join(self.dir, "keycloak.log")
        began = time.time()
        with open(self.log, "ab") as log:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                self._command(),
                cwd=self.dir,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = proc.pid
        self._proc = proc
        self._write_state()
        _log("started Keycloak %s (pid %d, %s, JDK %s); waiting for %s/realms/master"
             % (self.version, self.pid, self.log, os.path.basename(self.java_home), self.url))
        deadline = began + timeout
        while True:
            if proc.poll() is not None:
                tail = _tail(self.log)
                kill_group(self.pid)
                self._forget()
                if "Address already in use" in tail or "Port already bound" in tail:
                    raise _PortTaken("port %d taken" % self.port)
                raise KeycloakServerError(
                    "Keycloak %s exited with %s before it was ready; log tail:\n%s"
                    % (self.version, proc.returncode, tail)
                )
            try:
                status = http("GET", self.url + "/realms/master", timeout=5)[0]
            except (OSError, urllib.error.URLError):
                status = None
            if status == 200 and self._admin_can_log_in():
                # 19 adds the bootstrap admin only after the HTTP port answers.
                break
            if time.time() > deadline:
                tail = _tail(self.log)
                kill_group(self.pid)
                self._forget()
                raise KeycloakServerError(
                    "Keycloak %s not ready after %.0f s; log tail:\n%s" % (self.version, timeout, tail)
                )
            time.sleep(1)
        self.startup_seconds = round(time.time() - began, 1)
        self._write_state()
        _log("Keycloak %s ready at %s after %.1f s" % (self.version, self.url, self.startup_seconds))
        return self

    def _admin_can_log_in(self):
        self._token = None
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
            proc = getattr(self, "_proc", None)
            if proc is not None:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.dir and os.path.isdir(self.dir):
            if os.environ.get("CX_KC_KEEP"):
                os.rename(os.path.join(self.dir, "state.json"), os.path.join(self.dir, "state.stopped.json"))
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
        self.pid = None
        self._token = None
        return self

    # ---- REST

    def admin_token(self):
        """A master-realm admin access token (renewed when less than 10 s are left)."""
        if self._token and time.time() < self._token_expiry - 10:
            return self._token
        status, _headers, body = http(
            "POST",
            self.url + "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.admin_user,
                "password": self.admin_password,
            },
        )
        if status != 200:
            raise KeycloakServerError("admin login to %s failed: %s %s" % (self.url, status, body[:300]))
        data = json.loads(body)
        self._token = data["access_token"]
        self._token_expiry = time.time() + int(data.get("expires_in", 60))
        return self._token

    def rest(self, method, path, json=None, params=None, expect=None):  # pylint: disable=redefined-outer-name
        """Admin REST call as the bootstrap admin, independent of the code under test.

        ``path`` is relative to ``{url}/admin/`` (``"realms/x/clients"``), or to ``{url}``
        when it starts with ``/`` (``"/realms/x/.well-known/openid-configuration"``).
        Returns the parsed JSON body; for an empty ``201 Created`` the id at the end of
        ``Location``; ``None`` for other empty bodies. Raises RestError unless the status
        is 2xx or in ``expect`` (then a 4xx body is returned as parsed JSON or text).
        """
        url = self.url + (path if path.startswith("/") else "/admin/" + path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, headers, body = http(
            method, url, json_body=json, headers={"Authorization": "Bearer " + self.admin_token()}
        )
        if status >= 300 and not (expect and status in expect):
            raise RestError(method, url, status, body)
        if not body:
            if status == 201 and headers.get("Location"):
                return headers["Location"].rstrip("/").rsplit("/", 1)[-1]
            return None
        try:
            return _json_loads(body)
        except ValueError:
            return body

    def status_of(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        """Return just the HTTP status of an admin REST call (no raise)."""
        url = self.url + (path if path.startswith("/") else "/admin/" + path)
        return http(method, url, json_body=json,
                    headers={"Authorization": "Bearer " + self.admin_token()})[0]

    # ---- seed

    def seed_tenant(self, realm="expertflow", client_id="cim", client_secret=None,
                    redirect_uris=None, recreate=True):
        """Create the tenant realm as a CX installation has it before the guide is applied.

        Realm ``realm`` (enabled) with the confidential client ``client_id`` (secret
        generated unless given; standard flow and direct access grants on; redirect URIs)
        whose default client scopes include ``email``, ``profile`` and ``roles``.
        An existing realm of that name is deleted first (``recreate``) or is an error.
        Returns ``{realm, client_id, client_secret, client_uuid}``.
        """
        if self.status_of("GET", "realms/%s" % realm) == 200:
            if not recreate:
                raise KeycloakServerError("realm %r already exists on %s" % (realm, self.url))
            self.rest("DELETE", "realms/%s" % realm)
        self.rest("POST", "realms", json={"realm": realm, "enabled": True})
        secret = client_secret or secrets.token_urlsafe(24)
        uuid = self.rest(
            "POST",
            "realms/%s/clients" % realm,
            json={
                "clientId": client_id,
                "name": client_id,
                "enabled": True,
                "protocol": "openid-connect",
                "publicClient": False,
                "clientAuthenticatorType": "client-secret",
                "secret": secret,
                "standardFlowEnabled": True,
                "directAccessGrantsEnabled": True,
                "serviceAccountsEnabled": False,
                "implicitFlowEnabled": False,
                "redirectUris": list(redirect_uris or ["https://cx.example.test/*", "http://127.0.0.1/*"]),
                "webOrigins": ["+"],
                "attributes": {"post.logout.redirect.uris": "+"},
            },
        )
        attached = {s["name"] for s in self.rest("GET", "realms/%s/clients/%s/default-client-scopes" % (realm, uuid))}
        wanted = {"email", "profile", "roles"}
        if not wanted <= attached:
            scopes = {s["name"]: s["id"] for s in self.rest("GET", "realms/%s/client-scopes" % realm)}
            for name in sorted(wanted - attached):
                if name not in scopes:
                    raise KeycloakServerError("realm %r has no client scope %r" % (realm, name))
                self.rest("PUT", "realms/%s/clients/%s/default-client-scopes/%s" % (realm, uuid, scopes[name]))
        stored = self.rest("GET", "realms/%s/clients/%s/client-secret" % (realm, uuid))
        if stored.get("value") != secret:
            raise KeycloakServerError("client %r in realm %r did not keep the given secret" % (client_id, realm))
        return {"realm": realm, "client_id": client_id, "client_secret": secret, "client_uuid": uuid}


class _PortTaken(KeycloakServerError):
    pass


def _json_loads(text):
    return json.loads(text)


# --------------------------------------------------------------------------- state root


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
                _log("unreadable %s: %s" % (path, err))
    return found


def stop_all():
    """Stop every server recorded under the state root; return how many were recorded."""
    servers = recorded_servers()
    for server in servers:
        _log("stopping %s (pid %s)" % (server.name, server.pid))
        server.stop()
    return len(servers)


def _find(name):
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


# --------------------------------------------------------------------------- CLI


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_download = sub.add_parser("download", help="fetch and extract Keycloak versions")
    p_download.add_argument("versions", nargs="*", default=list(VERSIONS))
    p_start = sub.add_parser("start", help="start a server, print its state JSON")
    p_start.add_argument("version", choices=VERSIONS)
    p_start.add_argument("--relative-path", default=None,
                         help="e.g. /auth (default: /auth for 19.0.1, / for 26.7.3)")
    p_start.add_argument("--timeout", type=float, default=None)
    p_stop = sub.add_parser("stop", help="stop one recorded server")
    p_stop.add_argument("server", nargs="?", help="name (<version>-<port>), version or state file")
    sub.add_parser("stop-all", help="stop every server recorded under the state root")
    sub.add_parser("status", help="list recorded servers")
    p_seed = sub.add_parser("seed", help="create a tenant realm with client cim; print JSON")
    p_seed.add_argument("server", nargs="?")
    p_seed.add_argument("--realm", default="expertflow")
    p_seed.add_argument("--client-id", default="cim")
    p_seed.add_argument("--client-secret", default=None)
    p_seed.add_argument("--keep", action="store_true", help="fail if the realm exists instead of recreating it")
    args = parser.parse_args(argv)

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
            _find(args.server).stop()
        elif args.command == "stop-all":
            count = stop_all()
            _log("%d server(s) stopped" % count)
        elif args.command == "status":
            for server in recorded_servers():
                print("%-22s %-8s %s  pid=%s  %s" % (
                    server.name, "running" if server.running() else "dead",
                    server.url, server.pid, server.log))
        elif args.command == "seed":
            info = _find(args.server).seed_tenant(
                args.realm, args.client_id, args.client_secret, recreate=not args.keep)
            print(json.dumps(info, indent=2))
    except KeycloakServerError as err:
        _log("error: %s" % err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

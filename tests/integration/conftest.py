# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for integration tests against real Keycloak servers (tools/kc_server.py).

* ``keycloak`` (session): a running server (the test session's shared one when
  ``CX_KC_SESSION`` names it, see tools/kc/session.py), parametrized over the pinned versions with ids
  ``kc26.7.3`` (served at ``/``) and ``kc19.0.1-auth`` (served at ``/auth``). Pytest groups
  the tests by this parameter and finalizes one server before it starts the next; the
  fixture also stops any server it started before starting another, so only one Keycloak
  runs at a time. ``CX_KC_VERSIONS=19.0.1`` (comma list) restricts the versions.
  Servers are stopped at the end of the session, when tests fail, on Ctrl-C and on
  SIGTERM (finalizer, atexit and a signal handler); ``make`` adds ``kc_server.py stop-all``.
* ``tenant`` (module): a freshly seeded, uniquely named tenant realm with client ``cim``
  (a :class:`helpers.Tenant`), deleted after the module.
* ``make_tenant`` (function): a factory for more tenant realms, deleted after the test.
* ``kc_auth_args``: the connection options of the modules for the master admin.
* ``counting_proxy`` (function): a :class:`kc.proxy.CountingProxy` in front of ``keycloak``; what
  goes to its ``url`` is recorded (method, path, bytes, token grants).
* ``started_servers``: the servers this process started and has not stopped yet.
* ``start_emulator`` (function): a factory ``start_emulator(version="3.18", **kwargs)`` of seeded APISIX
  Admin API emulators (tests/support, see ``_admin_api.seeded``), stopped after the test, which then fails
  if any of them received a ``PATCH .../plugins`` (it would replace every plugin of the route).
* ``k8s_cluster`` (session): the state dict of a real Kubernetes API server (tools/k8s_cluster.py: keys
  ``kubeconfig`` (admin), ``kubeconfig_viewer`` (no rights), ``helm``, ``server``, ``ca``, ``pids``,
  ``dir``): the test session's shared one when ``CX_K8S_STATE`` names it (tools/with_cluster.sh; waits
  while it is built), which it never stops; else one started for these tests, stopped at the end (also
  on failure, Ctrl-C and SIGTERM). ``CX_K8S_STATE`` names it and helm's directory is first on ``PATH``
  for the ``ansible``/``helm`` processes the tests start (kubernetes.core.helm runs ``helm`` from PATH).
* ``k8s_api`` (session): a ``kubernetes.client.CoreV1Api`` as the cluster's admin.
* ``k8s_namespace`` (function): a fresh namespace of the test's own (its name), deleted after the
  test. There is no kube-controller-manager, so a deleted namespace stays ``Terminating`` with its
  objects (readable, no new ones) until the cluster stops; names are unique, nothing collides.

The collections the tests need beside this one (kubernetes.core, tools/ext_collections.py) are
extracted when this file is imported, so a direct pytest run has them too.

Every test that uses ``keycloak`` gets the ``keycloak`` marker (``-m 'not keycloak'`` skips
them). This directory is a package: test files import ``from ._runner import run_module``
and ``from .helpers import ...``; ``tools/`` (the ``kc`` package) is on pytest's
``pythonpath`` (pytest.ini).
"""

import atexit
import os
import re
import secrets
import signal
import sys

import collection_link
import ext_collections
import k8s_cluster as k8s_tool
import pytest
from kc import session
from kc.errors import KeycloakServerError
from kc.proxy import CountingProxy
from kc.server import KeycloakServer

from ._admin_api import plugins_patches, seeded
from .helpers import Tenant, seed_tenant

# (version, relative path, id)
SERVERS = (
    ("26.7.3", "", "kc26.7.3"),
    ("19.0.1", "/auth", "kc19.0.1-auth"),
)


def _selected_servers():
    wanted = [v.strip() for v in os.environ.get("CX_KC_VERSIONS", "").replace(" ", ",").split(",") if v.strip()]
    if not wanted:
        return list(SERVERS)
    unknown = sorted(set(wanted) - {s[0] for s in SERVERS})
    if unknown:
        raise pytest.UsageError(
            "CX_KC_VERSIONS names unknown Keycloak versions %s (known: %s)"
            % (", ".join(unknown), ", ".join(s[0] for s in SERVERS))
        )
    return [s for s in SERVERS if s[0] in wanted]


SELECTED = _selected_servers()
ext_collections.ensure(collection_link.ensure())  # kubernetes.core beside cx.api_auth (as `make collections`)

# Servers this process started and has not stopped yet.
_RUNNING = []
# Directories of the Kubernetes clusters this process started and has not stopped yet.
_K8S_RUNNING = []
# (version, url, seconds to start, JDK) of every server started, for the summary.
_STARTED = []


def _stop_running():
    while _K8S_RUNNING:
        k8s_tool.stop(_K8S_RUNNING.pop())
    while _RUNNING:
        server = _RUNNING.pop()
        try:
            server.stop()
        except Exception as err:  # pylint: disable=broad-except  # best effort at exit
            sys.stderr.write("could not stop Keycloak %s: %s\n" % (server.version, err))


atexit.register(_stop_running)


def _on_sigterm(signum, frame):  # pylint: disable=unused-argument
    _stop_running()
    signal.signal(signal.SIGTERM, _PREVIOUS_SIGTERM or signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM")


_PREVIOUS_SIGTERM = signal.getsignal(signal.SIGTERM)
if _PREVIOUS_SIGTERM in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)


# The longest test file (a fresh copy, a venv and ``make demo``): run first, so that parallel workers
# (``make integration`` runs pytest-xdist with ``--dist loadfile``) do not wait for it at the end.
LONGEST_FIRST = ("test_readme.py",)


def pytest_configure(config):  # pylint: disable=unused-argument
    """Decide once, in the controlling process, whether the Kubernetes tests come last (see below).

    pytest-xdist workers inherit the decision through the environment: each worker sorts its items,
    and they must all collect the same order.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        path = os.environ.get(k8s_tool.ENV)
        starting = bool(path) and k8s_tool.status(path)[0] == "starting"
        os.environ["CX_K8S_TESTS_LAST"] = "1" if starting else ""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    """Mark the tests that need a real Keycloak (``keycloak``) or Kubernetes (``k8s``); the longest file first.

    While the session's cluster is still being built, the tests that need it come last, so that the
    build overlaps the others.
    """
    for item in items:
        if "keycloak" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.keycloak)
        if "k8s_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.k8s)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # alone, pytest keeps its order: one server start per version
        later = bool(os.environ.get("CX_K8S_TESTS_LAST"))
        items.sort(  # stable: keeps the order otherwise
            key=lambda item: (item.path.name not in LONGEST_FIRST, later and item.get_closest_marker("k8s") is not None)
        )


def pytest_terminal_summary(terminalreporter):
    """Report how long each Keycloak took to start (build + boot + admin ready)."""
    for version, url, seconds, jdk in _STARTED:
        terminalreporter.write_line("Keycloak %s at %s started in %.1f s (%s)" % (version, url, seconds or -1, jdk))


@pytest.fixture(scope="session", params=SELECTED, ids=[s[2] for s in SELECTED])
def keycloak(request):
    """A running ``kc.server.KeycloakServer`` (one version per parameter).

    Inside a test session (``CX_KC_SESSION``, see tools/kc/session.py) the session's server
    of that version, which this fixture never stops; else one started for these tests.
    """
    version, relative_path = request.param[:2]
    try:
        shared = session.shared(version, relative_path)
    except KeycloakServerError as err:
        pytest.fail("the session's Keycloak %s: %s" % (version, err), pytrace=False)
    if shared is not None:
        _STARTED.append((version, shared.url + " (shared)", shared.startup_seconds, os.path.basename(shared.java_home)))
        yield shared
        return
    _stop_running()  # only one Keycloak at a time, whatever pytest's ordering
    server = KeycloakServer(version, relative_path)
    _RUNNING.append(server)
    try:
        server.start()
    except KeycloakServerError as err:
        _RUNNING.remove(server)
        pytest.fail("Keycloak %s did not start: %s" % (version, err), pytrace=False)
    _STARTED.append((version, server.url, server.startup_seconds, os.path.basename(server.java_home)))
    try:
        yield server
    finally:
        if server in _RUNNING:
            _RUNNING.remove(server)
        server.stop()


@pytest.fixture
def started_servers():
    """The Keycloak servers this process started and has not stopped yet."""
    return list(_RUNNING)


@pytest.fixture(scope="module")
def tenant(keycloak, request):  # pylint: disable=redefined-outer-name
    """A fresh tenant realm as a CX install has it before the guide: realm + client ``cim``."""
    module = request.module.__name__.rsplit(".", 1)[-1].replace("test_", "").replace("_", "-")[:20]
    made = seed_tenant(keycloak, "t-" + module)
    yield made
    made.delete()


@pytest.fixture
def make_tenant(keycloak):  # pylint: disable=redefined-outer-name
    """Factory: ``make_tenant(kind=Tenant, **seed_tenant_kwargs)`` seeds another realm, deleted after the test.

    ``kind`` is the :class:`helpers.Tenant` (sub)class to return.
    """
    made = []

    def make(kind=Tenant, **kwargs):
        made.append(seed_tenant(keycloak, kind=kind, **kwargs))
        return made[-1]

    yield make
    for realm in made:
        realm.delete()


@pytest.fixture
def kc_auth_args(keycloak):  # pylint: disable=redefined-outer-name
    """Connection options of the Keycloak modules for the bootstrap admin of realm master."""
    return {
        "auth_keycloak_url": keycloak.url,
        "auth_username": keycloak.admin_user,
        "auth_password": keycloak.admin_password,
        "auth_realm": "master",
        # The default 10 s is tight when several JVMs share this 2-core machine.
        "connection_timeout": 30,
    }


@pytest.fixture
def counting_proxy(keycloak):  # pylint: disable=redefined-outer-name
    """A counting reverse proxy on 127.0.0.1 in front of ``keycloak`` (see tools/kc/proxy.py)."""
    with CountingProxy(keycloak.url) as proxy:
        yield proxy


@pytest.fixture
def start_emulator():
    """Factory of seeded Admin API emulators; after the test: all stopped, none got ``PATCH .../plugins``."""
    started = []

    def start(version="3.18", **kwargs):
        started.append(seeded(version, **kwargs))
        return started[-1]

    yield start
    for emulator in started:
        emulator.stop()
    for emulator in started:
        assert plugins_patches(emulator) == [], "PATCH .../plugins was sent: it replaces every plugin of the route"


@pytest.fixture(scope="session")
def k8s_cluster(tmp_path_factory):
    """The state of a real Kubernetes API server: the session's (``CX_K8S_STATE``), else one of these tests' own."""
    try:
        state = k8s_tool.shared()
    except k8s_tool.ClusterError as err:
        pytest.fail(str(err), pytrace=False)
    owned = state is None
    if owned:
        workdir = str(tmp_path_factory.mktemp("k8s"))
        _K8S_RUNNING.append(workdir)
        try:
            state = k8s_tool.start(workdir)
        except k8s_tool.ClusterError as err:
            _K8S_RUNNING.remove(workdir)
            k8s_tool.stop(workdir)
            pytest.fail("the Kubernetes API server did not start: %s" % err, pytrace=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(k8s_tool.ENV, os.path.join(state["dir"], "state.json"))
        patch.setenv("PATH", os.path.dirname(state["helm"]) + os.pathsep + os.environ.get("PATH", ""))
        try:
            yield state
        finally:
            if owned and state["dir"] in _K8S_RUNNING:
                _K8S_RUNNING.remove(state["dir"])
                k8s_tool.stop(state["dir"])


@pytest.fixture(scope="session")
def k8s_api(k8s_cluster):  # pylint: disable=redefined-outer-name
    """A ``kubernetes.client.CoreV1Api`` as the cluster's admin."""
    from kubernetes import client, config  # pylint: disable=import-outside-toplevel  # only the k8s tests need it

    api = config.new_client_from_config(config_file=k8s_cluster["kubeconfig"])
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def k8s_namespace(k8s_api, request):  # pylint: disable=redefined-outer-name
    """The name of a fresh namespace of this test's own, deleted after it (see the module's docstring)."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().replace("test_", "", 1)).strip("-")[:40].strip("-")
    name = "t-%s-%s" % (stem or "test", secrets.token_hex(3))
    k8s_api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    k8s_api.delete_namespace(name)

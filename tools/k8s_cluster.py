# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Kubernetes API server (etcd + kube-apiserver, no kubelet) on 127.0.0.1 for the apply tests.

Standard library only. The binaries come from ``tools/k8s/build.sh`` (cached outside the checkout).
Each cluster lives in a directory of its own (``--dir``): certificates, a static token file (an
``admin`` token in ``system:masters`` and a ``viewer`` token without rights), etcd's data, the logs,
``kubeconfig`` (admin), ``kubeconfig-viewer`` and ``state.json`` (pids, ports). Both processes run in
process groups of their own and are stopped by pid (``stop``), also after a failed start. Pods never
run (no kubelet): helm releases and ConfigMaps are stored for real, nothing waits for pods.

One cluster serves a whole test session (``tools/with_cluster.sh``): the environment variable
``CX_K8S_STATE`` is the absolute path of its ``state.json`` (keys ``kubeconfig``, ``kubeconfig_viewer``,
``helm``, ``server``, ``ca``, ``pids``, ``dir``; ``ready`` once it answers). The wrapper builds and starts
it in the background (``session-start``, which records its pid, and any error, in ``starter.json`` beside
``state.json`` and the build's output in ``build.log``); consumers (the integration tests' ``k8s_cluster``
fixture, tools/molecule.sh, a scenario's create step) wait for it (``wait``/:func:`shared`), isolate
themselves in namespaces of their own and never stop it; the wrapper stops it by pid at the end.

CLI::

    python3 tools/k8s_cluster.py start --dir DIR          # prints the state JSON
    python3 tools/k8s_cluster.py stop --dir DIR
    python3 tools/k8s_cluster.py session-start --dir DIR  # build if needed, start; errors in DIR/starter.json
    python3 tools/k8s_cluster.py status                   # CX_K8S_STATE: ready|starting|failed|down (rc 0|0|1|2)
    python3 tools/k8s_cluster.py wait                     # waits for CX_K8S_STATE, prints its state JSON
    python3 tools/k8s_cluster.py acquire --dir DIR        # CX_K8S_STATE's cluster, else one started in DIR
                                                          # (prints the state JSON with "owned")
"""

import argparse
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kc.process import alive, free_port, kill_group, tail

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = "CX_K8S_STATE"
# How long a consumer waits for the session's cluster: the first build of kube-apiserver takes about
# 10 minutes on 2 cores (longer while the rest of the suite runs); a dead starter ends the wait at once.
WAIT_TIMEOUT = 2700


class ClusterError(RuntimeError):
    """The cluster could not be built, started or reached (the message says which and where to look)."""


def _log(message):
    sys.stderr.write("[k8s] %s\n" % message)


def binaries(build_log=None, build_nice=0):
    """``{kube-apiserver, etcd, helm}``: paths of the cached binaries (built on first use).

    The build's progress and errors go to ``build_log`` (appended) when given; a failed build raises
    :class:`ClusterError` with the end of its output. ``build_nice`` lowers the build's priority
    (the session's background build yields to the suite's own stages).
    """
    build = ["nice", "-n", str(build_nice)] if build_nice else []
    build += ["bash", os.path.join(ROOT, "tools", "k8s", "build.sh")]
    if build_log:
        with open(build_log, "ab") as log:
            proc = subprocess.run(build, stdout=subprocess.PIPE, stderr=log, text=True, check=False)
        output = tail(build_log, 25)
    else:
        proc = subprocess.run(build, capture_output=True, text=True, check=False)
        output = "\n".join(proc.stderr.splitlines()[-25:])
    if proc.returncode != 0:
        raise ClusterError("tools/k8s/build.sh failed (rc %d):\n%s" % (proc.returncode, output))
    cache = proc.stdout.strip()
    version = os.environ.get("CX_K8S_VERSION", "1.34.2")
    helm = os.environ.get("CX_HELM_VERSION", "3.21.4")
    return {
        "kube-apiserver": os.path.join(cache, "v%s" % version, "kube-apiserver"),
        "etcd": os.path.join(cache, "etcd"),
        "helm": os.path.join(cache, "helm-v%s" % helm, "helm"),
    }


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _certificates(workdir):
    """A CA, the serving certificate of the API server (127.0.0.1, localhost) and the service-account keys."""
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki, exist_ok=True)
    ca_key, ca_crt = os.path.join(pki, "ca.key"), os.path.join(pki, "ca.crt")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "30",
             "-subj", "/CN=cx-api-auth-test-ca")  # fmt: skip
    key, csr, crt = (os.path.join(pki, name) for name in ("apiserver.key", "apiserver.csr", "apiserver.crt"))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver")
    ext = os.path.join(pki, "san.ext")
    with open(ext, "w", encoding="utf-8") as handle:
        handle.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
             "-days", "30", "-extfile", ext)  # fmt: skip
    sa_key, sa_pub = os.path.join(pki, "sa.key"), os.path.join(pki, "sa.pub")
    _openssl("genrsa", "-out", sa_key, "2048")
    _openssl("rsa", "-in", sa_key, "-pubout", "-out", sa_pub)
    return dict(ca=ca_crt, key=key, crt=crt, sa_key=sa_key, sa_pub=sa_pub)


def _kubeconfig(path, server, ca, token, user):
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cx-test", "cluster": {"server": server, "certificate-authority": ca}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "cx-test", "context": {"cluster": "cx-test", "user": user}}],
        "current-context": "cx-test",
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)  # JSON is YAML: kubectl, helm and kubernetes.core read it
    os.chmod(path, 0o600)


def _spawn(cmd, log_path):
    with open(log_path, "ab") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True).pid  # fmt: skip


def _ready(url, ca, token, timeout):
    context = ssl.create_default_context(cafile=ca)
    deadline = time.time() + timeout
    while time.time() < deadline:
        request = urllib.request.Request(url + "/readyz", headers={"Authorization": "Bearer %s" % token})
        try:
            with urllib.request.urlopen(request, context=context, timeout=5) as answer:
                if answer.status == 200:
                    return True
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    return False


def start(workdir, timeout=120, build_log=None, build_nice=0):
    """Start etcd and kube-apiserver in ``workdir``; return the state (also written to state.json).

    ``state.json`` is written as soon as a process is spawned (so that ``stop`` finds it) and gets
    ``ready: true`` once the API server answers and both kubeconfigs are written.
    """
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    bins = binaries(build_log, build_nice)
    certs = _certificates(workdir)
    admin_token, viewer_token = secrets.token_hex(16), secrets.token_hex(16)
    tokens = os.path.join(workdir, "tokens.csv")
    with open(tokens, "w", encoding="utf-8") as handle:
        handle.write('%s,admin,admin-uid,"system:masters"\n%s,viewer,viewer-uid\n' % (admin_token, viewer_token))
    os.chmod(tokens, 0o600)
    etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
    state = dict(dir=workdir, etcd_port=etcd_port, api_port=api_port, server="https://127.0.0.1:%d" % api_port,
                 ca=certs["ca"], kubeconfig=os.path.join(workdir, "kubeconfig"),
                 kubeconfig_viewer=os.path.join(workdir, "kubeconfig-viewer"), helm=bins["helm"], pids=[])  # fmt: skip
    state_file = os.path.join(workdir, "state.json")

    def save():
        _write_json(state_file, state)  # atomic: consumers poll it

    etcd_log, api_log = os.path.join(workdir, "etcd.log"), os.path.join(workdir, "kube-apiserver.log")
    state["pids"].append(_spawn([
        bins["etcd"], "--name", "cx-test", "--data-dir", os.path.join(workdir, "etcd-data"),
        "--listen-client-urls", "http://127.0.0.1:%d" % etcd_port,
        "--advertise-client-urls", "http://127.0.0.1:%d" % etcd_port,
        "--listen-peer-urls", "http://127.0.0.1:%d" % etcd_peer,
        "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % etcd_peer,
        "--initial-cluster", "cx-test=http://127.0.0.1:%d" % etcd_peer,
    ], etcd_log))  # fmt: skip
    save()
    state["pids"].append(_spawn([
        bins["kube-apiserver"], "--etcd-servers", "http://127.0.0.1:%d" % etcd_port,
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(api_port),
        "--tls-cert-file", certs["crt"], "--tls-private-key-file", certs["key"], "--client-ca-file", certs["ca"],
        "--token-auth-file", tokens, "--authorization-mode", "RBAC",
        "--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", certs["sa_pub"],
        "--service-account-signing-key-file", certs["sa_key"], "--service-cluster-ip-range", "10.96.0.0/16",
        "--endpoint-reconciler-type", "none", "--cert-dir", os.path.join(workdir, "pki"),
    ], api_log))  # fmt: skip
    save()
    if not _ready(state["server"], certs["ca"], admin_token, timeout):
        stop(workdir)
        raise ClusterError("kube-apiserver did not become ready in %d s:\n%s" % (timeout, tail(api_log, 40)))
    _kubeconfig(state["kubeconfig"], state["server"], certs["ca"], admin_token, "admin")
    _kubeconfig(state["kubeconfig_viewer"], state["server"], certs["ca"], viewer_token, "viewer")
    state["ready"] = True
    save()
    return state


def stop(workdir):
    """Stop the cluster of ``workdir`` by the pids it recorded (its process groups)."""
    try:
        with open(os.path.join(workdir, "state.json"), encoding="utf-8") as handle:
            state = json.load(handle)
    except OSError:
        return
    for pid in reversed(state.get("pids", [])):
        kill_group(pid, server_dir=os.path.abspath(workdir), timeout=15)


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _write_json(path, data):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def answers(state, timeout=15):
    """Does the API server of ``state`` answer ``/readyz`` (as admin) within ``timeout`` s?"""
    config = _read_json(state.get("kubeconfig") or "") or {}
    try:
        token = config["users"][0]["user"]["token"]
    except (KeyError, IndexError, TypeError):
        return False
    return _ready(state["server"], state["ca"], token, timeout)


def session_start(workdir):
    """Build (if needed) and start the session's cluster in ``workdir`` (``tools/with_cluster.sh``, in the background).

    ``starter.json`` records this process's pid (the wrapper wrote it to ``starter.pid`` already), and the
    error if the build or the start fails, for the
    consumers waiting in :func:`wait`; the build's output goes to ``build.log`` and it runs at a lower
    priority (the cluster itself does not).
    """
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    marker = os.path.join(workdir, "starter.json")
    _write_json(marker, {"pid": os.getpid(), "error": None})
    try:
        return start(workdir, build_log=os.path.join(workdir, "build.log"), build_nice=10)
    except (ClusterError, OSError, subprocess.CalledProcessError) as err:
        _write_json(marker, {"pid": os.getpid(), "error": str(err)})
        raise


def status(path):
    """``(word, detail)`` of the cluster whose state file is ``path``.

    ``ready`` (detail: the state) when it answers; ``starting`` while its starter runs; ``failed`` when
    the starter recorded an error; ``down`` otherwise (none there, or it no longer answers).
    """
    state = _read_json(path)
    starter = _read_json(os.path.join(os.path.dirname(path), "starter.json")) or {}
    if starter.get("error"):
        return "failed", starter["error"]
    if state and state.get("ready") and answers(state):
        return "ready", state
    pid = starter.get("pid") or _read_json(os.path.join(os.path.dirname(path), "starter.pid"))
    if isinstance(pid, int) and alive(pid):
        return "starting", "starter pid %s" % pid
    if state and state.get("ready"):
        return "down", "the cluster of %s does not answer at %s" % (path, state.get("server"))
    return "down", "no cluster was started at %s" % path


def wait(path=None, timeout=None):
    """The state of the session's cluster (``CX_K8S_STATE`` or ``path``), once it answers.

    Waits while it is being built and started; raises :class:`ClusterError` when its start failed,
    its starter died, or ``timeout`` (default ``WAIT_TIMEOUT``, env ``CX_K8S_WAIT_TIMEOUT``) passes.
    """
    path = path or os.environ.get(ENV)
    if not path:
        raise ClusterError("%s is not set: no session cluster to wait for" % ENV)
    if timeout is None:
        timeout = int(os.environ.get("CX_K8S_WAIT_TIMEOUT") or WAIT_TIMEOUT)
    deadline, said = time.time() + timeout, False
    while True:
        word, detail = status(path)
        if word == "ready":
            return detail
        if word == "failed":
            raise ClusterError("the session's Kubernetes cluster did not start (%s=%s): %s" % (ENV, path, detail))
        if word == "down":
            raise ClusterError("the session's Kubernetes cluster (%s=%s) is not running: %s" % (ENV, path, detail))
        if time.time() > deadline:
            raise ClusterError("the session's Kubernetes cluster (%s=%s) was not ready in %d s" % (ENV, path, timeout))
        if not said:
            _log("waiting for the session's cluster (%s; a first build logs to %s)"
                 % (detail, os.path.join(os.path.dirname(path), "build.log")))  # fmt: skip
            said = True
        time.sleep(2)


def shared():
    """The state of the session's cluster when ``CX_K8S_STATE`` is set (waiting for it), else None."""
    return wait() if os.environ.get(ENV) else None


def acquire(workdir):
    """``(state, owned)``: the session's cluster, else one started in ``workdir`` (owned: stop it after)."""
    state = shared()
    if state is not None:
        return state, False
    return start(workdir), True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["start", "stop", "session-start", "status", "wait", "acquire"])
    parser.add_argument("--dir", help="the cluster's directory (start, stop, session-start, acquire)")
    args = parser.parse_args(argv)
    if args.action in ("start", "stop", "session-start", "acquire") and not args.dir:
        parser.error("%s needs --dir" % args.action)
    try:
        if args.action == "start":
            print(json.dumps(start(args.dir), indent=2))
        elif args.action == "stop":
            stop(args.dir)
        elif args.action == "session-start":
            session_start(args.dir)
        elif args.action == "status":
            path = os.environ.get(ENV)
            word, detail = status(path) if path else ("down", "%s is not set" % ENV)
            print(word)
            if word in ("failed", "down"):
                _log(detail)
            return {"ready": 0, "starting": 0, "failed": 1}.get(word, 2)
        elif args.action == "wait":
            print(json.dumps(wait(), indent=2))
        else:
            state, owned = acquire(args.dir)
            print(json.dumps(dict(state, owned=owned), indent=2))
    except ClusterError as err:
        _log(str(err))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

CLI::

    python3 tools/k8s_cluster.py start --dir DIR    # prints the state JSON
    python3 tools/k8s_cluster.py stop --dir DIR
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

from kc.process import free_port, kill_group, tail

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _log(message):
    sys.stderr.write("[k8s] %s\n" % message)


def binaries():
    """``{kube-apiserver, etcd, helm}``: paths of the cached binaries (built on first use)."""
    cache = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "k8s", "build.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
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


def start(workdir, timeout=120):
    """Start etcd and kube-apiserver in ``workdir``; return the state (also written to state.json)."""
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    bins = binaries()
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
        with open(state_file, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2)

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
        raise RuntimeError("kube-apiserver did not become ready in %d s:\n%s" % (timeout, tail(api_log, 40)))
    _kubeconfig(state["kubeconfig"], state["server"], certs["ca"], admin_token, "admin")
    _kubeconfig(state["kubeconfig_viewer"], state["server"], certs["ca"], viewer_token, "viewer")
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    if args.action == "start":
        print(json.dumps(start(args.dir), indent=2))
    else:
        stop(args.dir)


if __name__ == "__main__":
    main()

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test tooling's real Kubernetes API server: the session wrapper, the rights, helm from the cache.

Everything here runs against real processes (tools/k8s_cluster.py, tools/with_cluster.sh); nothing is mocked.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import k8s_cluster as k8s_tool
import pytest
from kc.process import alive
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from ._runner import run_module

pytestmark = pytest.mark.k8s

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRAPPER = os.path.join(ROOT, "tools", "with_cluster.sh")

# What the wrapped command reports: the state it waited for, CX_K8S_STATE and the helm found on PATH.
REPORT = textwrap.dedent(
    """
    import json, os, shutil, sys, time
    sys.path.insert(0, os.path.join(%r, "tools"))
    import k8s_cluster
    state = k8s_cluster.wait()
    print(json.dumps({"state": state, "env": os.environ["CX_K8S_STATE"], "helm": shutil.which("helm"),
                      "answers": k8s_cluster.answers(state)}), flush=True)
    if sys.argv[1] == "fail":
        sys.exit(3)
    if sys.argv[1] == "hang":
        time.sleep(120)
    """
    % ROOT
)


def _env_without_session(**extra):
    env = {key: value for key, value in os.environ.items() if key != k8s_tool.ENV}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    "ending, interrupt, rc",
    [("pass", None, 0), ("fail", None, 3), ("hang", "SIGTERM to the wrapper", 143), ("hang", "Ctrl-C", 130)],
    ids=["passes", "fails", "sigterm", "ctrl-c"],
)
def test_wrapper_starts_a_cluster_and_stops_it_by_pid(ending, interrupt, rc):
    """The wrapper starts a cluster for the command and stops it at the end, also on failure, SIGTERM and Ctrl-C."""
    proc = subprocess.Popen(  # pylint: disable=consider-using-with  # read line by line, then signalled
        ["bash", WRAPPER, sys.executable, "-c", REPORT, ending],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env_without_session(),
        start_new_session=True,  # a process group as a terminal's foreground job has one
    )
    report = None
    try:
        line = proc.stdout.readline()
        assert line, "the wrapped command reported nothing: %s" % proc.stderr.read()
        report = json.loads(line)
        if interrupt == "Ctrl-C":  # the terminal sends SIGINT to the whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        elif interrupt:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == rc, proc.stderr.read()
    finally:
        if proc.poll() is None:  # the wrapper failed this test: leave nothing running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if report:
                k8s_tool.stop(report["state"]["dir"])
    state = report["state"]
    assert report["answers"] is True
    assert report["env"] == os.path.join(state["dir"], "state.json")
    assert os.path.isabs(report["env"])
    assert report["helm"] == state["helm"], "helm from the cache is first on the command's PATH"
    assert set(state) >= {"kubeconfig", "kubeconfig_viewer", "helm", "server", "ca", "pids", "dir"}
    assert len(state["pids"]) == 2
    assert [pid for pid in state["pids"] if alive(pid)] == [], "etcd and kube-apiserver are stopped"
    assert not os.path.exists(state["dir"]), "the cluster's directory is removed"


def test_nested_wrapper_waits_for_the_cluster_still_starting():
    """`make test` runs `make integration` inside the session: the inner wrapper takes the cluster being started."""
    script = 'echo "$CX_K8S_STATE"; python3 "%s" status; exec bash "%s" "%s" -c "$1" pass' % (
        os.path.join(ROOT, "tools", "k8s_cluster.py"),
        WRAPPER,
        sys.executable,
    )
    proc = subprocess.run(
        ["bash", WRAPPER, "bash", "-c", script, "nested", REPORT],
        capture_output=True,
        text=True,
        env=_env_without_session(),
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    outer, word, line = proc.stdout.splitlines()
    assert word == "starting"
    report = json.loads(line)
    assert report["env"] == outer, "the inner wrapper started no cluster of its own"
    assert report["answers"] is True
    assert [pid for pid in report["state"]["pids"] if alive(pid)] == []


def test_wrapper_reuses_the_sessions_cluster(k8s_cluster, tmp_path):
    """With CX_K8S_STATE naming a cluster that answers, the wrapper runs the command with it and leaves it running."""
    state_file = os.path.join(k8s_cluster["dir"], "state.json")
    acquire_dir = tmp_path / "own"
    proc = subprocess.run(
        ["bash", WRAPPER, sys.executable, os.path.join(ROOT, "tools", "k8s_cluster.py"), "acquire", "--dir"]
        + [str(acquire_dir)],
        capture_output=True,
        text=True,
        env=_env_without_session(CX_K8S_STATE=state_file),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    acquired = json.loads(proc.stdout)
    assert acquired["owned"] is False
    assert acquired["server"] == k8s_cluster["server"]
    assert not acquire_dir.exists(), "no cluster of its own was started"
    assert k8s_tool.answers(k8s_cluster), "the session's cluster still runs"


def test_a_build_without_go_fails_with_a_clear_message(tmp_path):
    """A first build on a machine without Go ends the consumers' wait with what is missing, not a traceback."""
    path = os.pathsep.join(["/usr/bin", "/bin"])
    assert shutil.which("go", path=path) is None, "this test needs a PATH without go"
    proc = subprocess.run(
        ["bash", WRAPPER, "python3", os.path.join(ROOT, "tools", "k8s_cluster.py"), "wait"],
        capture_output=True,
        text=True,
        env=_env_without_session(PATH=path, CX_K8S_CACHE=str(tmp_path / "empty-cache")),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "the session's Kubernetes cluster did not start" in proc.stderr
    assert "Go is needed to build kube-apiserver" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "empty-cache" / "v1.34.2" / "kube-apiserver").exists()


def test_viewer_is_refused_a_configmap_the_admin_reads(k8s_cluster, k8s_api, k8s_namespace):
    """RBAC is on: the viewer kubeconfig (a token without rights) gets 403 where the admin reads."""
    assert k8s_api.read_namespace(k8s_namespace).status.phase == "Active"
    k8s_api.create_namespaced_config_map(
        k8s_namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="probe"), data={"apisix.yaml": "routes: []\n#END\n"}),
    )
    assert k8s_api.read_namespaced_config_map("probe", k8s_namespace).data == {"apisix.yaml": "routes: []\n#END\n"}
    viewer = config.new_client_from_config(config_file=k8s_cluster["kubeconfig_viewer"])
    try:
        with pytest.raises(ApiException) as refused:
            client.CoreV1Api(viewer).read_namespaced_config_map("probe", k8s_namespace)
    finally:
        viewer.close()
    assert refused.value.status == 403


def _chart(tmp_path):
    chart = tmp_path / "probe-chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("greeting: hello\n", encoding="utf-8")
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-probe\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n",
        encoding="utf-8",
    )
    return chart


def test_helm_from_the_cache_installs_a_chart(k8s_cluster, k8s_api, k8s_namespace, tmp_path):
    """helm v3 from the cache is the one on PATH; an install stores the release and renders its ConfigMap."""
    helm = shutil.which("helm")
    assert helm == k8s_cluster["helm"]
    version = subprocess.run([helm, "version", "--short"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v3."), version
    subprocess.run(
        [helm, "upgrade", "--install", "probe", str(_chart(tmp_path)), "--namespace", k8s_namespace]
        + ["--kubeconfig", k8s_cluster["kubeconfig"], "--set", "greeting=hi"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert k8s_api.read_namespaced_config_map("probe-probe", k8s_namespace).data == {"greeting": "hi"}
    releases = json.loads(
        subprocess.run(
            [helm, "list", "--namespace", k8s_namespace, "--kubeconfig", k8s_cluster["kubeconfig"], "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert [(r["name"], r["revision"], r["status"]) for r in releases] == [("probe", "1", "deployed")]
    secrets = k8s_api.list_namespaced_secret(k8s_namespace, label_selector="owner=helm").items
    assert [s.metadata.name for s in secrets] == ["sh.helm.release.v1.probe.v1"]


def test_kubernetes_core_helm_finds_the_collection_and_helm(k8s_cluster, k8s_api, k8s_namespace, tmp_path):
    """kubernetes.core (extracted beside this collection) runs helm from PATH: install, then no change."""
    args = {
        "name": "probe",
        "chart_ref": str(_chart(tmp_path)),
        "release_namespace": k8s_namespace,
        "kubeconfig": k8s_cluster["kubeconfig"],
        "values": {"greeting": "from-ansible"},
    }
    first, output = run_module("kubernetes.core.helm", args)
    assert first.get("changed") is True, output
    again, output = run_module("kubernetes.core.helm", args)
    assert again.get("changed") is False, output
    assert k8s_api.read_namespaced_config_map("probe-probe", k8s_namespace).data == {"greeting": "from-ansible"}

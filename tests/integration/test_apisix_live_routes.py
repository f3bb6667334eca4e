# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""apisix_live_routes against a real Kubernetes API server (fixtures ``k8s_cluster``/``k8s_namespace``).

The project's test chart (tests/charts/apisix) is installed with helm from an unchanged CX-shaped values
file; apisix_route_oidc edits the file; kubernetes.core.helm_template and kubernetes.core.k8s_info feed the
module, as the role does: the routes are reported stale/missing before the upgrade, live after it, and a
live ConfigMap edited to lose ``#END`` is reported. Nothing Kubernetes is mocked.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from ._runner import run_module, run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(ROOT, "tests", "charts", "apisix")
VALUES = os.path.join(ROOT, "tests", "unit", "fixtures", "apisix", "cx-chart-values.yaml.sample")
SECRET = "Live-routes-s3cret-0f9d2c"
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"  # the chart's secret placeholder in the values file
BLOCKED = ["orders-main", "files-main", "portal-main"]  # the routes with a commented-out block in the file
NEW_ROUTE = """
     - id: reports-main
       uris: ["/reports/*"]
       hosts: ["{{ .Values.global.ingressRouter }}"]
       priority: 0
       service_id: svc-portal
       status: 1
       plugins:
#         openid-connect:
#           enable: true
#           discovery: "http://keycloak.ef-external.svc/auth/realms/expertflow/.well-known/openid-configuration"
#           client_id: "cim"
#           client_secret: "00000000-0000-0000-0000-000000000000"
#           bearer_only: true
"""

# One playbook, one step per run (``step``): what the role does with the ecosystem's modules.
PLAYBOOK = """
- name: Live routes
  hosts: all
  gather_facts: false
  module_defaults:
    kubernetes.core.k8s_info:
      kubeconfig: "{{ kubeconfig }}"
    kubernetes.core.k8s:
      kubeconfig: "{{ kubeconfig }}"
  tasks:
    - name: Install or upgrade the release from the values file
      when: step == "helm"
      kubernetes.core.helm:
        binary_path: "{{ helm }}"
        kubeconfig: "{{ kubeconfig }}"
        chart_ref: "{{ chart }}"
        release_name: apisix
        release_namespace: "{{ release_namespace }}"
        create_namespace: true
        values_files: ["{{ values }}"]
      no_log: true

    - name: Drop the end marker from the live ConfigMap
      when: step == "drop_end"
      block:
        - name: Read it
          kubernetes.core.k8s_info:
            kind: ConfigMap
            name: apisix
            namespace: "{{ release_namespace }}"
          register: before
          no_log: true
        - name: Write it back without #END
          kubernetes.core.k8s:
            state: patched
            kind: ConfigMap
            name: apisix
            namespace: "{{ release_namespace }}"
            definition:
              data:
                apisix.yaml: "{{ before.resources[0].data['apisix.yaml'] | replace('#END', '') }}"
          no_log: true

    - name: Compare
      when: step == "compare"
      block:
        - name: Render the chart from the values file
          kubernetes.core.helm_template:
            binary_path: "{{ helm }}"
            chart_ref: "{{ chart }}"
            release_name: apisix
            release_namespace: "{{ release_namespace }}"
            values_files: ["{{ values }}"]
          register: rendered
          no_log: true
          check_mode: false
        - name: Read the live ConfigMap
          kubernetes.core.k8s_info:
            kind: ConfigMap
            name: apisix
            namespace: "{{ release_namespace }}"
          register: configmap
          no_log: true
        - name: Compare the routes
          cx.api_auth.apisix_live_routes:
            rendered: "{{ rendered.stdout }}"
            live: "{{ configmap.resources }}"
            release_name: "{{ release | default('apisix') }}"
            release_namespace: "{{ release_namespace }}"
            route_selector: "{{ selector | default(['openid_connect_block']) }}"
            routes: ["orders-*"]
            require_live: "{{ require_live | default(false) }}"
          register: compared
      always:
        - name: Keep the result for the test
          ansible.builtin.copy:
            content: "{{ compared | to_json }}"
            dest: "{{ result_file }}"
            mode: "0600"
          when: compared is defined
"""


@pytest.fixture
def live_setup(k8s_cluster, k8s_namespace, tmp_path):
    """``(values file, step runner)``: a CX-shaped values file copied unchanged, and ``step(name, **vars)``
    that runs one step of the playbook and returns ``(rc, output, compared result or None)``."""
    values = tmp_path / "values.yaml"
    shutil.copyfile(VALUES, values)
    playbook = tmp_path / "live.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    inventory = tmp_path / "hosts"
    inventory.write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable, encoding="utf-8"
    )
    result_file = tmp_path / "compared.json"

    def step(name, **extra):
        if result_file.exists():
            result_file.unlink()
        extra_vars = {
            "step": name,
            "helm": k8s_cluster["helm"],
            "kubeconfig": k8s_cluster["kubeconfig"],
            "release_namespace": k8s_namespace,
            "chart": CHART,
            "values": str(values),
            "result_file": str(result_file),
        }
        extra_vars.update(extra)
        rc, output = run_playbook(
            str(playbook), inventory, verbosity=3, extra_vars=extra_vars, env={"ANSIBLE_INJECT_INVOCATION": "1"}
        )
        compared = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else None
        return rc, output, compared

    return values, step


def _states(compared):
    return {route["id"]: (route["live"], route["differs"]) for route in compared["routes"]}


def test_stale_and_missing_before_the_upgrade_live_after_and_end_marker(live_setup, k8s_namespace):
    values, step = live_setup
    rc, output, _compared = step("helm")
    assert rc == 0, output

    # The installed release renders the file as it is: every selected route live, no block anywhere (so the
    # selector, which sees no commented-out block in a rendered file, would match nothing).
    rc, output, compared = step("compare", require_live=True, selector=[])
    assert rc == 0, output
    assert compared["routes_selected"] == ["orders-login", "orders-main", "orders-assets"]
    assert {state for state, _differs in _states(compared).values()} == {"live"}
    assert compared["data_in_sync"] is True and compared["end_marker"] is True
    assert compared["rendered_by_release"] is True and compared["configmap"] == "%s/apisix" % k8s_namespace

    # The installer adds a route and the collection secures the file: not applied yet.
    with open(values, "a", encoding="utf-8") as handle:
        handle.write(NEW_ROUTE)
    result, output = run_module(
        "apisix_route_oidc",
        {
            "path": str(values),
            "route_selector": ["openid_connect_block"],
            "keycloak_url": "http://keycloak.ef-external.svc/auth",
            "realm": "expertflow",
            "client_secret": SECRET,
        },
    )
    assert result.get("failed") is not True and result["changed"] is True, output
    assert result["routes_selected"] == BLOCKED + ["reports-main"]

    rc, output, compared = step("compare")
    assert rc == 0, output
    states = _states(compared)
    assert compared["routes_selected"] == ["orders-login", "orders-main", "orders-assets", "files-main"] + [
        "portal-main",
        "reports-main",
    ]
    assert {rid: states[rid] for rid in BLOCKED} == {rid: ("stale", ["openid-connect (not live)"]) for rid in BLOCKED}
    assert states["reports-main"] == ("missing", []) and states["orders-login"] == ("live", [])
    assert compared["not_live"] == BLOCKED + ["reports-main"] and compared["data_in_sync"] is False
    assert SECRET not in output and PLACEHOLDER not in output

    rc, output, compared = step("compare", require_live=True)
    assert rc != 0 and compared["failed"] is True
    msg = compared["msg"]
    assert msg.startswith("ConfigMap %s/apisix of release 'apisix': not what the values file renders" % k8s_namespace)
    assert "'orders-main' stale (openid-connect not live)" in msg and "'reports-main' missing" in msg
    assert SECRET not in output

    # helm upgrade: every route live.
    rc, output, _compared = step("helm")
    assert rc == 0, output
    rc, output, compared = step("compare", require_live=True)
    assert rc == 0, output
    assert {state for state, _differs in _states(compared).values()} == {"live"} and compared["not_live"] == []
    assert compared["data_in_sync"] is True and compared["problems"] == []
    assert SECRET not in output

    # A ConfigMap that is not the release's (here: the check expects another release).
    rc, output, compared = step("compare", require_live=True, release="other")
    assert rc != 0 and compared["rendered_by_release"] is False
    assert "ConfigMap %s/apisix was not rendered by release 'other'" % k8s_namespace in compared["msg"]

    # The live ConfigMap loses its #END: reported, and require_live fails although every route is live.
    rc, output, _compared = step("drop_end")
    assert rc == 0, output
    rc, output, compared = step("compare")
    assert rc == 0, output
    assert compared["end_marker"] is False and compared["not_live"] == []
    assert "does not end with #END: APISIX does not load it" in compared["msg"]
    rc, output, compared = step("compare", require_live=True)
    assert rc != 0
    assert "ConfigMap %s/apisix (apisix.yaml) does not end with #END" % k8s_namespace in compared["msg"]
    assert SECRET not in output


def test_no_configmap_in_the_namespace(live_setup, k8s_namespace):
    _values, step = live_setup
    rc, output, compared = step("compare", selector=[])  # nothing installed in this namespace
    assert rc == 0, output
    assert compared["configmap_found"] is False and compared["end_marker"] is None
    assert [route["live"] for route in compared["routes"]] == ["missing"] * 3
    rc, output, compared = step("compare", require_live=True, selector=[])
    assert rc != 0 and "there is no ConfigMap %s/apisix in the cluster" % k8s_namespace in compared["msg"]


def test_the_test_chart_renders_like_the_cx_chart(k8s_cluster, tmp_path):
    """The chart renders apisixStandalone (all of it) through tpl into ConfigMap apisix, key apisix.yaml, ending
    with #END that the values file does not have."""
    values = tmp_path / "values.yaml"
    with open(VALUES, encoding="utf-8") as handle:
        text = handle.read()
    assert "#END" not in text and '"{{ .Values.global.ingressRouter }}"' in text
    values.write_text(
        text + "\n  services:\n    - id: svc-orders\n      upstream: {nodes: {'orders:8080': 1}}\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [k8s_cluster["helm"], "template", "apisix", CHART, "--namespace", "ef-external", "--values", str(values)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    documents = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    assert [(doc["kind"], doc["metadata"]["name"]) for doc in documents] == [("ConfigMap", "apisix")]
    data = documents[0]["data"]["apisix.yaml"]
    assert data.endswith("\n#END\n") and data.count("#END") == 1
    standalone = yaml.safe_load(data)
    assert sorted(standalone) == ["routes", "services"]
    assert {host for route in standalone["routes"] for host in route["hosts"]} == {"gateway.tenant.example"}
    assert standalone["services"][0]["upstream"] == {"nodes": {"orders:8080": 1}}

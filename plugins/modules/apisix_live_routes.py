#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: apisix_live_routes
short_description: Compare the openid-connect routes a Helm chart renders with the ConfigMap the cluster holds
version_added: 0.1.0
description:
  - For an APISIX gateway deployed by Helm in standalone mode (the CX C(apisix) chart renders C(apisixStandalone) from
    the values file into a ConfigMap key C(apisix.yaml) that APISIX reads), tells per selected route whether the
    gateway's ConfigMap holds what the chart renders from the values file, comparing the route's C(openid-connect)
    block (present or absent, and its config; other plugins are not compared).
  - Takes what the ecosystem's modules return, it calls no cluster itself. O(rendered) is the C(stdout) of
    C(kubernetes.core.helm_template) for the release's chart, version and values files (the chart renders the
    values through C(tpl), so rendered values are compared); O(live) is the ConfigMap C(kubernetes.core.k8s_info)
    reads from the cluster.
  - "Per route, RV(routes[].live) is V(live) (the live ConfigMap holds the route with the same block, or both have
    none), V(stale) (the route is live with another block; RV(routes[].differs) names the key paths that differ,
    never a value) or V(missing) (the route is not in the live ConfigMap, or there is no ConfigMap)."
  - The live ConfigMap is also checked for the C(#END) marker (APISIX reloads only a file that ends with it) and for
    being the release's (label C(app.kubernetes.io/managed-by=Helm), annotation C(meta.helm.sh/release-name) equal
    to O(release_name) and, when known, C(meta.helm.sh/release-namespace) equal to O(release_namespace)).
  - Read-only. With O(require_live), fails when a selected route is not live, the live ConfigMap lacks C(#END), is
    not the release's, or is not there, naming the ConfigMap, the release, the route ids and the key paths that
    differ; the result is returned also then.
  - Neither document is returned, only route ids, states and key paths; the message is masked with the collection's
    masking (client secrets and other credentials never appear).
  - O(route_selector) sees the C(openid-connect) blocks of both documents (the rendered file has no commented-out
    block; a block that is live but no longer rendered counts too). Exact ids and patterns in O(routes) are matched
    against the routes the chart renders.
author:
  - CX platform engineering (@cx-platform-engineering)
requirements:
  - PyYAML (on the host that runs the module).
options:
  rendered:
    description:
      - The manifests the release's chart renders from the values file, as multi-document YAML (the C(stdout) of
        C(kubernetes.core.helm_template) with the release's chart, version, namespace and values files).
      - Holds the route credentials; not logged.
    type: str
    required: true
  live:
    description:
      - The live ConfigMap as C(kubernetes.core.k8s_info) returns it, one item of its C(resources) or the list
        itself; empty (V([]), V({}) or V(null)) when the cluster has none.
      - Holds the route credentials; the module never returns or logs it (it runs with logging off, and its
        invocation shows the value masked).
    type: raw
  configmap_name:
    description:
      - Name of the ConfigMap the chart renders C(apisixStandalone) into (the one in O(rendered) and O(live)).
    type: str
    default: apisix
  configmap_key:
    description:
      - Key of that ConfigMap holding the standalone configuration (top-level C(routes)).
    type: str
    default: apisix.yaml
  release_name:
    description:
      - The Helm release that must have rendered the live ConfigMap.
    type: str
    required: true
  release_namespace:
    description:
      - The release's namespace. Used in messages and checked against the ConfigMap's
        C(meta.helm.sh/release-namespace) annotation.
      - Default is the namespace of the live ConfigMap (or of the rendered one).
    type: str
  require_live:
    description:
      - V(true) fails unless every selected route is V(live) and the live ConfigMap exists, ends with C(#END) and was
        rendered by O(release_name).
      - V(false) only reports.
    type: bool
    default: false
extends_documentation_fragment:
  - cx.api_auth.apisix_route_selection
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Only compares its inputs; runs the same in check mode, never changes anything.
  diff_mode:
    support: none
  platform:
    platforms: posix
  action_group:
    support: full
    membership:
      - cx.api_auth.apisix
notes:
  - A gateway without Kubernetes (a standalone C(conf/apisix.yaml) on a host) needs no such check, APISIX reloads the
    file itself; M(cx.api_auth.apisix_oidc_check) checks it.
  - The ConfigMap is the last thing this module can see; it claims nothing about the pods (the kubelet syncs a
    ConfigMap mounted as a directory and APISIX re-reads it).
seealso:
  - module: cx.api_auth.apisix_route_oidc
  - module: cx.api_auth.apisix_oidc_check
  - module: kubernetes.core.helm_template
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Render the chart from the values file
  kubernetes.core.helm_template:
    binary_path: /usr/local/bin/helm
    chart_ref: expertflow/apisix
    chart_version: "{{ apisix_chart_version }}"
    release_name: apisix
    release_namespace: ef-external
    release_values: {}
    values_files:
      - /opt/cx/helm-values/apisix-values.yaml
  register: apisix_rendered
  no_log: true
  check_mode: false

- name: Read the gateway's ConfigMap
  kubernetes.core.k8s_info:
    kind: ConfigMap
    name: apisix
    namespace: ef-external
  register: apisix_configmap
  no_log: true

- name: Every secured route must be live
  cx.api_auth.apisix_live_routes:
    rendered: "{{ apisix_rendered.stdout }}"
    live: "{{ apisix_configmap.resources }}"
    release_name: apisix
    release_namespace: ef-external
    route_selector: [openid_connect_block]
    require_live: true
  register: apisix_live
"""

RETURN = r"""
configmap:
  description: The ConfigMap compared, as namespace/name.
  returned: always
  type: str
  sample: ef-external/apisix
configmap_found:
  description: Whether the cluster holds the ConfigMap (O(live) not empty).
  returned: always
  type: bool
  sample: true
end_marker:
  description: Whether the live ConfigMap's O(configmap_key) ends with C(#END); V(null) without a live ConfigMap.
  returned: always
  type: bool
  sample: true
rendered_by_release:
  description: Whether the live ConfigMap carries the marks of release O(release_name); V(null) without one.
  returned: always
  type: bool
  sample: true
data_in_sync:
  description:
    - Whether the live O(configmap_key) is byte for byte what the chart renders (all routes, all plugins); V(null)
      without a live ConfigMap.
  returned: always
  type: bool
  sample: false
routes_selected:
  description: IDs of the routes compared, in the order of O(routes) then of the rendered file.
  returned: always
  type: list
  elements: str
  sample: [orders-main, files-main]
routes:
  description: The comparison per selected route.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Route ID.
      type: str
      sample: orders-main
    live:
      description: V(live), V(stale) or V(missing).
      type: str
      sample: stale
    differs:
      description:
        - Key paths of the C(openid-connect) block that differ between the chart and the cluster (V(stale) only),
          with C((not live)) or C((live only)) for a key or block on one side only. Never a value.
      type: list
      elements: str
      sample: [client_secret, required_scopes]
    rendered_block:
      description: The C(openid-connect) block the chart renders, V(present), V(disabled) (C(_meta.disable)) or
        V(absent).
      type: str
      sample: present
    live_block:
      description: The same in the live ConfigMap; V(null) for a V(missing) route.
      type: str
      sample: absent
not_live:
  description: IDs of the selected routes that are not V(live).
  returned: always
  type: list
  elements: str
  sample: [orders-main]
problems:
  description: What is wrong with the live ConfigMap itself (none, no C(#END), not the release's, not parsable).
  returned: always
  type: list
  elements: str
  sample: ["ConfigMap ef-external/apisix (apisix.yaml) does not end with #END: APISIX does not load it"]
msg:
  description: One line, the counts per state and what is not live. Never holds a secret.
  returned: always
  type: str
  sample: "ConfigMap ef-external/apisix of release 'apisix': 2 route(s) compared: 1 live, 1 stale, 0 missing; ..."
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import live, masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import HAS_YAML
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.selectors import SELECTION_ARGUMENT_SPEC
from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module

_DOCUMENTS = ("rendered", "live")


def main():
    """Run the module."""
    argument_spec = dict(
        rendered=dict(type="str", required=True, no_log=True),
        # Not no_log: Ansible would then mask every string of the ConfigMap (its name, namespace, labels)
        # wherever it appears in the result. It is kept out of the result and the log instead (below).
        live=dict(type="raw", no_log=False),
        configmap_name=dict(type="str", default="apisix"),
        configmap_key=dict(type="str", default="apisix.yaml", no_log=False),
        release_name=dict(type="str", required=True),
        release_namespace=dict(type="str"),
        require_live=dict(type="bool", default=False),
    )
    argument_spec.update(SELECTION_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("routes", "route_selector")],
        no_log=True,  # no syslog/journal entry with the arguments: O(live) holds the credentials
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    # The documents go to the comparison only: the module's own params (which Ansible may return as the
    # invocation) hold a placeholder instead.
    params = dict(module.params)
    module.params.update({name: "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" for name in _DOCUMENTS})

    def runner(_params, check_mode, diff, warn):
        return live.run(params, check_mode, diff, warn)

    run_module(module, runner, "Comparing the rendered routes with the live ConfigMap", scrub=masking.mask_urls)


if __name__ == "__main__":
    main()

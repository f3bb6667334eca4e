#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: api_auth_report
short_description: Write the report of a run - every tenant and route - as JSON, Markdown, JUnit XML and HTML
version_added: 0.1.0
description:
  - Writes C(report.json), C(report.md), C(report.xml) (JUnit, one test case per tenant and per route) and
    C(report.html) (one self-contained page) into the directory O(dest), from what the plays of a run
    registered per inventory host (O(hosts)). Run it on the controller, as C(playbooks/report.yml) does.
  - Per tenant (realm, Keycloak URL, Keycloak and APISIX versions) and per route (id, URI and hosts when known,
    state V(secured), V(open) or V(failed), the check's reason, the live state when given, what to do);
    the tenant's Keycloak facts (audience mapper present and as the guide says, customer user enabled and
    verified, its roles) when given; a tenant that failed appears with its error.
  - The places of the tenant's CX values files (file, key path, line, role, component, state, never a value) when
    given, with a warning when the C(cim) secret is the CX charts' published default, a place differs or the customer
    widget's token request was refused.
  - Failures first, in the tables and in the order of the tenants.
  - The four files are replaced as one set. Each new file is first written to a temporary file beside it; if
    one cannot be written, nothing of the previous report changes. The previous report is kept as
    C(report.json.prev), C(report.md.prev), C(report.xml.prev) and C(report.html.prev).
  - No secret is ever written or returned. Every string passes through the collection's masking unit, which
    replaces the values of O(secrets) and the credentials of any URL; only the keys documented under O(hosts)
    are read from a registered result.
author:
  - CX platform engineering (!UNKNOWN)
options:
  dest:
    description:
      - The report directory, created when missing.
      - Give an absolute path, as C(playbooks/report.yml) does (C(cx-api-auth-report) in the directory
        C(ansible-playbook) is started in). A relative one is relative to the module's working directory, which
        for a local connection is the playbook's directory. RV(dest) returns the absolute path.
    type: path
    required: true
  hosts:
    description:
      - One entry per inventory host, as C(playbooks/report.yml) gathers it from C(hostvars) (the facts contract
        is in that playbook's header). A host in group C(keycloak_admin), or with C(keycloak), is a
        tenant; a gateway host belongs to the tenant of the same host, of C(keycloak_host), or of the
        same realm. Hosts in neither group and without results are left out.
      - "Keys read: C(name), C(groups), C(keycloak_realm), C(keycloak_url), C(client_id), C(mapper_name),
        C(customer_username), C(customer_roles), C(keycloak_version), C(gateway_realm), C(gateway_keycloak_url),
        C(keycloak_host), C(apisix_version), C(verify) (a registered M(cx.api_auth.apisix_oidc_check) result),
        C(apply) (a registered M(cx.api_auth.apisix_route_oidc) result), C(live) (a registered
        M(cx.api_auth.apisix_live_routes) result), C(keycloak) (a dict with C(mapper), a registered
        M(cx.api_auth.keycloak_audience_mapper) result, and C(user), a registered
        M(cx.api_auth.keycloak_customer_user) result), C(cx_values) (a dict with C(check), a registered
        M(cx.api_auth.cx_values_credentials_info) result, C(login), C(accepted) and C(msg) of the customer widget's
        token request, and C(sync), a registered M(cx.api_auth.cx_values_credentials) result; each optional),
        C(error) (a string or a failed result) and C(failed) (the host failed or was unreachable in the run)."
      - A tenant without any result, and not marked failed, appears failed with the error that the run stopped
        before its steps ended. A host given twice counts once, with its last entry.
      - A route's URI and hosts are the C(uris) and C(hosts) of its entry in C(verify) (or C(uri)/C(host) of
        an entry that has them).
    type: list
    elements: dict
    default: []
  secrets:
    description:
      - Values that must never appear in the report or the result (passwords, client secrets, keys, tokens).
        They are replaced wherever they appear, in any field.
    type: list
    elements: str
    default: []
  started_at:
    description: When the run started (shown in the report), for example C(ansible_date_time.iso8601) of the first play.
    type: str
  playbook:
    description: The playbook that ran (shown in the report), for example V(verify).
    type: str
  keep_previous:
    description: Keep the files of the previous report as C(<file>.prev).
    type: bool
    default: true
notes:
  - Runs on the controller (C(delegate_to) V(localhost) or a play on V(localhost)). Check mode writes nothing
    and says what would be written.
  - The module changes only the four report files and their C(.prev) copies in O(dest).
seealso:
  - module: cx.api_auth.apisix_oidc_check
"""

EXAMPLES = r"""
- name: Report of the run, on the controller
  cx.api_auth.api_auth_report:
    dest: /var/tmp/cx-api-auth-report
    playbook: verify
    hosts:
      - name: acme
        groups: [keycloak_admin, apisix_gateway]
        keycloak_realm: acme
        keycloak_url: https://sso.example.com/auth
        apisix_version: "3.11"
        verify: "{{ hostvars['acme'].cx_api_auth_verify_result }}"
    secrets:
      - "{{ keycloak_api_auth_customer_password }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
dest:
  description: The absolute path of the report directory.
  returned: always
  type: str
  sample: /home/installer/cx-api-auth-report
files:
  description: The path of each file of the report (written, or that would be in check mode).
  returned: always
  type: dict
  sample:
    report.json: /home/installer/cx-api-auth-report/report.json
    report.md: /home/installer/cx-api-auth-report/report.md
    report.xml: /home/installer/cx-api-auth-report/report.xml
    report.html: /home/installer/cx-api-auth-report/report.html
summary:
  description: Counts of the report.
  returned: always
  type: dict
  sample: {tenants: 3, tenants_failed: 1, routes: {secured: 5, open: 1, failed: 1}}
tenants:
  description: One line per tenant, failed tenants first.
  returned: always
  type: list
  elements: str
  sample: ["acme (realm acme): 2 route(s) secured, 0 open, 1 failed"]
msg:
  description: What was written (or would be in check mode), and where.
  returned: always
  type: str
  sample: >-
    Wrote the report of 3 tenant(s) (1 failed): 5 route(s) secured, 1 open, 1 failed to
    /home/installer/cx-api-auth-report (report.json, report.md, report.xml, report.html)
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cx.api_auth.plugins.module_utils._report import runner
from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            hosts=dict(type="list", elements="dict", default=[]),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            started_at=dict(type="str"),
            playbook=dict(type="str"),
            keep_previous=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    run_module(
        module,
        functools.partial(runner.run, hide=module.no_log_values.add),
        "Writing the report to %s" % module.params["dest"],
    )


if __name__ == "__main__":
    main()

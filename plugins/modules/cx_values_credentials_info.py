#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cx_values_credentials_info
short_description: Check the CX values files against the customer widget's credentials and the cim secret
version_added: 0.1.0
description:
  - Reads the given CX Helm values files (Core, QM, CiscoSyncService, Eleveo, the gateway's routes) and finds, by
    key, every place that carries the password of the user the customer widget logs in as
    (C(KEYCLOAK_USERNAME_CUSTOMER) / C(KEYCLOAK_PASSWORD_CUSTOMER) of web-channel-manager) or the secret of the
    C(cim) client (C(KEYCLOAK_CREDENTIALS) as JSON inside a string, C(SECRET), C(clientSecret), the routes'
    C(client_secret), ...).
  - Compares each value locally with O(customer_username), O(customer_password) and O(cim_secret) and reports each
    place as V(same), V(differs) or V(not found), with file, key path and line. Never logs in with a value read
    from a file.
  - Places whose role no public source shows (C(KEYCLOAK_CLIENT_DB_ID) of QM, C(CLIENT_DB_ID) of
    CiscoSyncService) are reported as V(unknown) and never compared as a secret.
  - Warns, and sets RV(published_default), when O(cim_secret) is the default the CX charts and docs publish.
  - Writes nothing; no value read or given appears in the result.
author:
  - CX platform engineering (!UNKNOWN)
options:
  files:
    description:
      - The CX values files to check (paths on the host the module runs on).
    type: list
    elements: path
    required: true
  customer_username:
    description:
      - The customer widget's user name as the inventory gives it; the files' user name is compared with it.
    type: str
  customer_password:
    description:
      - The customer widget user's password as the inventory gives it; the files' password is compared with it.
    type: str
  cim_secret:
    description:
      - The secret of the C(cim) client as Keycloak holds it (the
        RV(cx.api_auth.keycloak_client_secret_info#module:client_secret) of M(cx.api_auth.keycloak_client_secret_info)).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    support: N/A
    details: Changes nothing, so there is no diff.
  platform:
    platforms: posix
  action_group:
    support: full
    membership:
      - cx.api_auth.cx
notes:
  - The key paths name list entries by their C(name)
    (V(web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value)) and a key of JSON inside a string in
    braces (V(efConnectionVars.KEYCLOAK_CREDENTIALS{secret})).
  - A value that is a Helm template (C({{ ... }})) is reported as V(unknown), not compared.
seealso:
  - module: cx.api_auth.keycloak_client_secret_info
  - module: cx.api_auth.keycloak_customer_user
"""

EXAMPLES = r"""
- name: Read the cim secret (never printed)
  cx.api_auth.keycloak_client_secret_info:
    auth_keycloak_url: https://sso.example.com/auth
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
  register: cim
  no_log: true

- name: Check the tenant's values files
  cx.api_auth.cx_values_credentials_info:
    files:
      - /srv/cx/helm-values/ef-cx-custom-values.yaml
      - /srv/cx/helm-values/qm-custom-values.yaml
    customer_username: customer
    customer_password: "{{ vault_customer_password }}"
    cim_secret: "{{ cim.client_secret }}"
  register: values_check

- name: Every place is in step
  ansible.builtin.assert:
    that: values_check.in_step
    fail_msg: "{{ values_check.places | selectattr('status', 'eq', 'differs') | map(attribute='path') | list }}"
"""

RETURN = r"""
places:
  description: Every place found (and one V(not found) entry per role no file carries); never a value.
  returned: success
  type: list
  elements: dict
  contains:
    file:
      description: The values file (null for a role no file carries).
      type: str
    path:
      description: The key path.
      type: str
      sample: web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value
    line:
      description: The line of the value (1-based).
      type: int
    role:
      description: V(cim_secret), V(customer_username), V(customer_password) or V(unknown).
      type: str
    component:
      description: The CX component that reads the place, as the table in the collection names it.
      type: str
    source:
      description: The public source the table's row was read from.
      type: str
    status:
      description: V(same), V(differs), V(not found) or V(unknown).
      type: str
    note:
      description: Why a place is V(unknown) or V(not found), when there is more to say.
      type: str
  sample:
    - file: /srv/cx/ef-cx-custom-values.yaml
      path: web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value
      line: 42
      role: customer_password
      component: web-channel-manager
      source: issue 22
      status: differs
      note: null
counts:
  description: The number of places per status.
  returned: success
  type: dict
  sample: {"same": 3, "differs": 1, "not found": 0, "unknown": 2}
published_default:
  description: Whether O(cim_secret) is the default the CX charts and docs publish.
  returned: success
  type: bool
in_step:
  description: Whether no place differs and every role was found.
  returned: success
  type: bool
"""

from ansible_collections.cx.api_auth.plugins.module_utils._cx import values_check
from ansible_collections.cx.api_auth.plugins.module_utils._cx.module import run_values_module


def main():
    """Run the module."""
    run_values_module(values_check.run, "Checking the CX values files")


if __name__ == "__main__":
    main()

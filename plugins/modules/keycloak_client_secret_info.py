#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keycloak_client_secret_info
short_description: Read a Keycloak client's secret, or check a given one against it
version_added: 0.1.0
description:
  - Reads the secret of a confidential client (by default C(cim), the client the API gateway introspects tokens
    with) from Keycloak, so that it never has to be copied into an inventory by hand.
  - With O(client_secret), compares the given secret with the one Keycloak holds instead and fails when they
    differ, naming realm and client and printing neither secret. A stale copy of the secret then never reaches
    the gateway's routes.
  - Reads the realm's discovery document through O(auth_keycloak_url) and returns what a caller needs to check
    another URL of the same server, such as the one the gateway reaches Keycloak by (RV(base_path),
    RV(issuer)); with O(compare_url), says whether that URL has the path the realms are served under.
  - "Writes nothing. The secret is returned in RV(client_secret): run the task with C(no_log=true), as the role
    C(cx.api_auth.apisix_api_auth) does, so that Ansible never prints it."
author:
  - CX platform engineering (!UNKNOWN)
options:
  client_secret:
    description:
      - A secret to check instead of returning Keycloak's. When it differs from the secret Keycloak holds for
        the client, the module fails, naming realm and client, never either secret.
      - "Must be text; a number (unquoted digits in YAML) is refused, never converted."
    type: raw
  compare_url:
    description:
      - Another base URL of the same Keycloak, for example the one the API gateway reaches it by
        (V(http://keycloak.ef-external.svc/auth)), whose host this machine need not resolve; it is never
        contacted.
      - Its path is compared with the path of O(auth_keycloak_url), under which this module has just reached
        the realm; RV(compare_url_path_ok) and RV(compare_url_fixed) give the verdict and the URL with the
        working path. The module does not fail on a mismatch, since a proxy between the two may really rewrite
        the path; the caller decides.
    type: str
extends_documentation_fragment:
  - cx.api_auth.keycloak_client
  - cx.api_auth.keycloak
  - cx.api_auth.keycloak.module
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    support: N/A
    details: Changes nothing, so there is no diff.
notes:
  - The admin needs the C(view-clients) role of C(realm-management) in O(realm) (or the master realm's C(admin)).
  - A public or disabled client, or one that authenticates with a signed JWT or a certificate instead of a secret, is
    refused with the setting to change, as the gateway's introspection cannot work with it.
seealso:
  - module: cx.api_auth.apisix_route_oidc
  - module: cx.api_auth.apisix_oidc_check
"""

EXAMPLES = r"""
- name: Read the secret of client cim (never printed)
  cx.api_auth.keycloak_client_secret_info:
    auth_keycloak_url: https://sso.example.com/auth
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    compare_url: http://keycloak.ef-external.svc/auth
  register: cim
  no_log: true

- name: The gateway's Keycloak URL has the path Keycloak serves realms under
  ansible.builtin.assert:
    that: cim.compare_url_path_ok
    fail_msg: "use {{ cim.compare_url_fixed }} as the gateway's Keycloak URL"

- name: Fail when the vault holds a stale copy of the secret
  cx.api_auth.keycloak_client_secret_info:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    client_secret: "{{ vault_cim_client_secret }}"
"""

RETURN = r"""
client_secret:
  description:
    - The client's secret as Keycloak holds it. Register the result in a task with C(no_log=true).
  returned: success, when O(client_secret) is not given
  type: str
  sample: "********"
client_secret_source:
  description: V(keycloak) when the secret was read and returned, V(compared) when the given one was checked.
  returned: success
  type: str
  sample: keycloak
client_uuid:
  description: The internal id of the client.
  returned: success
  type: str
  sample: 505a3bdd-cfad-48b7-8dab-c384f1f8a380
base_path:
  description:
    - The path of O(auth_keycloak_url) without trailing slash, under which the realm was reached
      (V("") for a server at the root, V(/auth) for the legacy path).
  returned: success
  type: str
  sample: /auth
realm_url:
  description: The realm's URL through O(auth_keycloak_url) (without credentials).
  returned: success
  type: str
  sample: https://sso.example.com/auth/realms/expertflow
issuer:
  description: The C(issuer) of the realm's discovery document read through O(auth_keycloak_url).
  returned: success
  type: str
  sample: https://sso.example.com/auth/realms/expertflow
compare_url_path_ok:
  description: Whether the path of O(compare_url) is RV(base_path) (trailing slashes do not count).
  returned: success, when O(compare_url) is given
  type: bool
  sample: false
compare_url_fixed:
  description: O(compare_url) with its scheme and host and the path RV(base_path).
  returned: success, when O(compare_url) is given
  type: str
  sample: http://keycloak.ef-external.svc
msg:
  description:
    - One line saying what the module found, naming the client and the realm; with O(compare_url),
      whether that URL has the server's base path (else the URL to use). Never holds the secret.
  returned: always
  type: str
  sample: "Read the secret of client 'cim' in realm 'expertflow'"
"""

from functools import partial

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import client_secret
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import (
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    keycloak_argument_spec,
)
from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module


def argument_spec():
    """The connection options and this module's own, as documented above."""
    return keycloak_argument_spec(
        realm=dict(type="str", required=True),
        client_id=dict(type="str", default="cim"),
        client_secret=dict(type="raw", no_log=True),
        compare_url=dict(type="str", no_log=False),
    )


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
    )
    what = client_secret.target(module.params)
    connection = KeycloakConnection(module.params, module.params["realm"], what)
    run_module(module, partial(client_secret.run, connection), "Reading " + what, scrub=connection.scrub)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keycloak_client_secret
short_description: Regenerate a Keycloak client's secret when it is the published default (or a given one)
version_added: 0.1.0
description:
  - Regenerates the secret of a confidential client (by default C(cim)) in Keycloak, as the console's
    B(Clients > cim > Credentials > Regenerate) does, but only when the state asks for it, so that a rerun changes
    nothing.
  - With O(state=rotated_from_default), the secret is regenerated when it is the default the CX charts and docs
    publish (C(ef61df80-...)); once it is not, the module keeps it.
  - With O(state=rotated_from), the secret is regenerated when it is O(rotate_from) (a secret known to have
    leaked, the generation an installer wants gone); once it is not, the module keeps it.
  - With O(state=regenerated) and O(force=true), the secret is regenerated on every run (never idempotent).
  - Every copy of the old secret (the CX values files, the gateway's routes) stops working at once; write the new
    one with M(cx.api_auth.cx_values_credentials) and apply the releases. The secret is returned only with
    O(return_secret=true).
author:
  - CX platform engineering (!UNKNOWN)
options:
  state:
    description:
      - V(rotated_from_default) regenerates the secret when it is the CX charts' published default.
      - V(rotated_from) regenerates it when it is O(rotate_from).
      - V(regenerated) regenerates it on every run; it needs O(force=true).
    type: str
    choices: [rotated_from_default, rotated_from, regenerated]
    default: rotated_from_default
  rotate_from:
    description:
      - The secret to rotate away from, for O(state=rotated_from) (required then, refused otherwise). Never
        printed.
      - "Must be text; a number (unquoted digits in YAML) is refused, never converted."
    type: raw
  force:
    description:
      - Must be V(true) for O(state=regenerated), which changes the secret on every run.
    type: bool
    default: false
  return_secret:
    description:
      - Return the secret Keycloak holds after the run in RV(client_secret) (and the one before a regeneration in
        RV(previous_client_secret)). Register the result in a task with C(no_log=true).
    type: bool
    default: false
extends_documentation_fragment:
  - cx.api_auth.keycloak_client
  - cx.api_auth.keycloak
  - cx.api_auth.keycloak.module
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - Reads the secret and says whether it would be regenerated; sends nothing else. RV(client_secret) is not
        returned when a regeneration is predicted (the new secret does not exist yet).
  diff_mode:
    support: none
    details: A secret has no diff that could be shown.
notes:
  - The admin needs the C(view-clients) and C(manage-clients) roles of C(realm-management) in O(realm) (or the
    master realm's C(admin)).
  - A public or disabled client, or one that authenticates with a signed JWT or a certificate instead of a secret,
    is refused with the setting to change.
  - A regeneration whose answer was lost is read back, never sent twice.
seealso:
  - module: cx.api_auth.keycloak_client_secret_info
  - module: cx.api_auth.cx_values_credentials
"""

EXAMPLES = r"""
- name: Rotate the cim secret away from the published default
  cx.api_auth.keycloak_client_secret:
    auth_keycloak_url: https://sso.example.com/auth
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    return_secret: true
  register: cim
  no_log: true

- name: Write the new secret into every place of the values files
  cx.api_auth.cx_values_credentials:
    files: "{{ cx_values_files }}"
    cim_secret: "{{ cim.client_secret }}"
    previous_cim_secret: "{{ cim.previous_client_secret | default(omit) }}"

- name: Rotate away from a secret that leaked (once)
  cx.api_auth.keycloak_client_secret:
    auth_keycloak_url: https://sso.example.com/auth
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    state: rotated_from
    rotate_from: "{{ vault_leaked_cim_secret }}"
"""

RETURN = r"""
msg:
  description: One line saying whether the secret was regenerated (or would be), naming client and realm.
  returned: always
  type: str
  sample: Regenerated the secret of client 'cim' in realm 'expertflow' (it was the published default)
client_uuid:
  description: The internal id of the client.
  returned: success
  type: str
  sample: 505a3bdd-cfad-48b7-8dab-c384f1f8a380
published_default_before:
  description: Whether the secret was the CX charts' published default before the run.
  returned: success
  type: bool
published_default:
  description: Whether the secret is the published default after the run (in check mode, before it).
  returned: success
  type: bool
client_secret:
  description:
    - The secret Keycloak holds after the run. Register the result in a task with C(no_log=true).
  returned: success with O(return_secret=true), but not in check mode when a regeneration is predicted
  type: str
  sample: "********"
previous_client_secret:
  description: The secret before the regeneration.
  returned: when the secret was regenerated with O(return_secret=true)
  type: str
  sample: "********"
"""

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import client_secret_rotation
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.module import run_keycloak_module
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import keycloak_argument_spec


def argument_spec():
    """The connection options and this module's own, as documented above."""
    return keycloak_argument_spec(
        realm=dict(type="str", required=True),
        client_id=dict(type="str", default="cim"),
        state=dict(type="str", default="rotated_from_default", choices=list(client_secret_rotation.STATES)),
        rotate_from=dict(type="raw", no_log=True),
        force=dict(type="bool", default=False),
        return_secret=dict(type="bool", default=False, no_log=False),
    )


def main():
    """Run the module."""
    run_keycloak_module(argument_spec(), client_secret_rotation, "Regenerating")


if __name__ == "__main__":
    main()

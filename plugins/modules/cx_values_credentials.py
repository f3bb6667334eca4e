#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cx_values_credentials
short_description: Keep the CX values files in step with the customer widget's credentials and the cim secret
version_added: 0.1.0
description:
  - Finds, by key, every place of the given CX Helm values files that carries the customer widget user's name or
    password or the secret of the C(cim) client, the same places as M(cx.api_auth.cx_values_credentials_info)
    reports, and rewrites each one whose value differs from O(customer_username), O(customer_password) or
    O(cim_secret).
  - The edit is surgical. Only the characters of the value change, in the value's own quoting style; for JSON inside
    a string (C(KEYCLOAK_CREDENTIALS{secret})) only the key's value inside the string changes, its quoting and
    escaping kept. Comments, order, indentation and every other byte of the file stay as they were. The new text
    is parsed again before anything is written.
  - The files are written as a set. Each file is checked (a file without any write permission bit is taken as
    read-only on purpose, also for root) and written to a temporary file beside it first, and only then is each
    renamed over its file. A failure names the file and says which files were rewritten and which generation
    each place now holds (V(new), V(previous), V(other)), never a value; a rerun rewrites what is left.
  - Places whose role no public source shows (C(KEYCLOAK_CLIENT_DB_ID) of QM, C(CLIENT_DB_ID) of CiscoSyncService,
    a value outside the table that holds the secret) are reported and left as they are, unless their key path is
    listed in O(rewrite_unknown). A value that is a Helm template (C({{ ... }})) is never rewritten.
  - Warns, and sets RV(published_default), when O(cim_secret) is the default the CX charts and docs publish.
  - Applying the releases the files belong to is not this module's job.
author:
  - CX platform engineering (!UNKNOWN)
options:
  files:
    description:
      - The CX values files to keep in step (paths on the host the module runs on), each once.
    type: list
    elements: path
    required: true
  customer_username:
    description:
      - The customer widget's user name; places of role C(customer_username) that differ get it.
      - Not given, those places are reported and not rewritten (the same for the two options below).
    type: str
  customer_password:
    description:
      - The customer widget user's password; places of role C(customer_password) that differ get it.
    type: str
  cim_secret:
    description:
      - The secret of the C(cim) client as Keycloak holds it (read with M(cx.api_auth.keycloak_client_secret_info)
        or returned by M(cx.api_auth.keycloak_client_secret)); places of role C(cim_secret) that differ get it.
    type: str
  previous_cim_secret:
    description:
      - The secret of the C(cim) client before a rotation. It is never written; it lets RV(places[].generation)
        tell V(previous) from V(other), and a value outside the table that holds it is reported.
    type: str
  rewrite_unknown:
    description:
      - Key paths of places of unknown role that the installer opts in to have rewritten with O(cim_secret), as
        RV(places[].path) names them (V(qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value)), or patterns
        in which a leading C(**) stands for any leading part (V(**[name=CLIENT_DB_ID].value)).
      - A path that names no place of unknown role raises a warning.
    type: list
    elements: str
    default: []
  backup:
    description:
      - Write a timestamped copy of each file beside it before it is replaced.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details: Writes nothing; the result and the diff are the ones a real run would give.
  diff_mode:
    support: full
    details: Per file, the lines rewritten before and after, every value masked, and a line per place saying it changed.
  platform:
    platforms: posix
  action_group:
    support: full
    membership:
      - cx.api_auth.cx
notes:
  - The key paths name list entries by their C(name) and a key of JSON inside a string in braces, as
    M(cx.api_auth.cx_values_credentials_info) does.
  - The files are replaced by a rename; a file that is a mount point of its own (a ConfigMap subPath) cannot be.
seealso:
  - module: cx.api_auth.cx_values_credentials_info
  - module: cx.api_auth.keycloak_client_secret
  - module: cx.api_auth.keycloak_client_secret_info
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

- name: Keep the tenant's values files in step
  cx.api_auth.cx_values_credentials:
    files:
      - /srv/cx/helm-values/ef-cx-custom-values.yaml
      - /srv/cx/helm-values/qm-custom-values.yaml
      - /srv/cx/helm-values/apisix-custom-values.yaml
    customer_username: customer
    customer_password: "{{ vault_customer_password }}"
    cim_secret: "{{ cim.client_secret }}"
    rewrite_unknown:
      - qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value
    backup: true
  register: values_sync
"""

RETURN = r"""
msg:
  description: One line saying how many places were rewritten in how many files, and how many of unknown role were left.
  returned: always
  type: str
  sample: 3 places rewritten in 2 files, 1 of unknown role left
places:
  description: Every place found, never a value.
  returned: success, and on a failure while writing
  type: list
  elements: dict
  contains:
    file:
      description: The values file.
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
    before:
      description: V(same), V(differs), V(not found) or V(unknown) before the run.
      type: str
    after:
      description: The same after the run (in check mode, what a run would leave).
      type: str
    action:
      description: V(rewritten) (in check mode, would be), V(kept) (already the value) or V(left) (not rewritten).
      type: str
    generation:
      description:
        - What the place holds after the run (on a failure, now) - V(new) (the value given for its role; the
          cim secret for a place of unknown role), V(previous) (O(previous_cim_secret)) or V(other).
        - Null for a Helm template or a JSON string without the key.
      type: str
    note:
      description: Why a place was left, when there is more to say.
      type: str
  sample:
    - file: /srv/cx/ef-cx-custom-values.yaml
      path: web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value
      line: 42
      role: customer_password
      component: web-channel-manager
      source: issue 22
      before: differs
      after: same
      action: rewritten
      generation: new
      note: null
files_changed:
  description: The files rewritten (in check mode, that would be); on a failure, those already rewritten.
  returned: success, and on a failure while writing
  type: list
  elements: str
published_default:
  description: Whether O(cim_secret) is the default the CX charts and docs publish.
  returned: success
  type: bool
backup_files:
  description: File -> its backup, for the files rewritten with O(backup=true).
  returned: when a backup was written
  type: dict
"""

from ansible_collections.cx.api_auth.plugins.module_utils._cx import values_rewrite
from ansible_collections.cx.api_auth.plugins.module_utils._cx.module import run_values_module


def main():
    """Run the module."""
    run_values_module(
        values_rewrite.run,
        "Keeping the CX values files in step",
        previous_cim_secret=dict(type="str", no_log=True),
        rewrite_unknown=dict(type="list", elements="str", default=[]),
        backup=dict(type="bool", default=False),
    )


if __name__ == "__main__":
    main()

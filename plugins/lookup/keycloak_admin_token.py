# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: keycloak_admin_token
short_description: One Keycloak admin access token, for the token option of the Keycloak modules
version_added: 0.1.0
description:
  - Asks the token endpoint of O(auth_realm) on the Keycloak at O(auth_keycloak_url) for an access token with
    a password grant of O(auth_username) (or, without it, a client credentials grant of O(auth_client_id)),
    and returns the access token.
  - Takes the connection options of the Keycloak modules, with the same names, defaults and rules, so that
    one set of variables serves the lookup and the modules.
  - Meant to be obtained once per tenant (C(set_fact) with C(no_log)) and given to every Keycloak
    module of the run as its C(token) option, together with the credentials, so that the modules
    do not log in again; a module whose token has expired logs in with the credentials instead
    (see the role C(cx.api_auth.keycloak_api_auth)).
  - Runs on the controller, which must reach Keycloak. Where only the host that runs the modules
    can, use C(errors='ignore') and leave the token out when there is none; the modules then log
    in themselves.
  - The token, the password and the client secret never appear in a message.
author:
  - CX platform engineering (!UNKNOWN)
extends_documentation_fragment:
  - cx.api_auth.keycloak
options:
  # The lookup's former option names, kept as aliases (url is one of auth_keycloak_url already).
  auth_realm:
    aliases:
      - realm
  auth_username:
    aliases:
      - username
  auth_password:
    aliases:
      - password
  auth_client_id:
    aliases:
      - client_id
  auth_client_secret:
    aliases:
      - client_secret
  connection_timeout:
    aliases:
      - timeout
notes:
  - Keep the result out of the output - C(no_log=true) on the task that stores it.
  - One of O(auth_username) (with O(auth_password)) or O(auth_client_secret) is needed.
seealso:
  - module: cx.api_auth.keycloak_audience_mapper
  - module: cx.api_auth.keycloak_customer_user
"""

EXAMPLES = r"""
- name: One admin token for the Keycloak tasks of this tenant
  ansible.builtin.set_fact:
    keycloak_token: >-
      {{ lookup('cx.api_auth.keycloak_admin_token', auth_keycloak_url=keycloak_url, auth_username='admin',
         auth_password=keycloak_admin_password, errors='ignore') }}
  no_log: true

- name: Audience mapper, with the token and the credentials (used when the token has expired)
  cx.api_auth.keycloak_audience_mapper:
    auth_keycloak_url: "{{ keycloak_url }}"
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    token: "{{ keycloak_token | default(omit, true) }}"
    realm: expertflow
    client_id: cim
"""

RETURN = r"""
_raw:
  description: One element, the access token.
  type: list
  elements: str
"""

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import openid
from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets
from ansible_collections.cx.api_auth.plugins.plugin_utils._keycloak_lookup import KeycloakLookupBase


class LookupModule(KeycloakLookupBase):
    """The ``keycloak_admin_token`` lookup: ``openid.admin_token`` with the modules' connection options.

    The access layer's standard-library transport, not python-keycloak: importing it would cost a tenant's run
    more CPU than the request (see ``_keycloak/openid.py``).
    """

    def run(self, terms, variables=None, **kwargs):
        params = self.connection_params(variables, **kwargs)
        secrets = Secrets((params["auth_password"], params["auth_client_secret"]))
        transport = openid.Transport(params["validate_certs"], params["ca_path"], params["connection_timeout"])
        try:
            return [openid.admin_token(transport, params, secrets)]
        except (ModuleError, openid.TransportError) as exc:
            raise self.failed(exc, secrets) from None

#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keycloak_audience_mapper
short_description: Manage an audience protocol mapper in a Keycloak client's dedicated scope
version_added: 0.1.0
description:
  - Creates, updates or deletes one OpenID Connect audience mapper (C(oidc-audience-mapper),
    "By configuration > Audience" in the admin console), by default C(fix-audience) on the
    dedicated scope of a client, so that the client appears in the C(aud) claim of the
    tokens issued to it.
  - The dedicated scope (C(<client>-dedicated) in the admin console) is not a client scope;
    its mappers are the client's own protocol mappers. With O(client_scope) the mapper goes
    to a realm client scope instead.
  - Only the C(openid-connect) mapper named O(name) is touched. It is created with POST, updated
    in place (PUT on its id) and deleted by id; the client is never rewritten, so other mappers
    are never lost. Mappers are matched by name and protocol - a mapper of that name for another
    protocol (SAML) is left untouched; an C(openid-connect) mapper of that name but of another type
    is an error, never replaced.
  - Compares a normalised configuration (string booleans, empty values dropped), so that
    settings Keycloak adds by itself, or that this module does not manage, never cause a
    change. Works with Keycloak 19 (also under the legacy C(/auth) path) to 26.
  - Unknown realm, client, client scope or audience client, a public or disabled client (see
    O(require_confidential)), a secret given as a number, and a missing admin permission on
    a client, are reported before anything is written (see the notes for client scopes).
author:
  - CX platform engineering (!UNKNOWN)
options:
  realm:
    description:
      - The realm that holds the client (the tenant realm), for example V(expertflow).
      - One plain URL path segment - a value that is empty, V(.) or V(..), or holds C(/), C(\), C(?), C(#),
        C(%), whitespace or a control character is refused before any request.
    type: str
    required: true
  client_id:
    description:
      - The C(clientId) of the client whose dedicated scope gets the mapper, for example
        V(cim) (not the internal id).
      - Exactly one of O(client_id) and O(client_scope) is required.
    type: str
  client_scope:
    description:
      - Name of a realm client scope (protocol C(openid-connect)) that gets the mapper
        instead of a client's dedicated scope.
      - Exactly one of O(client_id) and O(client_scope) is required. With O(client_scope)
        there is no client to default the audience to, so O(included_client_audience) or
        O(included_custom_audience) is required when O(state=present).
    type: str
  name:
    description:
      - Name of the mapper. Identifies it on the client or client scope.
    type: str
    default: fix-audience
  included_client_audience:
    description:
      - The C(clientId) of the client to put into the audience ("Included Client Audience").
      - Must name an existing client of O(realm).
      - Defaults to O(client_id) unless O(included_custom_audience) is given.
    type: str
  included_custom_audience:
    description:
      - A free-text audience ("Included Custom Audience") instead of a client.
      - Mutually exclusive with O(included_client_audience). When set, the mapper has no
        client audience.
    type: str
  add_to_id_token:
    description:
      - Add the audience to the ID token ("Add to ID token"). The guide asks for V(true);
        the admin console defaults to V(false).
    type: bool
    default: true
  add_to_access_token:
    description:
      - Add the audience to the access token ("Add to access token").
    type: bool
    default: true
  add_to_introspection:
    description:
      - Add the audience to the token introspection response ("Add to token introspection").
      - Sent only where the server's audience mapper offers the setting (Keycloak 25 and
        later, read from the server info). On older servers an explicit value is ignored
        with a warning; they include the access token's claims in introspection anyway.
      - When not set, a new mapper gets the server's default (V(true)) and an existing
        mapper keeps its value.
    type: bool
  add_to_lightweight_token:
    description:
      - Add the audience to lightweight access tokens ("Add to lightweight access token").
      - Sent only where the server's audience mapper offers the setting (Keycloak 25 and
        later). On older servers, which have no lightweight tokens, an explicit value is
        ignored with a warning.
      - When not set, a new mapper gets the server's default (V(false)) and an existing
        mapper keeps its value.
    type: bool
  require_confidential:
    description:
      - Refuse to put the mapper on a public client (C(publicClient=true), "Client
        authentication" OFF in the admin console), before anything is written and also in
        check mode. The gateway's C(bearer_only) token introspection authenticates as this
        client with its secret, which a public client does not have, so the guide's setup
        cannot work with one; the message says what to set (Client authentication ON, that
        is a confidential client).
      - A disabled client (C(enabled=false)) is refused the same way - Keycloak issues no token
        through it and refuses the gateway's introspection.
      - Set to V(false) to manage the mapper of a public or disabled client anyway.
      - Applies to O(client_id) with O(state=present) only; a client scope has no client,
        and deleting a mapper is always allowed.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the mapper, V(absent) deletes it (only this mapper).
    type: str
    choices:
      - present
      - absent
    default: present
extends_documentation_fragment:
  - cx.api_auth.keycloak
  - cx.api_auth.keycloak.module
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - Reads everything, predicts RV(ignore:changed) and the diff exactly and returns the
        predicted mapper, including the settings Keycloak adds by itself when it stores a
        mapper (on Keycloak 25 and later an unset C(introspection.token.claim) follows the
        access token flag and C(userinfo.token.claim) the ID token flag; read from the server
        info, where the audience mapper then offers C(introspection.token.claim)); a new mapper
        has no RV(mapper.id) yet. Writes nothing.
  diff_mode:
    support: full
    details:
      - The diff shows the mapper before and after (C({}) when there is none), without its
        C(id), which only the server assigns; it is the same in check mode and in the real
        run.
  platform:
    platforms: all
    details:
      - Runs wherever python-keycloak is installed; talks to Keycloak over HTTP(S).
  action_group:
    support: full
    membership:
      - cx.api_auth.keycloak
notes:
  - The admin needs the C(manage-clients) role of C(realm-management) in O(realm) (or the
    master realm's C(admin)), or a fine-grained C(configure) permission on the client.
    For O(client_id) a missing right is detected from the client's access flags before
    any write, also in check mode; for O(client_scope) Keycloak exposes no such flags and
    a missing right shows as an error (HTTP 403) of the write itself, which then changes
    nothing.
  - Keycloak always puts the requesting client into the C(aud) of the ID token it issues,
    so with the default audience the mapper's visible effect is C(cim) in the C(aud) of
    the access token (which token introspection checks from Keycloak 26.6.2 on).
seealso:
  - name: Keycloak documentation, audience support
    description: How the audience mapper and the C(aud) claim work.
    link: https://www.keycloak.org/docs/latest/server_admin/#audience-support
"""

EXAMPLES = r"""
- name: Step 1 of the guide - fix-audience mapper on the dedicated scope of client cim
  cx.api_auth.keycloak_audience_mapper:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    client_id: cim
  register: audience

- name: Same, for a server under the legacy /auth path, with connection defaults for the group
  module_defaults:
    group/cx.api_auth.keycloak:
      auth_keycloak_url: https://sso.example.com/auth
      auth_username: admin
      auth_password: "{{ keycloak_admin_password }}"
  block:
    - name: Audience in the access token only, not in the ID token
      cx.api_auth.keycloak_audience_mapper:
        realm: expertflow
        client_id: cim
        add_to_id_token: false

- name: Put client cim into the audience of every client that uses the client scope api-audience
  cx.api_auth.keycloak_audience_mapper:
    auth_keycloak_url: https://sso.example.com
    auth_client_id: ansible
    auth_client_secret: "{{ keycloak_ansible_client_secret }}"
    realm: expertflow
    client_scope: api-audience
    name: cim-audience
    included_client_audience: cim

- name: Remove the mapper again (other mappers of the client stay)
  cx.api_auth.keycloak_audience_mapper:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    client_id: cim
    state: absent
"""

RETURN = r"""
mapper:
  description:
    - The mapper as Keycloak stores it after the run; in check mode the predicted state,
      settings Keycloak adds by itself included (a new mapper has no RV(mapper.id) yet).
    - V(null) when there is no mapper (O(state=absent)).
  returned: always
  type: dict
  sample:
    id: 2a79b996-f71d-4cd3-8887-6afe7cd323f2
    name: fix-audience
    protocol: openid-connect
    protocolMapper: oidc-audience-mapper
    consentRequired: false
    config:
      included.client.audience: cim
      id.token.claim: "true"
      access.token.claim: "true"
      introspection.token.claim: "true"
      lightweight.claim: "false"
  contains:
    id:
      description: Id of the mapper.
      type: str
      returned: when the mapper exists
    name:
      description: Name of the mapper.
      type: str
      returned: when the mapper exists
    protocol:
      description: Always C(openid-connect).
      type: str
      returned: when the mapper exists
    protocolMapper:
      description: Always C(oidc-audience-mapper).
      type: str
      returned: when the mapper exists
    consentRequired:
      description: Whether consent is required (not managed by this module).
      type: bool
      returned: when the mapper exists
    config:
      description:
        - The mapper's settings, all values strings. May contain keys the server added by
          itself (for example C(userinfo.token.claim)), which the module leaves alone.
      type: dict
      returned: when the mapper exists
client_uuid:
  description: The internal id of the client O(client_id); V(null) with O(client_scope).
  returned: always
  type: str
  sample: 505a3bdd-cfad-48b7-8dab-c384f1f8a380
client_scope_id:
  description: The internal id of the client scope O(client_scope); V(null) with O(client_id).
  returned: always
  type: str
  sample: 3297f815-5867-4c93-9123-95998a82ae63
msg:
  description:
    - One line saying what the module did (or would do in check mode), naming the mapper, its client or
      client scope and the realm, for an update also the names of the settings it changes (not their
      values); or that the mapper is up to date (already absent).
  returned: always
  type: str
  sample: "Created mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
"""

from functools import partial

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import audience_mapper
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
        client_id=dict(type="str"),
        client_scope=dict(type="str"),
        name=dict(type="str", default="fix-audience"),
        included_client_audience=dict(type="str"),
        included_custom_audience=dict(type="str"),
        add_to_id_token=dict(type="bool", default=True),
        add_to_access_token=dict(type="bool", default=True),
        add_to_introspection=dict(type="bool"),
        add_to_lightweight_token=dict(type="bool"),
        require_confidential=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_one_of=REQUIRED_ONE_OF + [["client_id", "client_scope"]],
        required_together=REQUIRED_TOGETHER,
        mutually_exclusive=[["client_id", "client_scope"], ["included_client_audience", "included_custom_audience"]],
    )
    what = audience_mapper.target(module.params)
    connection = KeycloakConnection(module.params, module.params["realm"], what)
    run_module(module, partial(audience_mapper.run, connection), "Managing " + what, scrub=connection.scrub)


if __name__ == "__main__":
    main()

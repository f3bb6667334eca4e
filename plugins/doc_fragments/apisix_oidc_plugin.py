# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options of the APISIX openid-connect plugin config.
    # The option group OIDC_PLUGIN_ARGUMENT_SPEC of plugins/module_utils/_apisix/plugin_config.py.
    DOCUMENTATION = r"""
options:
  keycloak_url:
    description:
      - Base URL of Keycloak that realms hang off, used to build O(discovery) as
        V(<keycloak_url>/realms/<realm>/.well-known/openid-configuration).
      - Include V(/auth) for Keycloak before version 17 or one started with C(--http-relative-path=/auth), as the
        guide's on-prem example V(http://keycloak.ef-external.svc/auth) does; leave it out otherwise.
      - On-prem and single-tenant gateways reach Keycloak by its service name, not its public FQDN.
      - One of O(keycloak_url) and O(discovery) is required unless O(state=absent); O(discovery) wins when both are set.
    type: str
  realm:
    description:
      - The Keycloak realm (tenant ID) whose tokens the routes accept.
      - Written as the plugin's C(realm), which names the realm in C(WWW-Authenticate) answers, and used to build
        O(discovery).
      - One plain URL path segment - a value that is empty, V(.) or V(..), or holds C(/), C(\), C(?), C(#),
        C(%), whitespace or a control character is refused before any request.
      - Required unless O(state=absent).
    type: str
  discovery:
    description:
      - URL of the OpenID Connect discovery document. Default built from O(keycloak_url) and O(realm).
    type: str
  client_id:
    description:
      - Client ID the gateway introspects tokens with.
    type: str
    default: cim
  client_secret:
    description:
      - Secret of O(client_id). Required by APISIX up to 3.16; from 3.17 only unless O(bearer_only) is used with
        C(public_key), C(use_jwks) or C(private_key_jwt) introspection.
      - Never shown in output, diffs or logs; masked as V(********).
      - An APISIX environment reference such as V(${{CIM_CLIENT_SECRET}}) works in standalone files; mark it C(!unsafe)
        in playbooks so that Ansible does not take it for a Jinja expression.
      - Text only. A number (an unquoted V(0775312) in YAML is one) is refused with a request to quote it, never
        converted, since the conversion would write another secret.
    type: raw
  bearer_only:
    description:
      - Only accept requests carrying a bearer token (API authentication), never redirect to a login page.
      - Without C(use_jwks) or C(public_key), APISIX checks each token at Keycloak's introspection endpoint with
        O(client_id) and O(client_secret).
    type: bool
    default: true
  token_signing_alg_values_expected:
    description:
      - Signing algorithm expected for tokens.
    type: str
    default: RS256
  set_access_token_header:
    description:
      - Pass the access token to the upstream in a header. APISIX's own default is V(true); the guide sets V(false).
    type: bool
    default: false
  set_userinfo_header:
    description:
      - Pass the user info to the upstream in C(X-Userinfo). APISIX's own default is V(true); the guide sets V(false).
    type: bool
    default: false
  audience:
    description:
      - The guide's C(audience) list, written as is. An empty list leaves the key out.
      - Stock APISIX accepts and B(ignores) this key (the module warns). From APISIX 3.12 an audience check exists as
        C(claim_validator.audience), set through O(extra_config); it can require O(client_id) in C(aud), not a list.
    type: list
    elements: str
    default: [cim, account, realm-management]
  required_scopes:
    description:
      - Scopes the access token must carry (APISIX 3.8 and later; answers 403 when one is missing).
        An empty list leaves the key out.
    type: list
    elements: str
    default: [email, profile]
  extra_config:
    description:
      - Any other plugin attribute, merged into the config (nested dictionaries merge key by key), for example
        C(ssl_verify), C(use_jwks), C(unauth_action), C(claim_validator), C(_meta).
      - Attributes with their own option must be set through that option.
      - Credentials (C(session.secret), C(client_rsa_private_key), ...) are refused here, use O(secret_config).
    type: dict
    default: {}
  secret_config:
    description:
      - Plugin attributes that hold credentials, such as C(session.secret) or C(session.redis.password), merged
        like O(extra_config) but never logged.
    type: dict
    default: {}
  apisix_version:
    description:
      - APISIX version of the gateway. The config is checked for it (required keys, types, enums, keys the version
        knows) before anything is written, from APISIX's schema history (2.0 to 3.18).
      - Versions like V(3.11), V(3.11.0) or the image tag V(3.11.0-debian) are accepted.
      - Decides the switch-off flag of O(state=disabled) too (C(_meta.disable) in 3.x, C(disable) in 2.x).
      - Text only. An unquoted V(3.10) in YAML is the number 3.1, so a number is refused with a request to quote it.
    type: raw
    default: '3.11'
"""

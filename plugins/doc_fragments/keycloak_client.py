# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The options of a module that works on one client of a tenant realm (extends_documentation_fragment:
    # cx.api_auth.keycloak_client): realm and client_id, as keycloak_client_secret and keycloak_client_secret_info take
    # them, and the attributes every Keycloak module shares (platform, action group).
    DOCUMENTATION = r"""
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
      - The C(clientId) of the client (not its internal id).
    type: str
    default: cim
attributes:
  platform:
    platforms: all
    details:
      - Runs wherever python-keycloak is installed; talks to Keycloak over HTTP(S).
  action_group:
    support: full
    membership:
      - cx.api_auth.keycloak
"""

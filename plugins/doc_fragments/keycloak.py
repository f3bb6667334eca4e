# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The connection options of the Keycloak modules and of the lookup keycloak_admin_token
    # (extends_documentation_fragment: cx.api_auth.keycloak; the modules add cx.api_auth.keycloak.module): the
    # argument spec keycloak_argument_spec() of plugins/module_utils/_keycloak/options.py, which the lookup reads
    # through plugins/plugin_utils/_keycloak_lookup.py.
    DOCUMENTATION = r"""
options:
  auth_keycloak_url:
    description:
      - URL to the Keycloak instance, for example V(https://sso.example.com) or, for servers
        started with the legacy C(/auth) context path (Keycloak before 17 and many long-lived
        installs), V(https://sso.example.com/auth).
      - A trailing slash is optional.
    type: str
    required: true
    aliases:
      - url
  auth_realm:
    description:
      - Keycloak realm name to authenticate to for API access.
      - The admin user (or client) lives in this realm; the realm the module manages is set
        by the module's own options. Keep V(master) when a master-realm administrator
        manages a tenant realm.
      - One plain URL path segment - a value that is empty, V(.) or V(..), or holds C(/), C(\), C(?), C(#),
        C(%), whitespace or a control character is refused before any request.
    type: str
    default: master
  auth_client_id:
    description:
      - OpenID Connect C(client_id) to authenticate to the API with.
    type: str
    default: admin-cli
  auth_client_secret:
    description:
      - Client Secret to use in conjunction with O(auth_client_id) (if required).
      - Without O(auth_username), the module logs in with the client credentials grant of
        O(auth_client_id), whose service account needs the admin roles.
      - Text only. A value that is not text (for example unquoted digits, which YAML reads as
        a number, with a leading 0 as an octal one) is refused with a message that names the
        option and says to quote it, before anything is sent; it is never converted, which
        would make it another secret. The value is never shown.
    type: raw
  auth_username:
    description:
      - Username to authenticate for API access with.
      - Unlike the community Keycloak modules, there is no alias C(username), so that
        C(module_defaults) for the action group never reach the customer user's C(username).
    type: str
  auth_password:
    description:
      - Password to authenticate for API access with.
      - There is no alias C(password), for the same reason.
      - Text only. A value that is not text (for example unquoted digits, which YAML reads as
        a number, with a leading 0 as an octal one) is refused with a message that names the
        option and says to quote it, before anything is sent; it is never converted, which
        would make it another secret. The value is never shown.
    type: raw
  validate_certs:
    description:
      - Verify TLS certificates (do not disable this in production).
    type: bool
    default: true
  connection_timeout:
    description:
      - Controls the HTTP connections timeout period (in seconds) to Keycloak API.
      - A write (create, update, delete) is never sent twice. One that gets no answer within this time is read
        back - what Keycloak then holds decides whether it was applied; when the read cannot tell, the run fails
        with C(unknown, read back:) and what was read, reporting C(changed).
    type: int
    default: 10
  ca_path:
    description:
      - PEM file with the CA certificate(s) to verify the Keycloak server's TLS certificate
        with, instead of the system's CA bundle.
      - Ignored when O(validate_certs=false).
    type: path
"""

    # The modules' own part: the token handed over (by the lookup), and what they need.
    MODULE = r"""
options:
  token:
    description:
      - Authentication token for Keycloak API.
      - A bearer token obtained beforehand (for example with the lookup
        P(cx.api_auth.keycloak_admin_token#lookup)); used instead of logging in, so the module sends
        no token request. It cannot be renewed when it expires unless credentials are given as
        well; with them, a token that has expired or is rejected is replaced by one login with the
        credentials, and messages name the credentials.
      - Text only. A value that is not text (for example unquoted digits, which YAML reads as
        a number, with a leading 0 as an octal one) is refused with a message that names the
        option and says to quote it, before anything is sent; it is never converted, which
        would make it another secret. The value is never shown.
    type: raw
notes:
  - One of O(token), O(auth_username) (with O(auth_password)) or O(auth_client_secret) is
    required.
  - Expired admin tokens (master-realm tokens may live only one minute) are renewed
    automatically during a run.
requirements:
  - python-keycloak >= 7.0
"""

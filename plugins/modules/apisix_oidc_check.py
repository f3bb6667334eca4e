#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: apisix_oidc_check
short_description: Check the openid-connect routes of APISIX the way the gateway checks a request
version_added: 0.1.0
description:
  - For each route of a standalone route file (Helm values or C(conf/apisix.yaml), O(path)) or of the APISIX Admin
    API (traditional mode, O(admin_url)) that carries an C(openid-connect) block, does with that route's own config
    what APISIX does with C(bearer_only) and token introspection, using a token of the customer user, and reports
    one line per route.
  - "Per route: loads the C(discovery) document; gets a token for O(username) by a password grant (C(scope=openid))
    through the route's C(client_id) and C(client_secret); introspects it at the introspection endpoint with the
    same client and requires C(active: true) (what APISIX answers 401 for otherwise); requires every
    C(required_scopes) entry in its C(scope) (APISIX answers 403 otherwise); requires its signing C(alg) to be one
    of C(token_signing_alg_values_expected); and reports whether the route's C(client_id) is in the token's
    C(aud) (required with O(require_audience))."
  - "A route whose block is commented out, switched off with C(_meta.disable) (C(disable) in APISIX 2.x), or
    missing (a route named in O(routes) without one) is reported V(open). C(enable: false) does not switch the
    plugin off in stock APISIX, so such a block is checked like any other."
  - "Routes are selected and read as M(cx.api_auth.apisix_route_oidc) does (O(routes) with ids and glob patterns,
    O(route_selector)). With O(admin_url), the routes are read from the Admin API with
    C(GET /apisix/admin/routes/{id}) (exact ids in O(routes)) or C(GET /apisix/admin/routes) (patterns, or every
    route with an C(openid-connect) plugin); nothing is written, so the C(viewer) key is enough. 3.x answers and
    2.x envelopes are both understood."
  - "The gateway usually reaches Keycloak by a service name this machine cannot resolve: O(url_map) maps the
    gateway's URL prefixes to ones reachable from here (also the endpoints named in the discovery document)."
  - "APISIX's environment references in the block (C(${{VAR}}), C(${{VAR:=default}})) are resolved from the
    environment of the module; a reference to an unset variable fails that route."
  - The route file or the Admin API is only read. Fails when any checked route fails, naming each route and the
    reason; the report is returned also then. Client secrets, the admin key, the password and the tokens never
    appear in a result or a message.
author:
  - CX platform engineering (!UNKNOWN)
requirements:
  - PyYAML (on the host that runs the module), with O(path).
options:
  path:
    description:
      - The route file, Helm values of a chart in standalone mode or a standalone C(conf/apisix.yaml).
      - Mutually exclusive with O(admin_url); one of the two is required.
    type: path
    aliases: [dest]
  routes_key:
    description:
      - Dotted path of the list of routes in the file, for example V(apisixStandalone.routes).
      - Default is whichever of V(routes) (top level) and V(apisixStandalone.routes) the file has.
      - Only with O(path); refused with O(admin_url).
    type: str
  routes:
    description:
      - IDs of the routes to check, as in M(cx.api_auth.apisix_route_oidc). An exact id must exist in the file or
        on the Admin API (a missing one fails the module); one without an C(openid-connect) block is reported
        V(open).
      - An element with V(*), V(?) or V([) is a glob pattern (Python C(fnmatch), case-sensitive) matched against every
        route id of the file or of the Admin API (listed with C(GET /apisix/admin/routes)), for example V(*-secured).
        A pattern that matches no route fails naming the pattern.
      - The routes checked are the union of these and of O(route_selector), once each, in the order given (a
        pattern's matches and the selector's in the target's order).
      - Without O(routes) and O(route_selector), every route that carries an C(openid-connect) block, active,
        switched off or commented out, is checked (on the Admin API, every listed route with an C(openid-connect)
        plugin); when there is none, the module warns and checks nothing.
    type: list
    elements: str
  route_selector:
    description:
      - Routes picked by what they hold, beside O(routes), as in M(cx.api_auth.apisix_route_oidc).
      - V(openid_connect_block) picks every route of the file that has an C(openid-connect) block, commented out or
        active (enabled or disabled). A selector that matches no route fails.
      - Route files only; refused with O(admin_url), where no block is commented out (use patterns in O(routes)).
    type: list
    elements: str
    choices: [openid_connect_block]
  url_map:
    description:
      - Gateway URL prefix to the URL this machine reaches the same server by, for example
        C(http://keycloak.ef-external.svc/auth) to C(https://sso.example.com/auth).
      - Applied to the route's C(discovery) and C(introspection_endpoint) and to the endpoints of the discovery
        document. The longest matching prefix wins; a prefix matches up to a C(/), C(?) or C(#).
    type: dict
    default: {}
  username:
    description:
      - The user whose token is checked (the guide's customer user).
    type: str
    default: customer
  password:
    description:
      - Password of O(username).
      - "Must be text; a number (unquoted digits in YAML) is refused, never converted."
    type: raw
    required: true
  require_audience:
    description:
      - V(true) fails a route whose C(client_id) is not in the token's C(aud). Keycloak 26.6.2 and later already
        answer C(active=false) at introspection then; older servers let such a token through, and APISIX 3.12 and
        later refuse it only with C(claim_validator.audience). The guide's C(fix-audience) mapper provides the
        audience.
      - V(false) only reports it in RV(routes[].aud_has_client).
    type: bool
    default: true
  require_secured:
    description:
      - V(true) fails a route reported V(open) as well, for a check that the listed O(routes) are protected.
      - V(false) reports open routes without failing (for example after authentication was taken off).
    type: bool
    default: false
  apisix_version:
    description:
      - APISIX version of the gateway, for where the switch-off flag lives (C(_meta.disable) from 3.0).
      - With O(admin_url), an Admin API that answers in 3.x form while this is 2.x fails the module.
      - Quote it (V("3.10")); YAML reads an unquoted 3.10 as 3.1.
    type: raw
    default: "3.11"
  keycloak_validate_certs:
    description:
      - Verify the TLS certificates of Keycloak (the discovery, token and introspection endpoints).
      - The Admin API's has its own, O(admin_validate_certs). Named apart from C(validate_certs), which in
        C(apisix_route_oidc) (the same action group) means the Admin API, so that one C(module_defaults) entry never
        points at two servers.
    type: bool
    default: true
  keycloak_ca_path:
    description:
      - CA bundle to verify Keycloak's certificate with.
      - The Admin API's is O(admin_ca_path).
    type: path
  keycloak_timeout:
    description:
      - Seconds to wait for each HTTP answer of Keycloak.
      - The Admin API's is O(admin_timeout).
    type: int
    default: 10
extends_documentation_fragment:
  - cx.api_auth.apisix_admin_api.read
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details: Only reads the file or the Admin API and asks Keycloak; runs the same in check mode, never changes.
  diff_mode:
    support: none
  platform:
    platforms: posix
  action_group:
    support: full
    membership:
      - cx.api_auth.apisix
notes:
  - The check asks Keycloak for a real token (a password grant), which needs "Direct access grants" on the route's
    client, as the guide's customer widget does.
  - Introspection authenticates the client with C(client_secret_basic) (as APISIX does by default) or
    C(client_secret_post), as the route's C(introspection_endpoint_auth_method) or C(token_endpoint_auth_method)
    says.
seealso:
  - module: cx.api_auth.apisix_route_oidc
  - module: cx.api_auth.keycloak_client_secret_info
  - name: APISIX openid-connect plugin
    description: Attributes of the plugin.
    link: https://apisix.apache.org/docs/apisix/plugins/openid-connect/
"""

EXAMPLES = r"""
- name: Check every secured route as the gateway does
  cx.api_auth.apisix_oidc_check:
    path: /opt/cx/apisix/values.yaml
    url_map:
      http://keycloak.ef-external.svc/auth: https://keycloak.tenant.example/auth
    password: "{{ vault_customer_password }}"
  register: gateway_check

- name: Print the report, one line per route
  ansible.builtin.debug:
    msg: "{{ gateway_check.table }}"

- name: The listed routes and every route whose id ends in -secured must be protected, aud is only reported
  cx.api_auth.apisix_oidc_check:
    path: /usr/local/apisix/conf/apisix.yaml
    routes: [reports, "*-secured"]
    password: "{{ vault_customer_password }}"
    require_secured: true
    require_audience: false

- name: Check every route of a gateway in traditional mode, read through the Admin API with the viewer key
  cx.api_auth.apisix_oidc_check:
    admin_url: http://127.0.0.1:9180
    admin_key: "{{ vault_apisix_viewer_key }}"
    url_map:
      http://keycloak.ef-external.svc/auth: https://keycloak.tenant.example/auth
    password: "{{ vault_customer_password }}"
  register: gateway_check
"""

RETURN = r"""
routes_key:
  description: Dotted path of the routes list in the file.
  returned: with O(path)
  type: str
  sample: apisixStandalone.routes
admin_url:
  description: The Admin API's base URL the routes were read from (with C(/apisix/admin)).
  returned: with O(admin_url)
  type: str
  sample: http://127.0.0.1:9180/apisix/admin
routes:
  description: The verdict per route, in the order checked.
  returned: always
  type: list
  elements: dict
  contains:
    route:
      description: Route ID.
      type: str
      sample: files-main
    status:
      description: V(ok) (a token passes as at the gateway), V(open) (no active authentication) or V(failed).
      type: str
      sample: ok
    reason:
      description: What was found, or why the route fails. Never holds a secret.
      type: str
      sample: >-
        token of 'customer' active at introspection with client 'cim', scope openid email profile, RS256, aud has 'cim'
    aud_has_client:
      description: Whether the route's C(client_id) is in the token's C(aud); V(null) when no token was checked.
      type: bool
      sample: true
    client_id:
      description: The route's C(client_id); V(null) for an open route.
      type: str
      sample: cim
    discovery:
      description:
        - The route's C(discovery) as written in the file or stored on the Admin API (without credentials); V(null)
          for an open route.
      type: str
      sample: http://keycloak.ef-external.svc/auth/realms/expertflow/.well-known/openid-configuration
    uris:
      description: Where the route matches, its C(uri) and C(uris) as read (text only); empty without them.
      type: list
      elements: str
      sample: [/files/*]
    hosts:
      description: The route's C(host) and C(hosts) as read (text only); empty without them.
      type: list
      elements: str
      sample: []
table:
  description: The report to print, a header line and one line per route (route, status, C(aud) has the client, reason).
  returned: always
  type: list
  elements: str
  sample:
    - "ROUTE                STATUS  AUD     DETAIL"
    - "files-main           ok      yes     token of 'customer' active at introspection with client 'cim', ..."
    - "orders-main-secured  open    -       openid-connect is commented out: no authentication"
failed_routes:
  description: IDs of the routes that fail the check (with O(require_secured), the open ones too).
  returned: always
  type: list
  elements: str
  sample: []
msg:
  description:
    - Summary, or the failing routes with their reasons. It starts with the file, or with the Admin API's base URL.
    - One line; the summary counts the routes per state and names the open ones (the first ten).
  returned: always
  type: str
  sample: "/opt/cx/apisix/values.yaml: 3 route(s) checked as the gateway does (2 ok, 1 open, 0 failed);
    open: 'catchall'"
"""

import functools

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import oidc_check
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.options import (
    ADMIN_API_READ_ARGUMENT_SPEC,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import HAS_YAML
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.selectors import ROUTES_ARGUMENT_SPEC
from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module


def main():
    """Run the module."""
    argument_spec = dict(
        ROUTES_ARGUMENT_SPEC,
        url_map=dict(type="dict", default={}),
        username=dict(type="str", default="customer"),
        password=dict(type="raw", required=True, no_log=True),
        require_audience=dict(type="bool", default=True),
        require_secured=dict(type="bool", default=False),
        apisix_version=dict(type="raw", default="3.11"),
        keycloak_validate_certs=dict(type="bool", default=True),
        keycloak_ca_path=dict(type="path"),
        keycloak_timeout=dict(type="int", default=10),
    )
    argument_spec.update(ADMIN_API_READ_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("path", "admin_url")],
        required_one_of=[("path", "admin_url")],
    )
    if module.params["path"] and not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    run_module(
        module,
        functools.partial(oidc_check.run, hide=module.no_log_values.add),
        "Checking the openid-connect routes of %s" % (module.params["path"] or module.params["admin_url"]),
    )


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: apisix_route_oidc
short_description: Switch APISIX openid-connect on or off for routes in route files or through the Admin API
description:
  - Adds, updates, disables, comments out or removes the C(openid-connect) plugin block of APISIX routes kept in a
    route file or behind the Admin API, as the CX "API Authentication - Configuration Guide" does by hand, for many
    routes in one run (a route file with a single write).
  - Two targets, one behaviour. A route file (O(path)) or the APISIX Admin API of a gateway in traditional mode
    (O(admin_url), routes in etcd). Both plan every route first (before, after, changed, masked diff), so check mode,
    diff, the result and warnings are the same whatever the target; nothing is written until every route's plan is
    valid.
  - "Admin API target: only the C(openid-connect) plugin of each route is written (C(PATCH .../plugins/openid-connect)
    to set it, C(PATCH .../routes/{id}) with C({\"plugins\": {\"openid-connect\": null}}) to remove it; on APISIX 3.10
    to 3.17, whose PATCH re-encrypts C(client_secret), GET and PUT of the route without C(create_time)/C(update_time)).
    C(PATCH .../plugins), which replaces every plugin, is never sent. Only the keys the module writes are compared
    (values equal to the schema defaults that servers before 3.14 store are taken as unset). A concurrent change
    (503 C(value changed before overwritten)) is retried 3 times, then reported. A write whose answer does not come
    within O(timeout) is read back (GET of the route): written, the run goes on; not written, it fails; when the
    read fails too, it fails saying C(unknown, read back: ...). If a write fails midway, the message and
    RV(routes_written)/RV(routes_not_written)/RV(routes_unknown) say which routes were written, and C(changed) is
    true when any was."
  - "Admin API target: routes that carry the marks of the APISIX ingress controller (C(labels.managed-by) or
    C(labels.manager-by) of V(apisix-ingress-controller)/V(api7-ingress-controller), a C(labels.k8s/controller-name),
    or a C(desc) starting with C(Created by apisix-ingress-controller)) are refused: the controller overwrites Admin
    API edits on its next sync; set the plugin in the C(ApisixRoute) resource instead."
  - "Works on the two files of APISIX's standalone mode: a standalone C(conf/apisix.yaml) (top-level C(routes:), ending
    with C(#END)) and Helm values of a chart in standalone mode (routes under a key such as
    C(apisixStandalone.routes))."
  - The file is edited surgically. Only the lines of the C(openid-connect) block change (plus a C(plugins:) line for a
    route that has none); comments, indentation, quoting, flow style, Helm template strings, blank lines, trailing
    spaces, line breaks (LF or CRLF) and C(#END) stay byte for byte. A new block goes right under C(plugins:),
    indented like the sibling plugins, in the guide's style. Changing an existing block touches only the keys whose
    value changes. Adding a block and removing it again gives back the original file.
  - The plugin config is validated for O(apisix_version) before anything is written, and each edited route is parsed
    again and compared with what it must hold; on any problem the file stays untouched.
  - The new text is written to a temporary file in the same directory, synced to disk and renamed over the file
    (the directory is synced after), keeping its mode, owner and SELinux context; a symlinked file stays a symlink.
    If the file changed on disk since it was read (modification time, size or inode), the module fails naming the
    file and writes nothing.
  - "Stock APISIX surprises, reported as warnings: C(enable: false) in an C(openid-connect) block does not switch it
    off (APISIX ignores C(enable), the plugin stays ACTIVE); C(audience) is accepted and ignored."
version_added: 0.1.0
author:
  - CX platform engineering (@cx-platform-engineering)
requirements:
  - PyYAML (on the host that runs the module) for the route-file target (O(path)); libyaml's C parser is used when
    PyYAML has it. The Admin API target needs nothing beyond ansible-core.
options:
  path:
    description:
      - The route file, Helm values of a chart in standalone mode or a standalone C(conf/apisix.yaml).
      - Must be a values file, not a Helm template; a file with template actions (V({{- if ...}}), V({{ include ...}}))
        at the start of a line is refused.
      - Mutually exclusive with O(admin_url); one of the two is required.
    type: path
    aliases: [dest]
  routes_key:
    description:
      - Dotted path of the list of routes in the file, for example V(apisixStandalone.routes).
      - Default is whichever of V(routes) (top level) and V(apisixStandalone.routes) the file has.
      - Route files only; refused with O(admin_url).
    type: str
  routes:
    description:
      - IDs of the routes to act on. All of them are edited in one run with a single write (file) or planned before
        the first write (Admin API).
      - An element with V(*), V(?) or V([) is a glob pattern (Python C(fnmatch), case-sensitive) matched against every
        route id of the file or of the Admin API (listed with C(GET /apisix/admin/routes)), for example V(*-secured).
        A pattern that matches no route fails naming the pattern; an exact id that does not exist fails as well.
      - The routes acted on are the union of these and of O(route_selector), once each, in the order given (a
        pattern's matches and the selector's in the target's order); RV(routes_selected) returns them, also in check
        mode.
      - One of O(routes) and O(route_selector) is required.
    type: list
    elements: str
  route_selector:
    description:
      - Routes picked by what they hold, beside O(routes).
      - V(openid_connect_block) picks every route of the file that has an C(openid-connect) block, B(commented out or
        active) (enabled or disabled). Active blocks count too, so that a rerun after the commented blocks were enabled
        picks the same routes (idempotence), and V(state=absent) with it takes every block away.
      - Route files only; refused with O(admin_url), where no block is commented out (use patterns in O(routes)).
      - A selector that matches no route fails.
    type: list
    elements: str
    choices: [openid_connect_block]
  state:
    description:
      - V(present) makes each route hold the C(openid-connect) block with the config the options describe. An existing
        block is updated key by key (keys the module does not manage are kept or dropped, see O(unmanaged_keys));
        a block that was commented out (also with its C(plugins:) line) is replaced in place rather than left as a
        stale copy, whether it was commented out with C(#) at column 0 or at its own indentation (C(# key:) as an
        editor's comment toggle writes it, or C(#key:)). Prose comments (a commented C(openid-connect:) with text
        after the colon, or not followed by lines that look like config) are not taken for commented-out blocks.
      - V(disabled) writes the same block switched off with APISIX's injected flag (C(_meta.disable=true) in 3.x,
        C(disable=true) in 2.x), so it can be switched on again without retyping it.
      - V(absent) removes the block (or comments it out, see O(absent_style)). It needs no plugin options.
    type: str
    choices: [present, absent, disabled]
    default: present
  absent_style:
    description:
      - How O(state=absent) takes the block away.
      - V(remove) deletes its lines. A C(plugins:) line left with nothing under it is removed too.
      - V(comment) prefixes each line of the block with C(#) at column 0, as operators do by hand, and drops older
        commented-out copies in that route. A C(plugins:) line left with nothing under it is commented out too (APISIX
        rejects a null C(plugins)); enabling again puts the lines back as they were when the config is the same.
        Route files only; refused with O(admin_url).
      - "Enabling a commented-out block keeps the lines the module does not write (C(enable: true) with its comment,
        comments, commented-out snippets such as C(authz-keycloak) inside it) in their place, so that commenting it
        out again gives back the file as it was, the managed keys with their current values. A route whose
        C(plugins) was empty (C(plugins: {}), C(~) or a bare C(plugins:)) keeps that value in a comment on the line
        while it holds the block (C(plugins: # {}), C(plugins: #)); removing or commenting out the block puts it back."
    type: str
    choices: [remove, comment]
    default: remove
  write_enable_key:
    description:
      - Write the guide's C(enable) line first in the block (V(true); V(false) with O(state=disabled)) for files whose
        house style has an C(enable) key in every plugin. Stock APISIX ignores the key.
      - "With V(false), an C(enable: false) line in an existing block is removed (stock APISIX would run the plugin
        anyway); an C(enable: true) line, as the CX chart writes it, is left as it is."
    type: bool
    default: false
  unmanaged_keys:
    description:
      - What happens to keys of an existing block (active or commented out) that the module does not manage, such as
        C(ssl_verify), C(introspection_interval), C(session.secret) or C(_meta.priority) added by hand. The module
        manages the keys its options write (the guide's keys, C(enable), the switch-off flag and the keys of
        O(extra_config) and O(secret_config)).
      - V(keep) leaves them in the block as they are (merged into the config written); V(remove) drops them. Either way
        one warning per run names the routes and the key paths (never their values).
      - "Admin API: a key whose value is the schema default that APISIX stored by itself (servers before 3.14) is not
        such a key. With V(keep), the config with the kept keys must be valid for O(apisix_version), else nothing is
        written."
    type: str
    choices: [keep, remove]
    default: keep
extends_documentation_fragment:
  - cx.api_auth.apisix_admin_api
  - cx.api_auth.apisix_oidc_plugin
  - ansible.builtin.backup
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Computes the new text (file) or reads every route (Admin API, GET only) and reports C(changed), the
      routes selected and the diff without writing.
  diff_mode:
    support: full
    details:
      - One before/after pair per changed route, in file order, holding only what the module owns there, the
        C(openid-connect) lines it changes (with the route's C(plugins:) line and the block's key line for context),
        never another plugin, upstream or header of the route, which may hold credentials the module cannot know.
      - Credentials in those lines (client secrets, C(*secret), C(*key), C(password), C(token) values, also in
        commented-out lines) are masked, and so is the C(user:password@) of every URL the module prints (diff,
        RV(config), warnings, messages), for example C(http://user:********@proxy:3128).
      - On the Admin API, the C(openid-connect) config of the route before and after, as JSON, masked the same way;
        nothing of another plugin or of the route.
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
  action_group:
    support: full
    membership:
      - cx.api_auth.apisix
notes:
  - APISIX reloads a standalone C(conf/apisix.yaml) only when it ends with C(#END); the module keeps that marker
    in place and warns when a top-level C(routes) file lacks it. In Helm values, the chart appends it.
  - O(backup), O(routes_key) and O(absent_style=comment) apply to route files only and are refused with O(admin_url).
  - "Routes written as flow mappings (C({id: x, ...})), plugins written as a non-empty flow mapping, blocks built
    with YAML anchors, aliases or merge keys are refused with a message naming the route and line; C(plugins: {})
    is handled."
seealso:
  - name: APISIX openid-connect plugin
    description: Attributes of the plugin.
    link: https://apisix.apache.org/docs/apisix/plugins/openid-connect/
  - name: APISIX standalone mode
    description: The conf/apisix.yaml file and its #END marker.
    link: https://apisix.apache.org/docs/apisix/deployment-modes/#standalone
"""

EXAMPLES = r"""
- name: Secure the tenant's API routes in the Helm values (guide defaults)
  cx.api_auth.apisix_route_oidc:
    path: /opt/cx/helm-values/apisix-values.yaml
    routes:
      - orders-main-secured
      - files-main
      - admin-backend-secured
    keycloak_url: http://keycloak.ef-external.svc/auth
    realm: "{{ tenant_id }}"
    client_secret: "{{ vault_cim_client_secret }}"
    write_enable_key: true   # the file's house style has "enable: true" in every plugin
    backup: true

- name: Secure routes in a standalone conf/apisix.yaml, secret from the environment, for APISIX 3.13
  cx.api_auth.apisix_route_oidc:
    path: /usr/local/apisix/conf/apisix.yaml
    routes: [orders-secured, reports]
    discovery: https://sso.example.com/realms/tenant-b/.well-known/openid-configuration
    realm: tenant-b
    client_secret: !unsafe "${{CIM_CLIENT_SECRET}}"   # APISIX reads it from the environment; !unsafe: no Jinja
    audience: []
    apisix_version: "3.13"
    extra_config:
      ssl_verify: true
      claim_validator:
        audience:
          required: true
          match_with_client_id: true

- name: Switch authentication off for a route but keep the block
  cx.api_auth.apisix_route_oidc:
    path: /opt/cx/helm-values/apisix-values.yaml
    routes: [files-main]
    state: disabled
    keycloak_url: http://keycloak.ef-external.svc/auth
    realm: "{{ tenant_id }}"
    client_secret: "{{ vault_cim_client_secret }}"

- name: Secure every route whose openid-connect block is commented out (or already active) in the values file
  cx.api_auth.apisix_route_oidc:
    path: /opt/cx/helm-values/apisix-values.yaml
    route_selector: [openid_connect_block]
    routes: ["*-secured"]   # and every route whose id ends with -secured
    keycloak_url: http://keycloak.ef-external.svc/auth
    realm: "{{ tenant_id }}"
    client_secret: "{{ vault_cim_client_secret }}"

- name: Secure routes through the Admin API of a gateway in traditional mode (etcd), APISIX 3.11
  cx.api_auth.apisix_route_oidc:
    admin_url: https://apisix-admin.example.com:9180
    admin_key: "{{ vault_apisix_admin_key }}"
    ca_path: /etc/pki/cx/apisix-admin-ca.pem
    apisix_version: "3.11"
    routes: [orders-main-secured, "reports-*"]
    keycloak_url: http://keycloak.ef-external.svc/auth
    realm: "{{ tenant_id }}"
    client_secret: "{{ vault_cim_client_secret }}"

- name: Take authentication off by commenting the block out, as operators do by hand
  cx.api_auth.apisix_route_oidc:
    path: /opt/cx/helm-values/apisix-values.yaml
    routes: [orders-main-secured]
    state: absent
    absent_style: comment
"""

RETURN = r"""
routes_key:
  description: Dotted path of the routes list in the file.
  returned: with O(path)
  type: str
  sample: apisixStandalone.routes
admin_url:
  description: The Admin API base URL the routes were read from and written to.
  returned: with O(admin_url)
  type: str
  sample: http://127.0.0.1:9180/apisix/admin
routes_selected:
  description:
    - The route ids acted on, once each, after O(routes) patterns and O(route_selector) were resolved (in check mode
      too, before anything is written).
  returned: always
  type: list
  elements: str
  sample: [orders-main-secured, files-main]
routes_written:
  description: On a failure midway through Admin API writes, the routes written before it.
  returned: on failure while writing to the Admin API
  type: list
  elements: str
  sample: [orders-main-secured]
routes_not_written:
  description: On a failure midway through Admin API writes, the routes not written (the failed one first).
  returned: on failure while writing to the Admin API
  type: list
  elements: str
  sample: [files-main]
routes_unknown:
  description: On a failure midway through Admin API writes, the route whose write got no answer and whose read-back
    failed too (written or not, unknown).
  returned: on failure while writing to the Admin API
  type: list
  elements: str
  sample: [files-main]
routes:
  description: What happened per route.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Route ID.
      type: str
      sample: files-main
    before:
      description: State of the block before the run (V(present), V(disabled), V(commented) or V(absent)).
      type: str
      sample: absent
    after:
      description: State of the block after the run (after the planned change in check mode).
      type: str
      sample: present
    changed:
      description: Whether the route's block changes.
      type: bool
      sample: true
    uris:
      description: Where the route matches requests, from its C(uri) and C(uris) (never a plugin's config).
      type: list
      elements: str
      sample: ["/orders/*"]
    hosts:
      description: The route's C(host) and C(hosts), empty when it matches any host.
      type: list
      elements: str
      sample: []
  sample:
    - id: files-main
      before: absent
      after: present
      changed: true
config_notes:
  description:
    - What stock APISIX makes of the config (for example that it accepts O(audience) and ignores it), when no block
      was written in this run. When a block is written, the same notes are warnings.
  returned: when there are notes and nothing was written
  type: list
  elements: str
  sample: ["openid-connect on route(s) 'files-main': audience is not enforced by stock APISIX (it is accepted ..."]
config:
  description: The plugin config written (O(state=present) or O(state=disabled)), credentials masked.
  returned: when state is present or disabled
  type: dict
  sample:
    discovery: http://keycloak.ef-external.svc/auth/realms/expertflow/.well-known/openid-configuration
    realm: expertflow
    client_id: cim
    client_secret: "********"
    bearer_only: true
    token_signing_alg_values_expected: RS256
    set_access_token_header: false
    set_userinfo_header: false
    audience: [cim, account, realm-management]
    required_scopes: [email, profile]
diff:
  description:
    - In diff mode, when the file changes, one entry per changed route, in file order, each holding the lines of
      the route that the module changes (its C(openid-connect) block, commented-out copies of it, the C(plugins:)
      line), before and after, with the C(plugins:) line and the block's key line as context. Nothing else of the
      route or the file is returned.
    - Credential values are masked (client secrets, and any C(secret), C(*_secret), C(key), C(*_key), C(password),
      C(token) value, including block scalars and commented-out lines).
    - On the Admin API, one entry per changed route holding its C(openid-connect) config before and after as JSON
      (empty when the route has none), masked the same way.
  returned: changed and diff mode
  type: list
  elements: dict
  contains:
    before_header:
      description:
        - The file path followed by the route id in parentheses, as in the sample.
        - On the Admin API, the route's URL followed by the route id in parentheses.
      type: str
      sample: /opt/cx/helm-values/apisix-values.yaml (route files-main)
    after_header:
      description: Same as RV(diff[].before_header).
      type: str
      sample: /opt/cx/helm-values/apisix-values.yaml (route files-main)
    before:
      description: Those lines before the edit, credentials masked.
      type: str
      sample: "    plugins:\n"
    after:
      description: Those lines after the edit, credentials masked.
      type: str
      sample: "    plugins:\n      openid-connect:\n        client_secret: \"********\"\n"
backup_file:
  description: Name of the backup file created.
  returned: changed and O(backup=true), not in check mode
  type: str
  sample: /opt/cx/helm-values/apisix-values.yaml.2361.2026-01-02@10:11:12~
msg:
  description:
    - One line saying what the run did to the routes it selected, or what it would do in check mode
      (C(would be enabled on)). It starts with the file, or with the Admin API's base URL, then per
      action (C(enabled on), C(updated on), C(disabled on), C(removed from)) the count and the route ids
      (the first ten), the count of selected routes that already had the wanted state, and the count of
      the target's other routes, left untouched (when known without another request to the Admin API).
    - Never holds a secret (credentials in URLs are masked).
  returned: success
  type: str
  sample: "/opt/cx/apisix/values.yaml: openid-connect enabled on 2 route(s) ('files-main', 'portal-main'),
    1 already enabled, 7 other route(s) untouched"
"""

import functools

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import runner
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.options import ADMIN_API_ARGUMENT_SPEC
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.plugin_config import (
    OIDC_PLUGIN_ARGUMENT_SPEC,
    OIDC_PLUGIN_REQUIRED_IF,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import HAS_YAML
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.selectors import ROUTES_ARGUMENT_SPEC
from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module


def main():
    """Run the module."""
    argument_spec = dict(
        ROUTES_ARGUMENT_SPEC,
        state=dict(type="str", default="present", choices=["present", "absent", "disabled"]),
        absent_style=dict(type="str", default="remove", choices=["remove", "comment"]),
        write_enable_key=dict(type="bool", default=False),
        backup=dict(type="bool", default=False),
        unmanaged_keys=dict(type="str", default="keep", choices=["keep", "remove"], no_log=False),
    )
    argument_spec.update(ADMIN_API_ARGUMENT_SPEC)
    argument_spec.update(OIDC_PLUGIN_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=OIDC_PLUGIN_REQUIRED_IF,
        mutually_exclusive=[("path", "admin_url")],
        required_one_of=[("path", "admin_url"), ("routes", "route_selector")],
    )
    if module.params["path"] and not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    where = module.params["path"] or module.params["admin_url"]
    run_module(
        module,
        functools.partial(runner.run, replace=module.atomic_move),
        "Setting openid-connect on routes in %s" % where,
        scrub=masking.mask_urls,
    )


if __name__ == "__main__":
    main()

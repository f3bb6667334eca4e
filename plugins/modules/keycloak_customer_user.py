#!/usr/bin/python
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keycloak_customer_user
short_description: Manage the customer user of a Keycloak tenant realm and its realm roles
version_added: 0.1.0
description:
  - Steps 2 and 3 of the API authentication guide. Ensures the user O(username) (by
    default C(customer)) of the realm O(realm) is enabled, has a verified e-mail and a
    non-temporary password, and has the realm roles O(realm_roles) (by default C(customer),
    C(offline_access) and C(uma_authorization)), creating the C(customer) role when the
    realm does not have it yet.
  - Idempotent, also in realms with a password-history policy - by default the password is
    changed only when the current one does not work (see O(update_password)), so a rerun
    reports no change and never re-sets the same password.
  - Everything that can make the run fail (missing roles, an e-mail used by another user,
    the password-check client) is checked before the first write. Then missing roles are
    created first (an admin without C(manage-realm) is refused there, before the user is
    touched), then the user, its password and profile, then the role mappings; a failure
    says what was already applied (and then reports C(changed)). A password the realm's password policy rejects is
    reported with Keycloak's reason; a new user is created with the password in the same
    request, so a rejected password leaves no user behind.
  - Works with Keycloak 19 (also under the legacy C(/auth) path) to 26.
  - With O(state=absent) the user is deleted; realm roles are never deleted.
author:
  - CX platform engineering (!UNKNOWN)
options:
  realm:
    description:
      - The tenant realm that holds the user, for example V(expertflow).
      - One plain URL path segment - a value that is empty, V(.) or V(..), or holds C(/), C(\), C(?), C(#),
        C(%), whitespace or a control character is refused before any request.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the user, V(absent) deletes it (its roles stay in the
        realm).
    type: str
    choices:
      - present
      - absent
    default: present
  username:
    description:
      - Username of the customer user. Keycloak stores usernames in lower case.
    type: str
    default: customer
  password:
    description:
      - The user's password (the guide uses V(customer)). Always set as non-temporary. A
        pending C(UPDATE_PASSWORD) required action (the console's "Temporary" toggle) is
        removed when the run sets the password or finds that it works; with
        O(update_password=on_create) on an existing user it stays.
      - When not given, the password is not managed (a new user then has no password and
        cannot log in).
      - Never shown - the diff has only a C(password) key whose value is V(set) or V(changed).
      - Text only. A value that is not text (for example unquoted digits such as a numeric
        PIN, which YAML reads as a number, with a leading 0 as an octal one) is refused with
        a message that names the option and says to quote it, before anything is sent; it is
        never converted, which would set another password.
    type: raw
  update_password:
    description:
      - When to set O(password) on an existing user. A new user always gets it.
      - V(when_invalid) - only when the current password does not work. The module tries a
        password grant for the user through the client O(password_check_client_id); when
        Keycloak issues a token, the password is not changed. Safe with password-history
        policies.
      - Keycloak answers "Account is not fully set up" only after accepting the password, and
        the customer then gets no token - the run fails before any write, naming the pending
        required actions (such as C(CONFIGURE_TOTP)) or the required user-profile attributes
        without a value, unless the run itself repairs the cause (a pending C(UPDATE_PASSWORD),
        which it drops, or an empty e-mail or name with O(fill_profile)).
      - V(on_create) - only when the user is created.
      - V(always) - on every run (always reports a change, and fails on a rerun in a realm
        with a password-history policy).
    type: str
    choices:
      - when_invalid
      - on_create
      - always
    default: when_invalid
  password_check_client_id:
    description:
      - The client of O(realm) through which O(update_password=when_invalid) checks the
        password with a password grant. It must have "Direct access grants" enabled.
      - The default V(admin-cli) exists in every realm, is public and allows direct access
        grants unless an administrator changed it, so the check needs no secret and works
        before any other client exists. V(cim) works too.
      - A confidential client's secret is read through the admin API unless
        O(password_check_client_secret) is given.
    type: str
    default: admin-cli
  password_check_client_secret:
    description:
      - Secret of a confidential O(password_check_client_id). Optional; read from Keycloak
        when not given.
      - Text only, like O(password); a number is refused, never converted.
    type: raw
  enabled:
    description:
      - Whether the user is enabled.
      - With the default V(true), a user that an administrator disabled is enabled again;
        the run then warns, naming the user and the realm, and the diff shows C(enabled)
        going from V(false) to V(true) (also in check mode). Set V(false) to keep it disabled.
    type: bool
    default: true
  email_verified:
    description:
      - The user's "Email verified" flag (the guide turns it on).
    type: bool
    default: true
  email:
    description:
      - E-mail address of the user. Enforced when given.
      - When not given, an existing e-mail is kept; an empty one is filled with
        C(<username>@<realm>.invalid) if O(fill_profile=true).
      - Must not belong to another user of the realm unless the realm allows duplicate
        e-mails.
    type: str
  first_name:
    description:
      - First name of the user. Enforced when given.
      - When not given, an existing first name is kept; an empty one is set to O(username)
        if O(fill_profile=true).
    type: str
  last_name:
    description:
      - Last name of the user. Enforced when given.
      - When not given, an existing last name is kept; an empty one is set to O(realm) if
        O(fill_profile=true).
    type: str
  fill_profile:
    description:
      - Fill an empty e-mail, first name and last name with placeholders (see O(email),
        O(first_name) and O(last_name)).
      - Keycloak 24 and later require these fields of the default user profile before a user
        can log in ("Account is not fully set up"), so without them the customer user
        cannot obtain tokens. Filling them changes no realm setting; values that are
        already set are never overwritten.
      - Set to V(false) to leave empty fields empty.
    type: bool
    default: true
  realm_roles:
    description:
      - Realm roles mapped directly to the user.
      - A role missing in the realm is created when it is listed in O(create_missing_roles);
        any other missing role is an error, reported before anything is written.
    type: list
    elements: str
    default:
      - customer
      - offline_access
      - uma_authorization
  create_missing_roles:
    description:
      - Roles of O(realm_roles) that are created (with just a name) when the realm lacks
        them. Names not in O(realm_roles) are ignored.
    type: list
    elements: str
    default:
      - customer
  roles_mode:
    description:
      - V(add) - map the roles of O(realm_roles) that are missing; other direct mappings
        stay.
      - V(exact) - also remove direct realm-role mappings that are not listed, except the
        realm's default roles composite (C(default-roles-<realm>)), which every user has.
      - Client roles and group memberships are never touched.
    type: str
    choices:
      - add
      - exact
    default: add
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
        predicted user; writes nothing. With O(update_password=when_invalid) the password
        check (a password grant, which opens a session in the realm) runs in check mode too.
        The one exception is the password of a disabled user on servers before Keycloak 26.7.3
        (see the notes).
  diff_mode:
    support: full
    details:
      - The diff shows the user (without credentials) and its direct realm roles before and
        after; a C(password) key with the value V(set) or V(changed) appears when the
        password is (or would be) set, never the password itself.
  platform:
    platforms: all
    details:
      - Runs wherever python-keycloak is installed; talks to Keycloak over HTTP(S).
  action_group:
    support: full
    membership:
      - cx.api_auth.keycloak
notes:
  - The admin needs the C(manage-users) and C(manage-realm) roles of C(realm-management)
    in O(realm) (or the master realm's C(admin)); C(view-clients) too when the password is
    checked through a confidential client without O(password_check_client_secret).
  - Ansible hides the value of O(password) wherever it appears in the output. With the
    guide's password V(customer), which is also the username and a role name, those names
    show as C(********) in the result.
  - A failed password check counts as a failed login for the realm's brute force detection;
    the check is one attempt per run (never resent), and under brute force detection a failed
    one adds a warning that says how to reset the user's failure count.
    A user that brute force detection has locked out is not checked (Keycloak would refuse
    any password) and its password is not changed; the module warns instead.
    For a disabled user, Keycloak 19 refuses the check before looking at the password; the
    module then checks again after enabling the user (in check mode the diff's C(password)
    key says V(checked once the user is enabled), the one place where check mode cannot
    predict the real run's diff), and leaves the password of a user that stays disabled
    (O(enabled=false)) alone - use O(update_password=always) to force it. Keycloak 26.7.3 and
    later answer "Account disabled" only to the right password, so there check mode
    predicts this case exactly too (the version is read from the server info).
seealso:
  - module: cx.api_auth.keycloak_audience_mapper
  - name: Keycloak documentation, managing users
    description: Users, credentials and required actions in the admin console.
    link: https://www.keycloak.org/docs/latest/server_admin/#assembly-managing-users_server_administration_guide
"""

EXAMPLES = r"""
- name: Steps 2 and 3 of the guide - user customer with password customer and its roles
  cx.api_auth.keycloak_customer_user:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    password: "{{ customer_password }}"

- name: Same on a server under the legacy /auth path, connection settings for the group
  module_defaults:
    group/cx.api_auth.keycloak:
      auth_keycloak_url: https://sso.example.com/auth
      auth_username: admin
      auth_password: "{{ keycloak_admin_password }}"
  block:
    - name: Customer user with a real e-mail, checking the password through client cim
      cx.api_auth.keycloak_customer_user:
        realm: expertflow
        password: "{{ customer_password }}"
        email: customer@example.com
        first_name: Customer
        last_name: Widget
        password_check_client_id: cim

- name: Exactly these realm roles (the default roles composite stays)
  cx.api_auth.keycloak_customer_user:
    auth_keycloak_url: https://sso.example.com
    auth_client_id: ansible
    auth_client_secret: "{{ keycloak_ansible_client_secret }}"
    realm: expertflow
    password: "{{ customer_password }}"
    update_password: on_create
    realm_roles:
      - customer
      - offline_access
      - uma_authorization
    roles_mode: exact

- name: Delete the customer user (the roles stay)
  cx.api_auth.keycloak_customer_user:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: expertflow
    state: absent
"""

RETURN = r"""
user:
  description:
    - The user after the run (in check mode the predicted user; a new user has no
      RV(user.id) yet). Never contains credentials.
    - Empty after O(state=absent).
  returned: always
  type: dict
  sample:
    id: 6c1f0a43-8f59-4f55-a3f4-1f3e4c0a2b11
    username: customer
    enabled: true
    email_verified: true
    email: customer@expertflow.invalid
    first_name: customer
    last_name: expertflow
    required_actions: []
    realm_roles:
      - customer
      - default-roles-expertflow
      - offline_access
      - uma_authorization
  contains:
    id:
      description: Internal id of the user.
      type: str
      returned: when the user exists
    username:
      description: Username.
      type: str
      returned: when the user exists
    enabled:
      description: Whether the user is enabled.
      type: bool
      returned: when the user exists
    email_verified:
      description: Whether the e-mail is marked verified.
      type: bool
      returned: when the user exists
    email:
      description: E-mail address (V(null) when none).
      type: str
      returned: when the user exists
    first_name:
      description: First name (V(null) when none).
      type: str
      returned: when the user exists
    last_name:
      description: Last name (V(null) when none).
      type: str
      returned: when the user exists
    required_actions:
      description: Pending required actions of the user.
      type: list
      elements: str
      returned: when the user exists
    realm_roles:
      description: Realm roles mapped directly to the user, sorted.
      type: list
      elements: str
      returned: when the user exists
roles_added:
  description: Realm roles mapped to the user by this run (or that would be in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - customer
    - offline_access
    - uma_authorization
roles_removed:
  description: Direct realm-role mappings removed by O(roles_mode=exact).
  returned: always
  type: list
  elements: str
  sample: []
roles_created:
  description: Realm roles created in the realm by this run (or that would be in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - customer
password_changed:
  description: Whether the password was set (or would be in check mode).
  returned: always
  type: bool
  sample: true
msg:
  description:
    - One line saying what the module did (or would do in check mode), naming the user and the realm,
      then in brackets the attributes changed (names only), the realm roles created, granted and revoked,
      and whether the password was set; or that the user is up to date (already absent).
    - Never holds the password or an attribute's value.
  returned: always
  type: str
  sample: "Updated user 'customer' in realm 'expertflow' (changed enabled; granted role(s) 'customer';
    set the password)"
"""

from functools import partial

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import customer_user
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
        state=dict(type="str", default="present", choices=["present", "absent"]),
        username=dict(type="str", default="customer"),
        password=dict(type="raw", no_log=True),
        update_password=dict(
            type="str", default="when_invalid", choices=["when_invalid", "on_create", "always"], no_log=False
        ),
        password_check_client_id=dict(type="str", default="admin-cli", no_log=False),
        password_check_client_secret=dict(type="raw", no_log=True),
        enabled=dict(type="bool", default=True),
        email_verified=dict(type="bool", default=True),
        email=dict(type="str"),
        first_name=dict(type="str"),
        last_name=dict(type="str"),
        fill_profile=dict(type="bool", default=True),
        realm_roles=dict(type="list", elements="str", default=["customer", "offline_access", "uma_authorization"]),
        create_missing_roles=dict(type="list", elements="str", default=["customer"]),
        roles_mode=dict(type="str", default="add", choices=["add", "exact"]),
    )


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
    )
    what = customer_user.target(module.params)
    connection = KeycloakConnection(module.params, module.params["realm"], what)
    run_module(module, partial(customer_user.run, connection), "Managing " + what, scrub=connection.scrub)


if __name__ == "__main__":
    main()

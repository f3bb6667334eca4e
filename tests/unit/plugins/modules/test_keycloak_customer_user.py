# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/keycloak_customer_user.py (the thin module layer).

``main()`` runs for real through AnsibleModule (option parsing, no_log, check mode, diff) on
the fake Keycloak of ``fakes``, whose token endpoint also answers the password checks.
"""

import pytest
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import customer_user as cu
from ansible_collections.cx.api_auth.plugins.modules import keycloak_customer_user as module

from ..module_utils.test_customer_user import OTHER_PASSWORD, PASSWORD
from ._module_harness import run_module_main, warnings_of

GUIDE = {"realm": "expertflow", "password": PASSWORD}
ROLES = "'customer', 'offline_access', 'uma_authorization'"
CREATE_DETAILS = " (create realm role(s) 'customer'; grant role(s) %s; set the password)" % ROLES
CREATED_DETAILS = " (created realm role(s) 'customer'; granted role(s) %s; set the password)" % ROLES
PROFILE = "email, emailVerified, firstName, lastName"
UPDATE_DETAILS = " (change %s; create realm role(s) 'customer'; grant role(s) %s; set the password)" % (PROFILE, ROLES)
UPDATED_DETAILS = " (changed %s; created realm role(s) 'customer'; granted role(s) %s; set the password)" % (
    PROFILE,
    ROLES,
)


def run_main(capsys, args, check=False, diff=False):
    """Run main() with ``args`` (plus the connection options); return (result, failed)."""
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access  # only this run's warnings
    return run_module_main(capsys, module, args, (PASSWORD, OTHER_PASSWORD), check=check, diff=diff)


def test_no_option_name_or_alias_clashes():
    """The connection options take no name of the module's own (``username``, ``password``)."""
    names = []
    for name, options in module.argument_spec().items():
        names.append(name)
        names.extend(options.get("aliases") or [])
    assert len(names) == len(set(names))
    assert "username" in names and "password" in names


def test_guide_user_check_mode_create_rerun(keycloak, capsys):
    result, failed = run_main(capsys, GUIDE, check=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["msg"] == "Would create user 'customer' in realm 'expertflow'" + CREATE_DETAILS
    assert result["diff"]["after"]["password"] == "set"
    assert keycloak.writes == [] and len(keycloak.logins) == 1

    result, failed = run_main(capsys, GUIDE)
    assert not failed and result["changed"] is True and result["password_changed"] is True
    assert result["msg"] == "Created user 'customer' in realm 'expertflow'" + CREATED_DETAILS
    assert "diff" not in result
    assert result["user"]["realm_roles"] == [
        "customer",
        "default-roles-expertflow",
        "offline_access",
        "uma_authorization",
    ]

    result, failed = run_main(capsys, GUIDE, diff=True)
    assert not failed and result["changed"] is False
    assert result["msg"] == "User 'customer' in realm 'expertflow' is up to date"
    assert result["diff"]["before"] == result["diff"]["after"]


def test_update_and_delete_messages(keycloak, capsys):
    keycloak.add_user("customer", password=OTHER_PASSWORD)
    result = run_main(capsys, GUIDE, check=True, diff=True)[0]
    assert result["msg"] == "Would update user 'customer' in realm 'expertflow'" + UPDATE_DETAILS
    assert result["diff"]["after"]["password"] == "changed"
    result = run_main(capsys, GUIDE)[0]
    assert (
        result["msg"] == "Updated user 'customer' in realm 'expertflow'" + UPDATED_DETAILS
        and result["password_changed"] is True
    )
    absent = {"realm": "expertflow", "state": "absent"}
    assert run_main(capsys, absent, check=True)[0]["msg"] == "Would delete user 'customer' in realm 'expertflow'"
    result = run_main(capsys, absent)[0]
    assert result["msg"] == "Deleted user 'customer' in realm 'expertflow'" and result["user"] == {}
    result = run_main(capsys, absent)[0]
    assert result["changed"] is False and result["msg"] == "User 'customer' in realm 'expertflow' is already absent"


def test_failures_name_user_and_realm_once_without_secrets(keycloak, capsys):
    keycloak.min_length = 40
    result, failed = run_main(capsys, GUIDE)
    assert failed
    message = result["msg"]
    for fact in (
        "rejected the password of user 'customer' in realm 'expertflow'",
        "minimum length 40.",
        "the user was not created",
        "already applied: created realm role 'customer'",
    ):
        assert fact in message
    assert message.count("realm 'expertflow'") == 1  # written once, not wrapped again
    result, failed = run_main(capsys, dict(GUIDE, realm="nope"))
    assert failed
    for fact in ("user 'customer'", "Realm 'nope' does not exist", "http://kc.example"):
        assert fact in result["msg"]


def test_bad_option_values_are_refused_by_ansible(keycloak, capsys):
    result, failed = run_main(capsys, dict(GUIDE, update_password="sometimes"))
    assert failed and "update_password" in result["msg"]
    result, failed = run_main(capsys, dict(GUIDE, roles_mode="replace"))
    assert failed and "roles_mode" in result["msg"]
    assert keycloak.logins == []


def test_locked_user_is_a_warning_not_a_change(keycloak, capsys):
    keycloak.realm["bruteForceProtected"] = True
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD)
    keycloak.locked.add(uid)
    for check in (True, False):
        result, failed = run_main(capsys, GUIDE, check=check, diff=True)
        assert not failed and result["password_changed"] is False
        # (the warnings of other modules' tests in this process may be listed too)
        [warning] = [w for w in warnings_of(result) if "brute force" in w]
        for fact in ("User 'customer' in realm 'expertflow'", "locked by brute force detection", "neither checked"):
            assert fact in warning
    assert keycloak.checks == [] and not [w for w in keycloak.writes if w[0] == "set_user_password"]
    # once unlocked, the wrong password is found and set
    keycloak.locked.clear()
    assert run_main(capsys, GUIDE)[0]["password_changed"] is True


@pytest.mark.parametrize("check", [False, True])
def test_unexpected_exception_fails_cleanly_without_secrets(keycloak, capsys, monkeypatch, check):
    def broken(user, params):
        raise ValueError("odd answer for %s" % PASSWORD)

    monkeypatch.setattr(cu, "read_state", broken)
    result, failed = run_main(capsys, GUIDE, check=check)  # run_main asserts that no secret is printed
    assert failed and "exception" not in result
    assert result["msg"] == "Managing user 'customer' in realm 'expertflow' failed: ValueError: odd answer for ********"


@pytest.mark.parametrize(
    "option, value",
    [
        ("password", 260810),  # what YAML makes of an unquoted 0775312
        ("password", 4711),
        ("password", True),
        ("password_check_client_secret", 260810),
        ("auth_password", 260810),
        ("auth_client_secret", 260810),
        ("token", 260810),
    ],
)
@pytest.mark.parametrize("check", [False, True])
def test_a_number_where_a_secret_belongs_is_refused_before_connecting(keycloak, capsys, option, value, check):
    args = dict(GUIDE, **{option: value})
    if option in ("auth_client_secret", "token"):
        args.update(auth_username=None, auth_password=None)
    result, failed = run_module_main(
        capsys, module, args, (PASSWORD, OTHER_PASSWORD, "260810", "0775312"), check=check, diff=True
    )
    assert failed and not result.get("changed")
    for fact in ("user 'customer' in realm 'expertflow'", option + " must be text", "quote it", "never converted"):
        assert fact in result["msg"]
    assert keycloak.logins == [] and keycloak.calls == [] and keycloak.writes == []


def test_a_disabled_user_is_enabled_with_a_warning_and_the_diff_says_so(keycloak, capsys):
    uid = keycloak.add_user(
        "customer", password=PASSWORD, enabled=False, emailVerified=True, email="c@x.y", firstName="c", lastName="x"
    )
    diffs = []
    for check in (True, False):
        result, failed = run_main(capsys, GUIDE, check=check, diff=True)
        assert not failed and result["changed"] is True
        wording = "is disabled and would be enabled by this run" if check else "was disabled and is enabled by this run"
        [warning] = [w for w in warnings_of(result) if wording in w]
        for fact in ("User 'customer' in realm 'expertflow'", "enabled: false"):
            assert fact in warning
        assert result["diff"]["before"]["enabled"] is False and result["diff"]["after"]["enabled"] is True
        diffs.append(result["diff"])
    assert diffs[0] == diffs[1]
    assert keycloak.users[uid]["enabled"] is True
    result = run_main(capsys, GUIDE)[0]
    assert result["changed"] is False and not [w for w in warnings_of(result) if "enabled by this run" in w]


def test_a_user_kept_disabled_is_no_warning(keycloak, capsys):
    keycloak.add_role("customer")
    keycloak.add_user(
        "customer",
        password=PASSWORD,
        roles=["customer", "offline_access", "uma_authorization"],
        enabled=False,
        emailVerified=True,
        email="c@x.y",
        firstName="c",
        lastName="x",
    )
    for check in (True, False):
        result, failed = run_main(capsys, dict(GUIDE, enabled=False), check=check, diff=True)
        assert not failed and result["changed"] is False, result["diff"]
        assert not [w for w in warnings_of(result) if "enabled by this run" in w]

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_keycloak/customer_user.py, on the fake Keycloak of ``fakes``.

The fake answers the password check (a password grant) as 26.7.3 and 19.0.1 do, so every
password decision below is the module's own reading of a real server's answers.
"""

import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import connection as cu_connection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import customer_user as cu
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.modules import keycloak_customer_user as module

from ...fakes import CIM_SECRET, CONNECTION, REALM, URL

PASSWORD = "Cust0mer-Pa55word"
OTHER_PASSWORD = "An0ther-Pa55word"
GUIDE_ROLES = ["customer", "default-roles-expertflow", "offline_access", "uma_authorization"]
PROFILE = dict(email="c@x.y", firstName="c", lastName="x")


def params(**overrides):
    """The module's parameters for the guide's call plus ``overrides``, as AnsibleModule makes them."""
    args = dict(CONNECTION, realm=REALM, password=PASSWORD)
    args.update(overrides)
    result = ArgumentSpecValidator(module.argument_spec()).validate(args)
    assert result.error_messages == []
    return result.validated_parameters


def run_warned(check_mode=False, **overrides):
    """``(result, warnings)`` of the module's runner, with the diff."""
    given = params(**overrides)
    warnings = []
    connection = KeycloakConnection(given, given["realm"], cu.target(given))
    return cu.run(connection, given, check_mode, True, warnings.append), warnings


def run(check_mode=False, **overrides):
    return run_warned(check_mode, **overrides)[0]


def fail(check_mode=False, **overrides):
    """The message of a failed run; no password or secret is in it."""
    with pytest.raises(KeycloakModuleError) as info:
        run(check_mode, **overrides)
    message = str(info.value)
    for secret in (PASSWORD, OTHER_PASSWORD, CIM_SECRET):
        assert secret not in message
    return message


def customer_user(**overrides):
    """A CustomerUser on an open connection, for its single reads."""
    given = params(**overrides)
    return cu.CustomerUser(KeycloakConnection(given, REALM, cu.target(given)).open(), given, [].append)


def assert_facts(message, *facts):
    for fact in facts:
        assert fact in message, (fact, message)


# --------------------------------------------------------------------------- pure helpers


def test_profile_placeholders():
    assert cu.profile_placeholders("customer", "expertflow") == {
        "email": "customer@expertflow.invalid",
        "firstName": "customer",
        "lastName": "expertflow",
    }
    odd = cu.profile_placeholders("Jo Doe@x", "My_Realm.1")
    assert odd["email"] == "jo-doe-x@my-realm-1.invalid"
    assert odd["firstName"] == "Jo Doe@x" and odd["lastName"] == "My_Realm.1"
    assert cu.profile_placeholders("..", "__")["email"] == "user@realm.invalid"


def test_user_view_has_no_credentials_and_sorted_roles():
    rep = {
        "id": "x",
        "username": "customer",
        "enabled": True,
        "emailVerified": True,
        "email": "a@b.c",
        "firstName": "A",
        "lastName": "B",
        "requiredActions": ["b", "a"],
        "credentials": [{"value": PASSWORD}],
        "access": {},
    }
    assert cu.user_view(rep, ["z", "a"]) == {
        "username": "customer",
        "enabled": True,
        "email_verified": True,
        "email": "a@b.c",
        "first_name": "A",
        "last_name": "B",
        "required_actions": ["a", "b"],
        "realm_roles": ["a", "z"],
    }
    assert cu.user_view(None, []) == {}


def test_plan_is_made_from_the_state_alone():
    """The plan needs no Keycloak: a state in, the writes and the diff out."""
    state = cu.UserState(default_role="default-roles-expertflow", missing_roles=["customer"])
    plan = cu.plan_present(state, params())
    assert plan.create and plan.set_password and plan.changed
    assert plan.roles_to_create == ["customer"] and plan.roles_to_add == [
        "customer",
        "offline_access",
        "uma_authorization",
    ]
    assert plan.before == {} and plan.after["password"] == "set" and plan.after["realm_roles"] == GUIDE_ROLES
    existing = dict(id="u1", username="customer", enabled=True, emailVerified=True, requiredActions=[], **PROFILE)
    roles = [{"id": "r-%s" % n, "name": n} for n in GUIDE_ROLES]
    same = cu.plan_present(cu.UserState("default-roles-expertflow", existing, roles, password=cu.VALID), params())
    assert not same.changed and same.before == same.after
    wrong = cu.plan_present(cu.UserState("default-roles-expertflow", existing, roles, password=cu.INVALID), params())
    assert wrong.set_password and not wrong.create and wrong.after["password"] == "changed"
    gone = cu.plan_absent(cu.UserState("default-roles-expertflow", existing, roles))
    assert gone.delete and gone.after == {} and gone.before["realm_roles"] == GUIDE_ROLES


# --------------------------------------------------------------------------- create


def test_create_guide_user_check_mode_predicts_and_writes_nothing(keycloak):
    result = run(check_mode=True)
    assert keycloak.writes == [] and keycloak.checks == []
    assert result["changed"] is True and result["password_changed"] is True
    assert "user 'customer'" in result["msg"] and "realm 'expertflow'" in result["msg"]
    assert result["roles_added"] == ["customer", "offline_access", "uma_authorization"]
    assert result["roles_created"] == ["customer"] and result["roles_removed"] == []
    after = result["diff"]["after"]
    assert result["diff"]["before"] == {}
    assert after["password"] == "set" and after["realm_roles"] == GUIDE_ROLES
    assert after["email"] == "customer@expertflow.invalid" and after["email_verified"] is True
    assert result["user"]["id"] is None and "password" not in result["user"]


def test_create_guide_user_then_rerun_is_unchanged(keycloak):
    predicted = run(check_mode=True)
    result = run()
    assert result["changed"] is True and result["password_changed"] is True
    created = keycloak.user_named("customer")
    assert keycloak.passwords[created["id"]] == PASSWORD
    assert created["enabled"] is True and created["emailVerified"] is True
    assert (created["firstName"], created["lastName"]) == ("customer", REALM)
    assert sorted(keycloak.mappings[created["id"]]) == GUIDE_ROLES
    assert ("create_realm_role", {"name": "customer"}, False) in keycloak.writes  # no read first: a 409 is fine
    # the prediction was exact
    user = dict(result["user"])
    assert user.pop("id") == created["id"]
    predicted_user = dict(predicted["user"])
    predicted_user.pop("id")
    assert user == predicted_user
    assert result["diff"] == predicted["diff"]
    # the credential went inline with the POST: no separate password write
    assert not [w for w in keycloak.writes if w[0] == "set_user_password"]

    writes = len(keycloak.writes)
    again = run()
    assert again["changed"] is False and again["password_changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    assert again["user"] == result["user"]
    assert len(keycloak.writes) == writes
    assert keycloak.checks == [("customer", "admin-cli", None)]  # a password grant through public admin-cli
    assert run(check_mode=True)["changed"] is False


def test_create_without_password_and_without_profile_fill(keycloak):
    options = dict(password=None, fill_profile=False, realm_roles=[], email_verified=False)
    result = run(**options)
    created = keycloak.user_named("customer")
    assert result["password_changed"] is False and keycloak.passwords[created["id"]] is None
    assert "email" not in created and "firstName" not in created
    assert created["emailVerified"] is False
    assert result["roles_added"] == [] and keycloak.mappings[created["id"]] == ["default-roles-expertflow"]
    assert "password" not in result["diff"]["after"]
    assert run(**options)["changed"] is False


def test_create_with_given_profile(keycloak):
    options = dict(username="Widget", email="Widget@Example.COM", first_name="Cus", last_name="Tomer")
    predicted = run(check_mode=True, **options)
    result = run(**options)
    # predicted as Keycloak stores it: username and e-mail in lower case
    assert predicted["user"]["username"] == "widget" and predicted["user"]["email"] == "widget@example.com"
    assert {k: v for k, v in result["user"].items() if k != "id"} == {
        k: v for k, v in predicted["user"].items() if k != "id"
    }
    created = keycloak.user_named("widget")
    assert (created["email"], created["firstName"], created["lastName"]) == ("widget@example.com", "Cus", "Tomer")
    # e-mails are compared the way Keycloak stores them (lower case)
    assert run(**options)["changed"] is False


@pytest.mark.parametrize(
    "version, reason",
    [
        ("26.7.3", "Invalid password: minimum length 20."),
        ("19.0.1", "Password policy not met"),
    ],
)
def test_create_with_rejected_password_creates_nothing(make_keycloak, version, reason):
    keycloak = make_keycloak(version=version, policy="length(20)")
    keycloak.min_length = 20
    message = fail()
    assert_facts(
        message,
        "rejected the password of user 'customer' in realm 'expertflow'",
        reason,
        "password policy: length(20)",
        "the user was not created",
        "already applied: created realm role 'customer'",
    )
    # the missing role comes first (idempotent: a rerun uses it), the user not at all
    assert keycloak.users == {} and "customer" in keycloak.roles
    assert [w[0] for w in keycloak.writes] == ["create_realm_role", "create_user"]
    # with the role in place, nothing else is written
    assert_facts(fail(), "the user was not created", "this task changed nothing else")
    assert [w[0] for w in keycloak.writes] == ["create_realm_role", "create_user", "create_user"]


def test_create_rejected_without_realm_policy_text(keycloak):
    keycloak.min_length = 30
    message = fail()
    assert_facts(message, "minimum length 30.", "the user was not created", "already applied")
    assert "password policy" not in message


def test_create_conflict_and_other_create_errors(keycloak):
    keycloak.fail["create_user"] = (409, {"errorMessage": "User exists with same username"})
    assert_facts(
        fail(),
        "creating user 'customer' in realm 'expertflow'",
        "User exists with same username",
        "409",
        "the user was not created",
        "already applied: created realm role 'customer'",
    )
    keycloak.fail["create_user"] = (400, {"errorMessage": "error-invalid-email"})
    assert_facts(fail(), "creating user 'customer' in realm 'expertflow'", "error-invalid-email", "400", URL)
    keycloak.fail["create_user"] = (400, {"errorMessage": "invalid password format"})
    message = fail(password=None)
    assert "rejected the password" not in message and "invalid password format" in message


# --------------------------------------------------------------------------- validation before writes


def test_missing_role_not_creatable_is_reported_before_any_write(keycloak):
    del keycloak.roles["uma_authorization"]
    assert_facts(
        fail(),
        "Realm role 'uma_authorization' does not exist in realm 'expertflow'",
        "create_missing_roles",
        "this task changed nothing",
    )
    assert keycloak.writes == [] and keycloak.users == {}
    message = fail(realm_roles=["customer", "nope", "uma_authorization"], create_missing_roles=[])
    assert_facts(message, "'customer', 'nope', 'uma_authorization'", "do not exist", "realm 'expertflow'")
    assert keycloak.writes == []


def test_missing_roles_listed_are_created_others_ignored(keycloak):
    del keycloak.roles["offline_access"]
    result = run(create_missing_roles=["customer", "offline_access", "unused"])
    assert result["roles_created"] == ["customer", "offline_access"]
    assert "unused" not in keycloak.roles
    assert sorted(keycloak.mappings[keycloak.user_named("customer")["id"]]) == GUIDE_ROLES


def test_role_lookup_error_other_than_404_fails(keycloak):
    keycloak.fail["get_realm_roles"] = (500, {"error": "unknown_error"})
    assert_facts(fail(), "reading the realm roles in realm 'expertflow'", "500")
    assert keycloak.writes == []


def test_email_used_by_another_user_is_reported_before_any_write(keycloak):
    keycloak.add_user("other", email="taken@example.com")
    message = fail(email="TAKEN@example.com")
    assert_facts(
        message, "E-mail 'TAKEN@example.com'", "user 'other'", "realm 'expertflow'", "this task changed nothing"
    )
    assert keycloak.writes == [] and "customer" not in keycloak.roles
    # also when the existing customer user would get it, and before its password is checked
    keycloak.add_user("customer", password=OTHER_PASSWORD, email="mine@example.com", firstName="a", lastName="b")
    assert "user 'other'" in fail(email="taken@example.com")
    assert keycloak.writes == [] and keycloak.checks == []
    # its own address is no conflict
    assert run(email="mine@example.com")["changed"] is True


def test_duplicate_emails_allowed_skips_the_lookup(make_keycloak):
    keycloak = make_keycloak(duplicate_emails=True)
    keycloak.add_user("other", email="taken@example.com")
    run(email="taken@example.com")
    assert not [c for c in keycloak.calls if c[0] == "get_users" and "email" in (c[1] or {})]
    assert keycloak.user_named("customer")["email"] == "taken@example.com"


def test_lookup_failure_is_reported(keycloak):
    keycloak.fail["get_users"] = (403, {"error": "HTTP 403 Forbidden"})
    assert_facts(fail(), "looking up user 'customer' in realm 'expertflow'", "403", "no permission")


def test_unknown_realm_names_the_user(keycloak):
    assert_facts(fail(realm="nope"), "user 'customer'", "Realm 'nope' does not exist", URL)
    assert keycloak.writes == []


# --------------------------------------------------------------------------- existing user


def test_existing_user_keeps_operator_values_and_gets_missing_ones(keycloak):
    uid = keycloak.add_user(
        "customer",
        password=PASSWORD,
        email="ops@example.com",
        firstName="Ops",
        lastName="",
        emailVerified=False,
        enabled=False,
        attributes={"team": ["a"]},
    )
    result = run()
    user = keycloak.users[uid]
    assert user["email"] == "ops@example.com" and user["firstName"] == "Ops" and user["lastName"] == REALM
    assert user["enabled"] is True and user["emailVerified"] is True and user["attributes"] == {"team": ["a"]}
    update = [w for w in keycloak.writes if w[0] == "update_user"][0][2]
    assert update["attributes"] == {"team": ["a"]}  # the whole representation goes back
    assert result["diff"]["before"]["enabled"] is False and result["diff"]["after"]["enabled"] is True
    assert result["password_changed"] is False
    # given values are enforced
    run(first_name="New", email="new@example.com")
    assert (keycloak.users[uid]["firstName"], keycloak.users[uid]["email"]) == ("New", "new@example.com")


def test_wrong_password_is_detected_predicted_and_changed(keycloak):
    uid = keycloak.add_user(
        "customer",
        password=OTHER_PASSWORD,
        emailVerified=True,
        roles=["customer", "offline_access", "uma_authorization"],
        **PROFILE,
    )
    keycloak.add_role("customer")
    predicted = run(check_mode=True)
    assert keycloak.writes == []
    assert predicted["changed"] is True and predicted["password_changed"] is True
    assert predicted["diff"]["after"]["password"] == "changed" and "password" not in predicted["diff"]["before"]
    assert {k: v for k, v in predicted["diff"]["after"].items() if k != "password"} == predicted["diff"]["before"]
    result = run()
    assert result["changed"] is True and result["password_changed"] is True
    assert keycloak.writes == [("set_user_password", uid, False)]
    assert keycloak.passwords[uid] == PASSWORD
    assert run()["changed"] is False


def test_history_policy_rerun_never_sets_the_same_password(make_keycloak):
    keycloak = make_keycloak(policy="passwordHistory(3)")
    keycloak.history = 3
    run()
    assert run()["changed"] is False
    assert run()["changed"] is False
    # always re-sets it, and the policy refuses
    assert_facts(
        fail(update_password="always"),
        "rejected the password of user 'customer' in realm 'expertflow'",
        "must not be equal to any of last 3 passwords",
        "password policy: passwordHistory(3)",
        "the password was not changed",
        "this task changed nothing else",
    )


def test_rejected_new_password_changes_nothing_else(make_keycloak):
    keycloak = make_keycloak(policy="length(20)")
    uid = keycloak.add_user("customer", password="x" * 25, enabled=False)
    keycloak.min_length = 20
    assert_facts(
        fail(), "minimum length 20.", "the password was not changed", "already applied: created realm role 'customer'"
    )
    assert keycloak.users[uid]["enabled"] is False and keycloak.passwords[uid] == "x" * 25
    assert [w[0] for w in keycloak.writes] == ["create_realm_role", "set_user_password"]


def test_set_password_other_error_is_not_called_a_policy_problem(keycloak):
    keycloak.add_user("customer", password=OTHER_PASSWORD)
    keycloak.fail["set_user_password"] = (403, {"error": "HTTP 403 Forbidden"})
    message = fail()
    assert_facts(message, "setting the password of user 'customer' in realm 'expertflow'", "403")
    assert "rejected the password" not in message


def test_set_password_400_not_about_the_password_reports_keycloaks_answer(make_keycloak):
    keycloak = make_keycloak(policy="length(8)")
    keycloak.add_role("customer")
    keycloak.add_user("customer", password=OTHER_PASSWORD, roles=["customer"])
    keycloak.fail["set_user_password"] = (400, {"error": "unknown_error", "error_description": "Cannot parse the JSON"})
    message = fail()
    assert_facts(
        message,
        "setting the password of user 'customer' in realm 'expertflow'",
        URL,
        "400",
        "unknown_error: Cannot parse the JSON",
        "this task changed nothing",
    )
    assert "rejected the password" not in message and "length(8)" not in message


def test_update_password_on_create_and_always(keycloak):
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD)
    result = run(update_password="on_create")
    assert result["password_changed"] is False and keycloak.passwords[uid] == OTHER_PASSWORD and keycloak.checks == []
    result = run(update_password="always")
    assert result["password_changed"] is True and result["changed"] is True and keycloak.passwords[uid] == PASSWORD
    assert run(update_password="always")["changed"] is True
    assert keycloak.checks == []


def test_no_password_option_means_no_check(keycloak):
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD, requiredActions=["UPDATE_PASSWORD"])
    result = run(password=None)
    assert keycloak.checks == [] and result["password_changed"] is False
    # the pending action is not touched when the password is not managed
    assert keycloak.users[uid]["requiredActions"] == ["UPDATE_PASSWORD"]


def test_temporary_password_action_is_removed(keycloak):
    uid = keycloak.add_user("customer", password=PASSWORD, requiredActions=["UPDATE_PASSWORD"], **PROFILE)
    result = run()
    # "not fully set up" only comes with a right password: no password write; the run drops the action
    assert result["password_changed"] is False
    assert keycloak.users[uid]["requiredActions"] == []
    assert result["diff"]["before"]["required_actions"] == ["UPDATE_PASSWORD"]
    assert result["diff"]["after"]["required_actions"] == []
    assert run()["changed"] is False


@pytest.mark.parametrize("version", ["26.7.3", "19.0.1"])
@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize(
    "actions", [["CONFIGURE_TOTP"], ["UPDATE_PASSWORD", "CONFIGURE_TOTP"], ["VERIFY_EMAIL", "TERMS_AND_CONDITIONS"]]
)
def test_a_pending_required_action_is_a_failure_not_up_to_date(make_keycloak, version, check_mode, actions):
    """Issue 18: "Account is not fully set up" was reported "up to date"; the customer gets no token."""
    keycloak = make_keycloak(version=version)
    keycloak.add_role("customer")
    keycloak.add_user(
        "customer",
        password=PASSWORD,
        emailVerified=True,
        requiredActions=actions,
        roles=["customer", "offline_access", "uma_authorization"],
        **PROFILE,
    )
    message = fail(check_mode=check_mode)
    remaining = ", ".join(sorted(a for a in actions if a != "UPDATE_PASSWORD"))
    assert_facts(
        message,
        "User 'customer' in realm 'expertflow' cannot log in",
        "Account is not fully set up",
        "pending required actions %s" % remaining,
        "Required user actions",
    )
    assert keycloak.writes == [] and len(keycloak.checks) == 1


def test_a_required_profile_attribute_without_value_is_a_failure_on_26(keycloak):
    keycloak.required_attributes = ["department"]
    uid = keycloak.add_user("customer", password=PASSWORD, emailVerified=True, **PROFILE)
    assert_facts(fail(), "cannot log in", "Account is not fully set up", "have no value: department")
    assert keycloak.writes == [] and len(keycloak.checks) == 1
    keycloak.users[uid]["attributes"] = {"department": ["sales"]}
    assert run()["changed"] is True  # the roles; the customer can log in now


def test_incomplete_profile_on_26_is_filled_or_a_failure(keycloak):
    uid = keycloak.add_user("customer", password=PASSWORD)
    message = fail(fill_profile=False)
    assert_facts(message, "cannot log in", "have no value: email, firstName, lastName")
    assert keycloak.writes == [] and keycloak.passwords[uid] == PASSWORD
    result = run()  # fill_profile (the default) repairs it
    assert result["password_changed"] is False and keycloak.passwords[uid] == PASSWORD
    assert [w[0] for w in keycloak.writes] == ["create_realm_role", "update_user", "assign_realm_roles"]


@pytest.mark.parametrize("version", ["26.7.3", "19.0.1"])
def test_disabled_user_with_right_password(make_keycloak, version):
    keycloak = make_keycloak(version=version)
    uid = keycloak.add_user("customer", password=PASSWORD, enabled=False, **PROFILE)
    predicted = run(check_mode=True)
    assert keycloak.writes == []
    assert predicted["password_changed"] is False and predicted["changed"] is True
    if version.startswith("26"):
        # 26.7.3 says "Account disabled" only to the right password: the password is known to work
        assert "password" not in predicted["diff"]["after"]
    else:
        # 19 says it whatever the password: checked after enabling
        assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
    result = run()
    assert result["password_changed"] is False and "password" not in result["diff"]["after"]
    assert keycloak.users[uid]["enabled"] is True
    assert not [w for w in keycloak.writes if w[0] == "set_user_password"]
    if version.startswith("26"):
        assert result["diff"] == predicted["diff"]  # check mode predicted the real run
        assert len(keycloak.checks) == 2
    else:
        assert len(keycloak.checks) == 3


@pytest.mark.parametrize(
    "version, fail_server_info",
    [("26.7.2", False), ("26.7.3", True), ("", False), ("nightly", False)],
    ids=["older-26", "no-server-info", "empty-version", "no-number"],
)
def test_disabled_answer_is_trusted_only_from_the_known_version(make_keycloak, version, fail_server_info):
    """Before 26.7.3, or when the version cannot be read, "Account disabled" may come before the password check."""
    keycloak = make_keycloak(version=version or "26.7.3")
    keycloak.version = version  # what the server info says; the token endpoint answers as 26 does
    if fail_server_info:
        keycloak.fail["get_server_info"] = (403, {"error": "HTTP 403 Forbidden"})
    keycloak.add_user("customer", password=PASSWORD, enabled=False, **PROFILE)
    predicted = run(check_mode=True)
    assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
    assert keycloak.writes == []
    result = run()
    assert result["password_changed"] is False and "password" not in result["diff"]["after"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("26.7.3", (26, 7, 3)),
        ("26.7.3.redhat-00001", (26, 7, 3)),
        ("27.0.0-SNAPSHOT", (27, 0, 0)),
        ("19.0.1", (19, 0, 1)),
        ("", ()),
        (None, ()),
        ("nightly", ()),
        ("26", (26,)),
    ],
)
def test_version_tuple(text, expected):
    assert cu.version_tuple(text) == expected
    assert (cu.version_tuple(text) >= cu.DISABLED_AFTER_PASSWORD_FROM) is (expected >= (26, 7, 3))


@pytest.mark.parametrize("version", ["26.7.3", "19.0.1"])
def test_disabled_user_with_wrong_password(make_keycloak, version):
    keycloak = make_keycloak(version=version)
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD, enabled=False, **PROFILE)
    predicted = run(check_mode=True)
    assert keycloak.writes == []
    result = run()
    assert result["password_changed"] is True and result["diff"]["after"]["password"] == "changed"
    assert keycloak.passwords[uid] == PASSWORD and keycloak.users[uid]["enabled"] is True
    if version.startswith("26"):
        assert predicted["password_changed"] is True and result["diff"] == predicted["diff"]
        assert [w[0] for w in keycloak.writes][:3] == ["create_realm_role", "set_user_password", "update_user"]
    else:
        assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
        assert [w[0] for w in keycloak.writes][:3] == ["create_realm_role", "update_user", "set_user_password"]
    assert run()["changed"] is False


def test_disabled_user_on_19_recheck_rejected_password_says_what_was_applied(make_keycloak):
    keycloak = make_keycloak(version="19.0.1", policy="length(20)")
    uid = keycloak.add_user("customer", password="y" * 25, enabled=False, **PROFILE)
    keycloak.min_length = 20
    assert_facts(
        fail(),
        "the password was not changed",
        "already applied: created realm role 'customer', updated the user (emailVerified, enabled)",
    )
    assert keycloak.users[uid]["enabled"] is True


def test_user_staying_disabled_on_19_keeps_its_password(make_keycloak):
    keycloak = make_keycloak(version="19.0.1")
    uid = keycloak.add_user(
        "customer",
        password=OTHER_PASSWORD,
        enabled=False,
        emailVerified=True,
        roles=["offline_access", "uma_authorization"],
        **PROFILE,
    )
    keycloak.add_role("customer")
    keycloak.mappings[uid].append("customer")
    result = run(enabled=False)
    assert result["changed"] is False and keycloak.passwords[uid] == OTHER_PASSWORD


@pytest.mark.parametrize("existing", [False, True])
def test_forbidden_role_creation_writes_nothing_else(keycloak, existing):
    """An admin without manage-realm: refused at the first write, the user is not touched."""
    if existing:
        uid = keycloak.add_user("customer", password=OTHER_PASSWORD, enabled=False, requiredActions=["UPDATE_PASSWORD"])
        user_before = copy.deepcopy(keycloak.users[uid])
    keycloak.fail["create_realm_role"] = (403, {"error": "HTTP 403 Forbidden"})
    predicted = run(check_mode=True)
    assert predicted["roles_created"] == ["customer"] and keycloak.writes == []
    message = fail()
    assert_facts(
        message,
        "creating realm role 'customer' in realm 'expertflow'",
        URL,
        "no permission",
        "403",
        "user 'admin'",
        "manage-realm",
        "create role 'customer' beforehand",
        "this task changed nothing",
    )
    assert [w[0] for w in keycloak.writes] == ["create_realm_role"]
    if existing:
        assert keycloak.users[uid] == user_before and keycloak.passwords[uid] == OTHER_PASSWORD
        assert keycloak.mappings[uid] == ["default-roles-expertflow"]
    else:
        assert keycloak.users == {}


def test_temporary_password_stays_when_the_password_is_neither_set_nor_checked(keycloak):
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD, requiredActions=["UPDATE_PASSWORD"], **PROFILE)
    predicted = run(check_mode=True, update_password="on_create")
    assert predicted["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    result = run(update_password="on_create")
    assert keycloak.checks == [] and result["password_changed"] is False
    assert keycloak.users[uid]["requiredActions"] == ["UPDATE_PASSWORD"]  # still temporary
    assert not [
        w
        for w in keycloak.writes
        if w[0] == "update_user" and "requiredActions" in w[2] and w[2]["requiredActions"] != ["UPDATE_PASSWORD"]
    ]
    assert result["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    assert run(update_password="on_create")["changed"] is False
    # set in this run: no longer temporary
    result = run(update_password="always")
    assert result["password_changed"] is True and keycloak.users[uid]["requiredActions"] == []


def test_temporary_wrong_password_is_set_and_the_action_removed(keycloak):
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD, requiredActions=["UPDATE_PASSWORD"], **PROFILE)
    predicted = run(check_mode=True)
    assert predicted["password_changed"] is True and predicted["diff"]["after"]["required_actions"] == []
    result = run()
    assert result["diff"] == predicted["diff"]
    assert keycloak.passwords[uid] == PASSWORD and keycloak.users[uid]["requiredActions"] == []


def test_temporary_password_of_disabled_user_on_19_goes_after_the_recheck(make_keycloak):
    keycloak = make_keycloak(version="19.0.1")
    uid = keycloak.add_user(
        "customer", password=PASSWORD, enabled=False, requiredActions=["UPDATE_PASSWORD"], **PROFILE
    )
    predicted = run(check_mode=True)
    assert predicted["diff"]["after"]["required_actions"] == []
    assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
    result = run()
    assert result["password_changed"] is False and keycloak.passwords[uid] == PASSWORD
    updates = [w[2] for w in keycloak.writes if w[0] == "update_user"]
    # enabled first (the action still pending), then the action removed once the check said VALID
    assert updates[0]["enabled"] is True and updates[0]["requiredActions"] == ["UPDATE_PASSWORD"]
    assert updates[1]["requiredActions"] == []
    assert keycloak.users[uid]["requiredActions"] == [] and result["user"]["required_actions"] == []
    assert run()["changed"] is False


# --------------------------------------------------------------------------- brute force detection


def _locked_customer(keycloak, **fields):
    keycloak.realm["bruteForceProtected"] = True
    keycloak.add_role("customer")
    uid = keycloak.add_user(
        "customer",
        password=PASSWORD,
        emailVerified=True,
        roles=["customer", "offline_access", "uma_authorization"],
        **dict(PROFILE, **fields),
    )
    keycloak.locked.add(uid)
    return uid


def test_locked_user_password_is_neither_checked_nor_reset(make_keycloak):
    keycloak = make_keycloak(policy="passwordHistory(3)")
    keycloak.history = 3
    uid = _locked_customer(keycloak)
    for check_mode in (True, False):
        result, warnings = run_warned(check_mode=check_mode)
        assert result["changed"] is False and result["password_changed"] is False
        [warning] = warnings
        assert_facts(
            warning,
            "User 'customer' in realm 'expertflow'",
            "locked by brute force detection",
            "neither checked",
            "nor changed",
        )
        assert "password" not in result["diff"]["after"]
    assert keycloak.checks == [] and keycloak.writes == [] and keycloak.passwords[uid] == PASSWORD
    assert ("get_bruteforce_detection_status", uid) in keycloak.calls
    # once unlocked: checked, valid, nothing to do, no warning
    keycloak.locked.clear()
    result, warnings = run_warned()
    assert result["changed"] is False and warnings == [] and len(keycloak.checks) == 1


def test_locked_user_keeps_a_pending_temporary_password_and_gets_other_changes(keycloak):
    uid = _locked_customer(keycloak, requiredActions=["UPDATE_PASSWORD"], enabled=False)
    predicted = run(check_mode=True)
    assert predicted["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    assert "password" not in predicted["diff"]["after"]
    result, warnings = run_warned()
    assert result["diff"] == predicted["diff"] and len(warnings) == 2
    assert "locked by brute force detection" in warnings[0] and "was disabled and is enabled" in warnings[1]
    assert keycloak.users[uid]["enabled"] is True and keycloak.users[uid]["requiredActions"] == ["UPDATE_PASSWORD"]
    assert keycloak.checks == [] and not [w for w in keycloak.writes if w[0] == "set_user_password"]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_a_failed_check_under_brute_force_detection_says_how_to_reset(keycloak, check_mode):
    keycloak.realm.update(bruteForceProtected=True, failureFactor=3)
    uid = keycloak.add_user("customer", password=OTHER_PASSWORD, emailVerified=True, **PROFILE)
    result, warnings = run_warned(check_mode=check_mode)
    assert result["password_changed"] is True and len(keycloak.checks) == 1  # one attempt, never more
    [warning] = [w for w in warnings if "failed login" in w]
    assert_facts(
        warning,
        "user 'customer' in realm 'expertflow'",
        "locks the user after 3 failures",
        "at most once per run",
        "Unlock users",
        "attack-detection/brute-force/users/%s" % uid,
        "update_password",
    )
    assert PASSWORD not in warning and OTHER_PASSWORD not in warning


def test_a_failed_check_without_brute_force_detection_warns_nothing(keycloak):
    keycloak.realm["bruteForceProtected"] = False
    keycloak.add_user("customer", password=OTHER_PASSWORD, emailVerified=True, **PROFILE)
    assert run_warned()[1] == []


def test_the_password_check_is_never_resent(keycloak):
    keycloak.add_user("customer", password=PASSWORD, **PROFILE)
    user = customer_user()
    openids = []
    original = cu_connection.KeycloakOpenID
    cu_connection.KeycloakOpenID = lambda **options: openids.append(options) or original(**options)
    try:
        user.password_state(keycloak.user_named("customer")["id"])
    finally:
        cu_connection.KeycloakOpenID = original
    assert [options["max_retries"] for options in openids] == [0]


def test_brute_force_status_not_read_when_the_realm_has_no_detection(keycloak):
    keycloak.realm["bruteForceProtected"] = False
    keycloak.add_user("customer", password=PASSWORD)
    run()
    assert not [c for c in keycloak.calls if c[0] == "get_bruteforce_detection_status"]
    assert len(keycloak.checks) == 1


def test_brute_force_status_error_fails_before_any_write(keycloak):
    keycloak.add_user("customer", password=OTHER_PASSWORD)
    keycloak.fail["get_bruteforce_detection_status"] = (403, {"error": "HTTP 403 Forbidden"})
    assert_facts(fail(), "brute force detection status of user 'customer' in realm 'expertflow'", "403")
    assert keycloak.writes == [] and keycloak.checks == []


# --------------------------------------------------------------------------- the password-check client


def test_check_through_confidential_client_reads_its_secret_once(keycloak):
    uid = keycloak.add_user("customer", password=PASSWORD)
    user = customer_user(password_check_client_id="cim")
    assert user.password_state(uid) == cu.VALID
    assert user.password_state(uid) == cu.VALID
    # the first grant, without a secret, is refused for the client (the user's password is not looked at)
    assert keycloak.checks == [("customer", "cim", None)] + [("customer", "cim", CIM_SECRET)] * 2
    assert [c for c in keycloak.calls if c[0] == "get_client_secrets"] == [("get_client_secrets", "c-cim")]


def test_a_disabled_check_client_is_refused_naming_realm_and_client(keycloak):
    keycloak.clients[keycloak.uuid_of("cim")]["enabled"] = False
    keycloak.add_user("customer", password=PASSWORD, **PROFILE)
    message = fail(password_check_client_id="cim")
    assert_facts(message, "client 'cim' (password_check_client_id)", "realm 'expertflow'", "is disabled", "Enabled")
    assert keycloak.writes == []


def test_check_with_given_secret_does_not_read_it(keycloak):
    keycloak.add_user("customer", password=PASSWORD)
    run(password_check_client_id="cim", password_check_client_secret=CIM_SECRET)
    assert keycloak.checks == [("customer", "cim", CIM_SECRET)]
    assert not [c for c in keycloak.calls if c[0] == "get_client_secrets"]


def test_check_client_missing_or_without_direct_grants(keycloak):
    keycloak.add_user("customer", password=OTHER_PASSWORD)
    assert_facts(
        fail(password_check_client_id="nope"),
        "password of user 'customer' cannot be checked",
        "client 'nope' (password_check_client_id)",
        "realm 'expertflow'",
        "this task changed nothing",
    )
    assert_facts(
        fail(password_check_client_id="web"),
        "client 'web' (password_check_client_id)",
        "does not allow direct access grants",
    )
    # one grant each, refused for the client before Keycloak looks at the user's password
    assert keycloak.writes == [] and keycloak.checks == [("customer", "nope", None), ("customer", "web", None)]


def test_check_refused_for_the_client_fails_before_any_write(keycloak):
    keycloak.add_user("customer", password=PASSWORD)
    message = fail(password_check_client_id="cim", password_check_client_secret="not-the-secret")
    assert_facts(
        message,
        "checking the password of user 'customer' in realm 'expertflow'",
        "client 'cim'",
        "unauthorized_client",
        "401",
    )
    assert "not-the-secret" not in message
    assert keycloak.writes == []


# --------------------------------------------------------------------------- roles


def test_add_mode_keeps_other_mappings(keycloak):
    keycloak.add_role("customer")
    keycloak.add_role("legacy")
    uid = keycloak.add_user(
        "customer", password=PASSWORD, emailVerified=True, roles=["legacy", "offline_access"], **PROFILE
    )
    result = run()
    assert result["roles_added"] == ["customer", "uma_authorization"] and result["roles_removed"] == []
    assert result["roles_created"] == []
    assert sorted(keycloak.mappings[uid]) == [
        "customer",
        "default-roles-expertflow",
        "legacy",
        "offline_access",
        "uma_authorization",
    ]
    assert result["diff"]["before"]["realm_roles"] == ["default-roles-expertflow", "legacy", "offline_access"]
    assert result["user"]["realm_roles"] == sorted(keycloak.mappings[uid])


def test_exact_mode_removes_unlisted_but_never_the_default_roles(keycloak):
    keycloak.add_role("customer")
    keycloak.add_role("legacy")
    uid = keycloak.add_user(
        "customer", password=PASSWORD, emailVerified=True, roles=["legacy", "offline_access"], **PROFILE
    )
    options = dict(roles_mode="exact", realm_roles=["customer", "offline_access"])
    predicted = run(check_mode=True, **options)
    assert keycloak.writes == []
    assert predicted["roles_added"] == ["customer"] and predicted["roles_removed"] == ["legacy"]
    result = run(**options)
    assert sorted(keycloak.mappings[uid]) == ["customer", "default-roles-expertflow", "offline_access"]
    assert result["diff"] == predicted["diff"]
    assert ("delete_realm_roles_of_user", uid, ["legacy"]) in keycloak.writes
    assert run(**options)["changed"] is False
    # the default roles composite can be listed, and then stays as well
    assert run(roles_mode="exact", realm_roles=["customer", "default-roles-expertflow"])["roles_removed"] == [
        "offline_access"
    ]


def test_exact_mode_on_create_and_duplicate_role_names(keycloak):
    result = run(roles_mode="exact", realm_roles=["customer", "customer", "offline_access"])
    assert result["roles_added"] == ["customer", "offline_access"] and result["roles_removed"] == []
    assert sorted(keycloak.mappings[keycloak.user_named("customer")["id"]]) == [
        "customer",
        "default-roles-expertflow",
        "offline_access",
    ]


def test_default_role_name_without_default_role_in_realm_representation(keycloak):
    del keycloak.realm["defaultRole"]
    keycloak.add_role("customer")
    uid = keycloak.add_user("customer", password=PASSWORD, emailVerified=True, roles=["customer"], **PROFILE)
    result = run(roles_mode="exact", realm_roles=["customer"])
    assert result["changed"] is False and "default-roles-expertflow" in keycloak.mappings[uid]


def test_mapping_failure_is_reported(keycloak):
    keycloak.fail["assign_realm_roles"] = (403, {"error": "HTTP 403 Forbidden"})
    assert_facts(
        fail(),
        "assigning realm roles customer, offline_access, uma_authorization to user 'customer' in realm 'expertflow'",
        "403",
        "already applied: created realm role 'customer', created the user with its password",
    )


# --------------------------------------------------------------------------- absent


def test_absent_deletes_the_user_but_not_the_roles(keycloak):
    run()
    uid = keycloak.user_named("customer")["id"]
    writes = len(keycloak.writes)
    predicted = run(check_mode=True, state="absent")
    assert len(keycloak.writes) == writes
    assert predicted["changed"] is True and predicted["diff"]["after"] == {}
    assert predicted["diff"]["before"]["realm_roles"] == GUIDE_ROLES
    result = run(state="absent")
    assert result["changed"] is True and result["user"] == {} and uid not in keycloak.users
    assert "customer" in keycloak.roles
    assert result["diff"] == predicted["diff"]
    again = run(state="absent")
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}


def test_absent_delete_failure(keycloak):
    keycloak.add_user("customer")
    keycloak.fail["delete_user"] = (403, {"error": "HTTP 403 Forbidden"})
    assert_facts(fail(state="absent"), "deleting user 'customer' in realm 'expertflow'", "403")


def test_username_lookup_is_case_insensitive_and_exact(keycloak):
    keycloak.add_user("customer2", password=PASSWORD)
    assert customer_user(username="Customer").find() is None
    uid = keycloak.add_user("customer", password=PASSWORD)
    assert customer_user(username="CUSTOMER").find()["id"] == uid

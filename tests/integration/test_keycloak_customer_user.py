"""Integration tests of cx.api_auth.keycloak_customer_user against real Keycloak servers.

Every test runs once per server of the ``keycloak`` fixture (26.x at ``/`` and 19.x under
``/auth``), in realms of its own seeded by the fixture (``make_tenant``: realm + confidential
client ``cim`` with direct access grants) and deleted afterwards. The module runs through
the real ``ansible`` CLI (``run_module``); what it did is checked with the fixture's own admin
REST helper, independent of the code under test, and with the tokens Keycloak then issues
to the customer user through client ``cim``.
"""

import re
import time

import pytest

from ._runner import run_module
from .helpers import Tenant, assert_mentions, warnings_in

pytestmark = pytest.mark.keycloak

MODULE = "keycloak_customer_user"
USER = "customer"
PASSWORD = "Cust-pw-4711-first"
NEW_PASSWORD = "Cust-pw-4711-second"
GUIDE_ROLES = {"customer", "offline_access", "uma_authorization"}
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}")


# --------------------------------------------------------------------------- helpers


class CustomerTenant(Tenant):
    """A tenant realm, plus running the module and reading back everything it may write."""

    def run(self, check=False, diff=False, verbosity=0, **kwargs):
        """Run the module; ``(result, output)`` with ``result["failed"]`` as the user saw it."""
        result, output = run_module(MODULE, self.args(**kwargs), check=check, diff=diff, verbosity=verbosity)
        # the runner's verdict is what the user saw: "localhost | FAILED! => {...}"
        assert result["failed"] is ("FAILED!" in output), output
        if result["failed"]:  # changed only when part of the plan was applied before the failure
            assert result.get("changed") is ("already applied" in result["msg"]), output
        return result, output

    def user(self, username=USER):
        return super().user(username)

    def snapshot(self, username=USER):
        """Everything the module may write: the user, its credentials, mappings, realm roles."""
        roles = sorted(r["name"] for r in self.kc.rest("GET", "realms/%s/roles" % self.realm))
        user = self.user(username)
        if user is None:
            return {"user": None, "roles": roles}
        uid = user["id"]
        return {
            "user": self.kc.rest("GET", "realms/%s/users/%s" % (self.realm, uid)),
            "credentials": self.kc.rest("GET", "realms/%s/users/%s/credentials" % (self.realm, uid)),
            "mappings": self.mappings(uid),
            "roles": roles,
        }

    def access_claims(self, password, username=USER):
        """The access token claims ``username`` gets through client ``cim`` with ``password``."""
        return self.tokens(username, password)[0]


@pytest.fixture
def tenant(make_tenant):
    return make_tenant(kind=CustomerTenant)


def ok(result):
    assert result["failed"] is False, result.get("msg")
    return result


# --------------------------------------------------------------------------- the guide


def test_guide_steps_create_rerun_and_token_roles(tenant):
    """Steps 2 and 3 with the guide's values: a user that gets tokens with the three roles."""
    empty = tenant.snapshot()
    assert empty["user"] is None and "customer" not in empty["roles"]

    predicted = tenant.run(check=True, diff=True, password="customer")[0]
    ok(predicted)
    assert predicted["changed"] is True and predicted["password_changed"] is True
    assert tenant.snapshot() == empty

    result = tenant.run(diff=True, password="customer")[0]
    ok(result)
    assert result["changed"] is True and result["password_changed"] is True
    assert result["diff"] == predicted["diff"]
    assert {k: v for k, v in result["user"].items() if k != "id"} == {
        k: v for k, v in predicted["diff"]["after"].items() if k != "password"
    }
    user = tenant.user()
    assert user["enabled"] is True and user["emailVerified"] is True
    assert user["email"] == "customer@%s.invalid" % tenant.realm
    assert tenant.mappings(user["id"]) == sorted(GUIDE_ROLES | {"default-roles-%s" % tenant.realm})
    assert tenant.role("customer")["name"] == "customer"

    # the real effect: a token for customer/customer through cim with the three roles
    claims = tenant.access_claims("customer")
    assert GUIDE_ROLES <= set(claims["realm_access"]["roles"])
    assert claims["preferred_username"] == "customer"

    snapshot = tenant.snapshot()
    again = tenant.run(diff=True, password="customer")[0]
    ok(again)
    assert again["changed"] is False and again["password_changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    checked = tenant.run(check=True, password="customer")[0]
    assert ok(checked)["changed"] is False
    assert tenant.snapshot() == snapshot


def test_result_and_diff_content(tenant):
    where = "user 'customer' in realm '%s'" % tenant.realm
    details = "realm role(s) 'customer'; %s role(s) 'customer', 'offline_access', 'uma_authorization'; set the password"
    predicted = tenant.run(check=True, password=PASSWORD)[0]
    assert ok(predicted)["msg"] == "Would create %s (create %s)" % (where, details % "grant")
    result = tenant.run(diff=True, password=PASSWORD)[0]
    ok(result)
    assert result["msg"] == "Created %s (created %s)" % (where, details % "granted")
    assert PASSWORD not in result["msg"]
    uid = tenant.user()["id"]
    roles = sorted(GUIDE_ROLES | {"default-roles-%s" % tenant.realm})
    assert result["user"] == {
        "id": uid,
        "username": "customer",
        "enabled": True,
        "email_verified": True,
        "email": "customer@%s.invalid" % tenant.realm,
        "first_name": "customer",
        "last_name": tenant.realm,
        "required_actions": [],
        "realm_roles": roles,
    }
    assert result["roles_added"] == sorted(GUIDE_ROLES) and result["roles_created"] == ["customer"]
    assert result["roles_removed"] == []
    assert result["diff"]["before"] == {}
    after = dict(result["diff"]["after"])
    assert after.pop("password") == "set"
    assert after == {k: v for k, v in result["user"].items() if k != "id"}
    assert_mentions(result["msg"], "created", "user 'customer'", "realm '%s'" % tenant.realm)
    for check in (False, True):
        assert ok(tenant.run(check=check, password=PASSWORD)[0])["msg"] == "User %s is up to date" % where[5:]


def test_password_history_rerun_and_password_change(tenant):
    tenant.update(passwordPolicy="passwordHistory(3)")
    ok(tenant.run(password=PASSWORD)[0])
    assert ok(tenant.run(password=PASSWORD)[0])["changed"] is False
    assert ok(tenant.run(password=PASSWORD)[0])["changed"] is False

    # a changed password: detected in check mode, nothing written
    before = tenant.snapshot()
    predicted = tenant.run(check=True, diff=True, password=NEW_PASSWORD)[0]
    ok(predicted)
    assert predicted["changed"] is True and predicted["password_changed"] is True
    assert predicted["diff"]["after"]["password"] == "changed" and "password" not in predicted["diff"]["before"]
    assert predicted["msg"] == "Would update user 'customer' in realm '%s' (set the password)" % tenant.realm
    assert tenant.snapshot() == before
    assert tenant.grant(USER, PASSWORD)[0] == 200

    result = tenant.run(diff=True, password=NEW_PASSWORD)[0]
    ok(result)
    assert result["changed"] is True and result["password_changed"] is True
    assert result["msg"] == "Updated user 'customer' in realm '%s' (set the password)" % tenant.realm
    assert NEW_PASSWORD not in result["msg"] and PASSWORD not in result["msg"]
    assert result["diff"] == predicted["diff"]
    assert tenant.grant(USER, PASSWORD)[0] != 200
    assert GUIDE_ROLES <= set(tenant.access_claims(NEW_PASSWORD)["realm_access"]["roles"])
    assert ok(tenant.run(password=NEW_PASSWORD)[0])["changed"] is False

    # re-setting the current password (update_password=always, what naive automation does):
    # refused by the history policy with Keycloak's reason, nothing changed
    before = tenant.snapshot()
    failed, output = tenant.run(password=NEW_PASSWORD, update_password="always")
    assert failed["failed"] is True
    assert "must not be equal to any of last 3 passwords" in failed["msg"]
    assert "passwordHistory(3)" in failed["msg"]
    assert PASSWORD not in output and NEW_PASSWORD not in output
    assert tenant.snapshot() == before


def test_temporary_password_and_disabled_user_are_repaired(tenant):
    uid = tenant.add_user("customer", PASSWORD, email="ops@example.com", firstName="Ops", lastName="Team")
    tenant.map_roles(uid, "offline_access")
    user = tenant.kc.rest("GET", "realms/%s/users/%s" % (tenant.realm, uid))
    user.update(enabled=False, requiredActions=["UPDATE_PASSWORD"])
    tenant.kc.rest("PUT", "realms/%s/users/%s" % (tenant.realm, uid), json=user)

    before = tenant.snapshot()
    predicted = tenant.run(check=True, diff=True, password=PASSWORD)[0]
    ok(predicted)
    assert predicted["changed"] is True and tenant.snapshot() == before
    assert predicted["diff"]["after"]["required_actions"] == []
    details = "emailVerified, enabled, requiredActions; %s realm role(s) 'customer'; %s role(s) 'customer', 'uma_authorization'"
    where = "user 'customer' in realm '%s'" % tenant.realm
    assert predicted["msg"] == "Would update %s (change %s)" % (where, details % ("create", "grant"))

    result = tenant.run(diff=True, password=PASSWORD)[0]
    ok(result)
    assert result["password_changed"] is False  # the password worked: not re-set
    assert result["msg"] == "Updated %s (changed %s)" % (where, details % ("created", "granted"))
    assert tenant.snapshot()["credentials"] == before["credentials"]
    user = tenant.kc.rest("GET", "realms/%s/users/%s" % (tenant.realm, uid))
    assert user["enabled"] is True and user["requiredActions"] == []
    # values an operator set are kept
    assert (user["email"], user["firstName"], user["lastName"]) == ("ops@example.com", "Ops", "Team")
    assert GUIDE_ROLES <= set(tenant.access_claims(PASSWORD)["realm_access"]["roles"])
    assert ok(tenant.run(password=PASSWORD)[0])["changed"] is False


def test_check_mode_predicts_an_update_and_writes_nothing(tenant):
    uid = tenant.add_user("customer", NEW_PASSWORD, emailVerified=False)
    tenant.kc.rest("POST", "realms/%s/roles" % tenant.realm, json={"name": "legacy"})
    tenant.map_roles(uid, "legacy", "offline_access")
    args = dict(password=PASSWORD, roles_mode="exact", email="Customer.Care@Example.com")

    before = tenant.snapshot()
    predicted = tenant.run(check=True, diff=True, **args)[0]
    ok(predicted)
    assert tenant.snapshot() == before
    assert predicted["changed"] is True and predicted["password_changed"] is True
    assert predicted["roles_added"] == ["customer", "uma_authorization"]
    assert predicted["roles_removed"] == ["legacy"] and predicted["roles_created"] == ["customer"]
    assert predicted["diff"]["before"]["realm_roles"] == ["default-roles-%s" % tenant.realm, "legacy", "offline_access"]
    assert predicted["msg"] == (
        "Would update user 'customer' in realm '%s' (change email, emailVerified, firstName, lastName; "
        "create realm role(s) 'customer'; "
        "grant role(s) 'customer', 'uma_authorization'; revoke role(s) 'legacy'; set the password)" % tenant.realm
    )

    result = tenant.run(diff=True, **args)[0]
    ok(result)
    for key in ("changed", "password_changed", "roles_added", "roles_removed", "roles_created", "diff"):
        assert result[key] == predicted[key], key
    # the user as read back after the run is the one predicted
    assert {k: v for k, v in result["user"].items() if k != "id"} == {
        k: v for k, v in predicted["diff"]["after"].items() if k != "password"
    }
    after = tenant.snapshot()
    assert after["mappings"] == sorted(GUIDE_ROLES | {"default-roles-%s" % tenant.realm})
    assert after["user"]["email"] == "customer.care@example.com" and after["user"]["emailVerified"] is True
    assert "legacy" in after["roles"]  # the role itself stays
    assert ok(tenant.run(check=True, **args)[0])["changed"] is False


def test_password_check_through_client_cim(tenant):
    ok(tenant.run(password=PASSWORD, password_check_client_id="cim")[0])
    # the secret of cim is read through the admin API when not given
    assert ok(tenant.run(password=PASSWORD, password_check_client_id="cim")[0])["changed"] is False
    result, output = tenant.run(
        password=NEW_PASSWORD, password_check_client_id="cim", password_check_client_secret=tenant.client_secret
    )
    assert ok(result)["password_changed"] is True
    assert tenant.client_secret not in output
    failed = tenant.run(password=NEW_PASSWORD, password_check_client_id="no-such-client")[0]
    assert failed["failed"] is True
    assert_mentions(
        failed["msg"], "client 'no-such-client'", "password_check_client_id", "not exist", "realm '%s'" % tenant.realm
    )


# --------------------------------------------------------------------------- roles


def test_roles_add_and_exact_mode(tenant):
    uid = tenant.add_user("customer", PASSWORD, email="c@example.com", firstName="c", lastName="x")
    tenant.kc.rest("POST", "realms/%s/roles" % tenant.realm, json={"name": "legacy"})
    tenant.kc.rest("POST", "realms/%s/roles" % tenant.realm, json={"name": "customer", "description": "ops"})
    tenant.map_roles(uid, "legacy")
    default = "default-roles-%s" % tenant.realm

    result = tenant.run(password=PASSWORD)[0]
    ok(result)
    assert result["roles_added"] == sorted(GUIDE_ROLES) and result["roles_removed"] == []
    assert result["roles_created"] == []  # the existing role is used as it is
    assert tenant.role("customer")["description"] == "ops"
    assert tenant.mappings(uid) == sorted(GUIDE_ROLES | {default, "legacy"})

    result = tenant.run(password=PASSWORD, roles_mode="exact", realm_roles=["customer", "offline_access"])[0]
    ok(result)
    assert result["roles_removed"] == ["legacy", "uma_authorization"]
    assert tenant.mappings(uid) == ["customer", default, "offline_access"]
    assert (
        ok(tenant.run(password=PASSWORD, roles_mode="exact", realm_roles=["customer", "offline_access"])[0])["changed"]
        is False
    )
    # add mode never removes
    assert ok(tenant.run(password=PASSWORD, realm_roles=["customer"])[0])["changed"] is False


def test_missing_roles_are_reported_before_any_write(tenant):
    tenant.kc.rest("DELETE", "realms/%s/roles/uma_authorization" % tenant.realm)
    before = tenant.snapshot()
    failed = tenant.run(password=PASSWORD)[0]
    assert failed["failed"] is True
    assert_mentions(
        failed["msg"],
        "role 'uma_authorization'",
        "not exist",
        "realm '%s'" % tenant.realm,
        "create_missing_roles",
        "this task changed nothing",
    )
    assert tenant.snapshot() == before  # no user, no customer role

    failed = tenant.run(password=PASSWORD, realm_roles=["customer", "ops-role"], check=True)[0]
    assert failed["failed"] is True
    assert_mentions(failed["msg"], "'ops-role'", "not exist", "realm '%s'" % tenant.realm)

    # listed in create_missing_roles, it is created
    result = tenant.run(password=PASSWORD, create_missing_roles=["customer", "uma_authorization"])[0]
    assert ok(result)["roles_created"] == ["customer", "uma_authorization"]
    assert GUIDE_ROLES <= set(tenant.access_claims(PASSWORD)["realm_access"]["roles"])


# --------------------------------------------------------------------------- errors


def test_email_used_by_another_user(tenant):
    tenant.add_user("other", email="taken@example.com")
    before = tenant.snapshot()
    failed = tenant.run(password=PASSWORD, email="Taken@Example.com")[0]
    assert failed["failed"] is True
    assert_mentions(failed["msg"], "'Taken@Example.com'", "already used", "user 'other'", "realm '%s'" % tenant.realm)
    assert tenant.snapshot() == before


def test_password_policy_rejection(tenant):
    tenant.update(passwordPolicy="length(20)")
    before = tenant.snapshot()
    failed, output = tenant.run(password=PASSWORD, verbosity=3)
    assert failed["failed"] is True
    assert_mentions(
        failed["msg"],
        "rejected the password",
        "user 'customer'",
        "realm '%s'" % tenant.realm,
        "length(20)",
        "user was not created",
        "already applied",
        "role 'customer'",
    )
    if tenant.kc.version.startswith("26"):
        assert "Invalid password: minimum length 20." in failed["msg"]
    else:  # 19 answers an inline credential with just this
        assert "Password policy not met" in failed["msg"]
    assert PASSWORD not in output
    after = tenant.snapshot()
    assert after["user"] is None  # no half-created user; the missing role came first
    assert after["roles"] == sorted(before["roles"] + ["customer"])

    long_password = PASSWORD + "-long-enough"
    ok(tenant.run(password=long_password)[0])
    before = tenant.snapshot()
    failed, output = tenant.run(password=NEW_PASSWORD)
    assert failed["failed"] is True
    assert "Invalid password: minimum length 20." in failed["msg"]
    assert_mentions(failed["msg"], "password was not changed", "this task changed nothing else")
    assert NEW_PASSWORD not in output and long_password not in output
    assert tenant.snapshot() == before
    assert tenant.grant(USER, long_password)[0] == 200


def test_admin_without_manage_realm_writes_nothing(tenant):
    """An admin with manage-users but not manage-realm: refused at role creation, before the user."""
    realm = tenant.realm
    tenant.add_user(
        "limited", "Limited-adm1n-pw", email="l@example.com", firstName="l", lastName="l", emailVerified=True
    )
    tenant.grant_client_roles(
        tenant.user("limited")["id"], "realm-management", ["manage-users", "view-users", "view-realm", "view-clients"]
    )
    args = dict(auth_realm=realm, auth_username="limited", auth_password="Limited-adm1n-pw", password=PASSWORD)

    before = tenant.snapshot()
    failed = tenant.run(**args)[0]
    assert failed["failed"] is True
    assert_mentions(
        failed["msg"],
        "role 'customer'",
        "realm '%s'" % realm,
        "403",
        "manage-realm",
        "realm-management",
        "this task changed nothing",
    )
    assert tenant.snapshot() == before  # no user without roles

    # an existing, disabled user with another password: untouched as well
    uid = tenant.add_user("customer", NEW_PASSWORD, enabled=False)
    before = tenant.snapshot()
    assert tenant.run(**args)[0]["failed"] is True
    assert tenant.snapshot() == before
    # once the role exists, the same admin can do the rest
    tenant.kc.rest("POST", "realms/%s/roles" % realm, json={"name": "customer"})
    result = ok(tenant.run(**args)[0])
    assert result["roles_created"] == [] and result["password_changed"] is True
    assert "customer" in tenant.mappings(uid)


def _lock(tenant, uid):
    """One wrong login locks the user (failureFactor 1); wait until Keycloak records it."""
    assert tenant.grant(USER, "wrong-" + PASSWORD)[0] in (400, 401)
    return _wait_locked(tenant, uid)


def _wait_locked(tenant, uid):
    path = "attack-detection/brute-force/users/%s" % uid
    for _attempt in range(100):  # 19 records failures in a background thread
        if tenant.kc.rest("GET", "realms/%s/%s" % (tenant.realm, path))["disabled"]:
            return path
        time.sleep(0.2)
    raise AssertionError("user %s was not locked by brute force detection" % uid)


def test_user_locked_by_brute_force_detection_keeps_its_password(tenant):
    tenant.update(
        bruteForceProtected=True,
        failureFactor=1,
        permanentLockout=False,
        waitIncrementSeconds=900,
        maxFailureWaitSeconds=900,
        passwordPolicy="passwordHistory(3)",
    )
    ok(tenant.run(password=PASSWORD)[0])
    uid = tenant.user()["id"]
    path = _lock(tenant, uid)
    assert tenant.grant(USER, PASSWORD)[0] != 200  # the right password does not help while locked

    before = tenant.snapshot()
    for check in (True, False):
        result, output = tenant.run(check=check, diff=True, password=NEW_PASSWORD)
        assert ok(result)["password_changed"] is False
        assert_mentions(
            " ".join(w for w in warnings_in(output) if "brute force" in w),
            "user 'customer'",
            "realm '%s'" % tenant.realm,
            "locked",
            "password",
        )
        assert PASSWORD not in output and NEW_PASSWORD not in output
        # the user is read from its search, where 19 too shows a temporarily locked user as
        # enabled (its GET by id shows it disabled): nothing changes, the lock stays
        assert result["changed"] is False
    after = tenant.snapshot()
    assert after["credentials"] == before["credentials"]  # the password was not reset
    assert after == before
    assert tenant.kc.rest("GET", "realms/%s/%s" % (tenant.realm, path))["disabled"] is True

    # unlocked: checked again, and the changed password is set; that check of the old
    # password was a failed login, which (failureFactor 1) locks the user once more
    tenant.kc.rest("DELETE", "realms/%s/%s" % (tenant.realm, path))
    result = ok(tenant.run(password=NEW_PASSWORD)[0])
    assert result["password_changed"] is True
    _wait_locked(tenant, uid)
    tenant.kc.rest("DELETE", "realms/%s/%s" % (tenant.realm, path))
    assert tenant.grant(USER, NEW_PASSWORD)[0] == 200


def test_temporary_password_stays_with_update_password_on_create(tenant):
    uid = tenant.add_user(
        "customer",
        NEW_PASSWORD,
        email="c@example.com",
        firstName="c",
        lastName="x",
        emailVerified=True,
        requiredActions=["UPDATE_PASSWORD"],
    )
    result = ok(tenant.run(diff=True, password=PASSWORD, update_password="on_create")[0])
    assert result["password_changed"] is False
    assert result["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    user = tenant.kc.rest("GET", "realms/%s/users/%s" % (tenant.realm, uid))
    assert user["requiredActions"] == ["UPDATE_PASSWORD"]  # the temporary password stays temporary
    assert tenant.grant(USER, NEW_PASSWORD)[1].get("error_description") == "Account is not fully set up"


def test_unknown_realm(keycloak, tenant):
    failed = tenant.run(realm="no-such-realm", password=PASSWORD)[0]
    assert failed["failed"] is True
    assert_mentions(failed["msg"], "user 'customer'", "realm 'no-such-realm'", "not exist", keycloak.url)


# --------------------------------------------------------------------------- absent


def test_absent(tenant):
    ok(tenant.run(password=PASSWORD)[0])
    uid = tenant.user()["id"]
    before = tenant.snapshot()
    predicted = tenant.run(check=True, diff=True, state="absent")[0]
    assert ok(predicted)["changed"] is True and predicted["diff"]["after"] == {}
    assert predicted["diff"]["before"]["username"] == "customer"
    assert tenant.snapshot() == before

    result = tenant.run(diff=True, state="absent")[0]
    assert ok(result)["changed"] is True and result["user"] == {}
    assert tenant.user() is None
    assert tenant.kc.status_of("GET", "realms/%s/users/%s" % (tenant.realm, uid)) == 404
    assert "customer" in tenant.snapshot()["roles"]
    assert ok(tenant.run(state="absent")[0])["changed"] is False


# --------------------------------------------------------------------------- secrets


def test_no_secret_in_verbose_diff_output(tenant):
    """-vvv --diff: neither password, nor token, nor admin password, on create and on change."""
    kc = tenant.kc
    outputs = []
    result, output = tenant.run(verbosity=3, diff=True, password=PASSWORD, password_check_client_id="cim")
    assert ok(result)["password_changed"] is True
    outputs.append(output)
    result, output = tenant.run(verbosity=3, diff=True, password=PASSWORD, password_check_client_id="cim")
    assert ok(result)["changed"] is False
    outputs.append(output)
    result, output = tenant.run(verbosity=3, diff=True, password=NEW_PASSWORD, password_check_client_id="cim")
    assert ok(result)["password_changed"] is True
    outputs.append(output)
    failed, output = tenant.run(verbosity=3, diff=True, password=NEW_PASSWORD, realm_roles=["missing-role"])
    assert failed["failed"] is True
    outputs.append(output)
    # the diff says that the password changed ...
    for index in (0, 2):
        assert re.search(r'^\+\s+"password": "%s"' % ("set" if index == 0 else "changed"), outputs[index], re.M)
    for output in outputs:
        for secret in (PASSWORD, NEW_PASSWORD, kc.admin_password, tenant.client_secret):
            assert secret not in output  # ... never what it is
        assert not JWT.search(output)
        assert "access_token" not in output and "refresh_token" not in output

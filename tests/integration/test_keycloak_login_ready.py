# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A customer who cannot log in is never reported converged (issue 18), against the real servers.

* a pending required action (CONFIGURE_TOTP) makes Keycloak answer the customer's password grant
  "Account is not fully set up": the module fails with that reason, naming realm, user and the
  actions, and changes nothing (26 and 19); on 26 also a required user-profile attribute without
  a value;
* under brute force detection one run with a wrong stored password costs at most one failed
  login, as Keycloak counts them, and a warning says how to reset the count;
* a disabled client ``cim`` is refused like a public one by the audience mapper and the secret
  reader, naming realm and client.
"""

import pytest

from ._runner import run_module
from .helpers import assert_mentions, warnings_in

pytestmark = pytest.mark.keycloak

PASSWORD = "Cust-pw-4711-ready"
WRONG = "Cust-pw-4711-stale"
GUIDE_ROLES = ["customer", "offline_access", "uma_authorization"]


def _customer(tenant, password=PASSWORD, **fields):
    """The customer as the guide leaves it (roles mapped), with ``fields``; its id."""
    tenant.kc.rest("POST", "realms/%s/roles" % tenant.realm, json={"name": "customer"}, expect=(409,))
    uid = tenant.add_login_user("customer", password, **fields)
    tenant.map_roles(uid, *GUIDE_ROLES)
    return uid


def _snapshot(tenant, uid):
    return (
        tenant.kc.rest("GET", "realms/%s/users/%s" % (tenant.realm, uid)),
        tenant.kc.rest("GET", "realms/%s/users/%s/credentials" % (tenant.realm, uid)),
        tenant.mappings(uid),
    )


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_pending_required_action_fails_with_the_reason(make_tenant, check):
    tenant = make_tenant()
    uid = _customer(tenant, requiredActions=["CONFIGURE_TOTP"])
    assert "not fully set up" in tenant.grant("customer", PASSWORD)[1]["error_description"]
    before = _snapshot(tenant, uid)
    result, output = run_module("keycloak_customer_user", tenant.args(password=PASSWORD), check=check)
    assert result["failed"] is True and result.get("changed") is False, output
    assert_mentions(
        result["msg"],
        "user 'customer' in realm '%s' cannot log in" % tenant.realm,
        "Account is not fully set up",
        "pending required actions CONFIGURE_TOTP",
    )
    assert PASSWORD not in output
    assert _snapshot(tenant, uid) == before


def test_a_required_profile_attribute_without_value_fails_on_26(keycloak, make_tenant):
    if not keycloak.version.startswith("26"):
        pytest.skip("the declarative user profile (a required custom attribute) came with Keycloak 24")
    tenant = make_tenant()
    uid = _customer(tenant)
    profile = tenant.kc.rest("GET", "realms/%s/users/profile" % tenant.realm)
    profile["attributes"].append(
        {
            "name": "department",
            "displayName": "Department",
            "required": {"roles": ["user"]},
            "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
        }
    )
    tenant.kc.rest("PUT", "realms/%s/users/profile" % tenant.realm, json=profile)
    assert "not fully set up" in tenant.grant("customer", PASSWORD)[1]["error_description"]
    before = _snapshot(tenant, uid)
    result, output = run_module("keycloak_customer_user", tenant.args(password=PASSWORD))
    assert result["failed"] is True and result.get("changed") is False, output
    assert_mentions(result["msg"], "cannot log in", "Account is not fully set up", "have no value: department")
    assert _snapshot(tenant, uid) == before


def test_one_run_with_a_wrong_stored_password_costs_at_most_one_failed_login(make_tenant):
    tenant = make_tenant()
    tenant.update(bruteForceProtected=True, failureFactor=5, permanentLockout=False)
    uid = _customer(tenant, password=WRONG)
    result, output = run_module("keycloak_customer_user", tenant.args(password=PASSWORD))
    assert result["failed"] is False and result["changed"] is True and result["password_changed"] is True, output
    status = tenant.kc.rest("GET", "realms/%s/attack-detection/brute-force/users/%s" % (tenant.realm, uid))
    assert status["numFailures"] <= 1 and status["disabled"] is False, status
    [warning] = [w for w in warnings_in(output) if "failed login" in w]
    assert_mentions(warning, "user 'customer' in realm '%s'" % tenant.realm, "Unlock users", "update_password")
    assert tenant.grant("customer", PASSWORD)[0] == 200


@pytest.mark.parametrize("module", ["keycloak_audience_mapper", "keycloak_client_secret_info"])
def test_a_disabled_cim_client_is_refused_like_a_public_one(make_tenant, module):
    tenant = make_tenant()
    client = tenant.kc.rest("GET", "realms/%s/clients/%s" % (tenant.realm, tenant.client_uuid))
    client["enabled"] = False
    tenant.kc.rest("PUT", "realms/%s/clients/%s" % (tenant.realm, tenant.client_uuid), json=client)
    mappers = tenant.kc.rest("GET", "realms/%s/clients/%s/protocol-mappers/models" % (tenant.realm, tenant.client_uuid))
    result, output = run_module(module, tenant.args(client_id="cim"))
    assert result["failed"] is True and result.get("changed") is False, output
    assert_mentions(result["msg"], "client 'cim' in realm '%s' is disabled" % tenant.realm, "Enabled")
    assert tenant.client_secret not in output
    after = tenant.kc.rest("GET", "realms/%s/clients/%s/protocol-mappers/models" % (tenant.realm, tenant.client_uuid))
    assert after == mappers

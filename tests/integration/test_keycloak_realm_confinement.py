# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tenant's realm never reaches another realm (issue 18), against the real Keycloak servers.

The hostile trial wrote ``<tenant>/../master`` as the realm: the customer user module created the
role and the user ``customer`` in ``master`` (rc=0). Every Keycloak module now refuses a realm
that is not one plain path segment before any request: through a counting proxy in front of
the server, nothing at all is sent, and ``master`` has no role and no user ``customer``
afterwards (read with the test server's own admin REST client).
"""

import pytest

from ._runner import run_module
from .helpers import Realm, assert_mentions

pytestmark = pytest.mark.keycloak

MODULE_ARGS = {
    "keycloak_customer_user": {"password": "Cust-pw-4711-confined"},
    "keycloak_audience_mapper": {"client_id": "cim"},
    "keycloak_client_secret_info": {"client_id": "cim"},
}


def _customer_in_master(keycloak):
    master = Realm(keycloak, "master")
    roles = [r["name"] for r in keycloak.rest("GET", "realms/master/roles")]
    return master.user("customer"), "customer" in roles


@pytest.mark.parametrize("module", sorted(MODULE_ARGS))
@pytest.mark.parametrize("hostile", ["{tenant}/../master", "../master", "{tenant}?x=1", "{tenant}#x"])
def test_a_realm_that_is_not_one_path_segment_is_refused_before_any_request(
    keycloak, tenant, counting_proxy, module, hostile
):
    assert _customer_in_master(keycloak) == (None, False), "master already has a customer: the test cannot tell"
    realm = hostile.format(tenant=tenant.realm)
    args = dict(tenant.args(**MODULE_ARGS[module]), realm=realm, auth_keycloak_url=counting_proxy.url)
    result, output = run_module(module, args)
    assert result["failed"] is True, output
    assert result.get("changed") is False
    assert_mentions(result["msg"], "realm '%s' is not one path segment" % realm)
    assert counting_proxy.requests == []  # not even the admin login
    assert _customer_in_master(keycloak) == (None, False)


def test_auth_realm_is_held_to_the_same_rule(keycloak, tenant, counting_proxy):
    args = dict(tenant.args(password="Cust-pw-4711-confined"), auth_keycloak_url=counting_proxy.url)
    result, output = run_module("keycloak_customer_user", dict(args, auth_realm="%s/../master" % tenant.realm))
    assert result["failed"] is True, output
    assert_mentions(result["msg"], "auth_realm '%s/../master' is not one path segment" % tenant.realm, "'/'")
    assert counting_proxy.requests == []
    assert tenant.user("customer") is None

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cx.api_auth.keycloak_client_secret against the real servers (26.x at ``/``, 19.x under ``/auth``).

Each test seeds a tenant realm of its own with client ``cim``; the secret Keycloak holds is read back through the
admin REST API after every run. No secret (the published default, the new one, a given one) shows in the output
unless ``return_secret`` asks for it in the result, and then never in ``msg``.
"""

import pytest

from ._runner import run_module

pytestmark = pytest.mark.keycloak

MODULE = "keycloak_client_secret"
PUBLISHED = "ef61df80-061c-4c29-b9ac-387e6bf67052"
TENANT_SECRET = "Tenant-own-cim-secret-3f9a1c"


def held(tenant):
    """The secret Keycloak holds for the tenant's cim client now."""
    answer = tenant.kc.rest("GET", "realms/%s/clients/%s/client-secret" % (tenant.realm, tenant.client_uuid))
    return answer["value"]


def test_rotated_from_default_regenerates_once_and_check_mode_predicts(make_tenant):
    tenant = make_tenant(prefix="t-kcsecret", client_secret=PUBLISHED)
    where = "the secret of client 'cim' in realm '%s'" % tenant.realm

    result, output = run_module(MODULE, tenant.args(return_secret=True), check=True)
    assert result["failed"] is False and result["changed"] is True, output
    assert result["msg"] == "Would regenerate %s" % where
    assert result["published_default"] is True and "client_secret" not in result
    assert held(tenant) == PUBLISHED and PUBLISHED not in output

    result, output = run_module(MODULE, tenant.args(return_secret=True))
    assert result["failed"] is False and result["changed"] is True, output
    assert result["msg"] == "Regenerated %s (it was the published default)" % where
    new = held(tenant)
    assert new != PUBLISHED
    assert result["client_secret"] == new and result["previous_client_secret"] == PUBLISHED
    assert result["published_default_before"] is True and result["published_default"] is False
    assert new not in result["msg"] and PUBLISHED not in result["msg"]
    # the new secret authenticates the client (the user is what is refused), the published one no longer does
    _status, body = tenant.password_grant("nobody", "x", "cim", new)
    assert body.get("error") == "invalid_grant", body
    _status, body = tenant.password_grant("nobody", "x", "cim", PUBLISHED)
    assert body.get("error") in ("unauthorized_client", "invalid_client"), body

    for check in (True, False):
        result, output = run_module(MODULE, tenant.args(), check=check)
        assert result["failed"] is False and result["changed"] is False, output
        assert result["msg"] == "Kept %s: it is not the published default" % where
        assert "client_secret" not in result and new not in output
    assert held(tenant) == new


def test_rotated_from_a_given_secret_is_a_compare_and_swap(make_tenant):
    tenant = make_tenant(prefix="t-kcsecret", client_secret=TENANT_SECRET)
    where = "the secret of client 'cim' in realm '%s'" % tenant.realm

    result, output = run_module(MODULE, tenant.args())
    assert result["failed"] is False and result["changed"] is False, output
    assert result["msg"] == "Kept %s: it is not the published default" % where
    assert held(tenant) == TENANT_SECRET

    args = tenant.args(state="rotated_from", rotate_from=TENANT_SECRET)
    result, output = run_module(MODULE, args, check=True)
    assert result["changed"] is True and held(tenant) == TENANT_SECRET, output
    result, output = run_module(MODULE, args)
    assert result["failed"] is False and result["changed"] is True, output
    assert result["msg"] == "Regenerated %s" % where
    new = held(tenant)
    assert new != TENANT_SECRET and "client_secret" not in result
    assert TENANT_SECRET not in output and new not in output

    result, output = run_module(MODULE, args)
    assert result["failed"] is False and result["changed"] is False, output
    assert result["msg"] == "Kept %s: it is not the one given in rotate_from" % where
    assert held(tenant) == new


def test_regenerated_needs_force_and_changes_every_run(make_tenant):
    tenant = make_tenant(prefix="t-kcsecret", client_secret=TENANT_SECRET)

    result, output = run_module(MODULE, tenant.args(state="regenerated"))
    assert result["failed"] is True and "set force: true" in result["msg"], output
    assert held(tenant) == TENANT_SECRET

    seen = {TENANT_SECRET}
    for _run in range(2):
        result, output = run_module(MODULE, tenant.args(state="regenerated", force=True, return_secret=True))
        assert result["failed"] is False and result["changed"] is True, output
        assert result["client_secret"] == held(tenant) and result["client_secret"] not in seen
        seen.add(result["client_secret"])


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(state="rotated_from"), "state rotated_from needs rotate_from"),
        (dict(rotate_from=TENANT_SECRET), "rotate_from is for state rotated_from only"),
        (dict(state="rotated_from", rotate_from=12345), "rotate_from must be text"),
        (dict(client_id="no-such-client"), "Client 'no-such-client' does not exist in realm"),
    ],
    ids=["no rotate_from", "rotate_from without its state", "number", "no client"],
)
def test_bad_input_fails_naming_what_and_changes_nothing(make_tenant, args, fragment):
    tenant = make_tenant(prefix="t-kcsecret", client_secret=PUBLISHED)
    result, output = run_module(MODULE, tenant.args(**args))
    assert result["failed"] is True and fragment in result["msg"], output
    assert held(tenant) == PUBLISHED
    assert TENANT_SECRET not in output


def test_a_public_client_is_refused(make_tenant):
    tenant = make_tenant(prefix="t-kcsecret", client_secret=PUBLISHED)
    client = tenant.client("cim")
    client["publicClient"] = True
    tenant.kc.rest("PUT", "realms/%s/clients/%s" % (tenant.realm, client["id"]), json=client)
    result, output = run_module(MODULE, tenant.args())
    assert result["failed"] is True and "is public" in result["msg"], output

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""verify.yml (apisix_oidc_check) on the Admin API, through ``ansible-playbook``: routes seeded in the
emulator (tests/support), openid-connect set on them by apisix_route_oidc through the Admin API for a real
Keycloak tenant (26.7.3 at ``/``, 19.0.1 at ``/auth``), whose customer user site.yml sets up as in
test_verify_playbooks. verify reads the routes with the viewer key (GET only) and checks them against
Keycloak: ok, a wrong client_secret fails, a switched-off plugin or a route without one is open.

Every verify run is at -vvv with --diff: neither key of the emulator, the client secret (the real one or
a wrong one), the customer password nor the Keycloak admin password may appear in what Ansible printed.
"""

import json

import pytest

from ._admin_api import ROUTES, play, seeded
from ._runner import _CALLBACKS
from .helpers import assert_mentions
from .test_verify_playbooks import SECURED, STALE, _clean, _inventory, _play, _routes_file, _rows

PUBLIC = "orders-login-public"  # seeded without openid-connect
OFF = "admin-backend-secured"  # switched off by apisix_route_oidc state=disabled
WRONG = "files-main"  # gets a wrong client_secret
# Emulated releases: 3.11 (GET + PUT writes, stored schema defaults), 2.15 (2.x envelopes, top-level disable).
VERSIONS = ["3.11", "2.15"]
RESULTS_ENV = {
    "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    "ANSIBLE_CALLBACK_PLUGINS": _CALLBACKS,
    "ANSIBLE_CALLBACKS_ENABLED": "result_file",
    # the module's arguments in its result (2.21+), and so at -vvv in the output: admin_key must show masked
    "ANSIBLE_INJECT_INVOCATION": "1",
}


@pytest.fixture(scope="module")
def customer(tenant, tmp_path_factory):
    """site.yml once per Keycloak version on a route file: the customer user, its roles and the cim mappers."""
    tmp_path = tmp_path_factory.mktemp("site")
    inventory = _inventory(tmp_path, tenant, _routes_file(tmp_path))
    rc, output = _play("site", inventory)
    assert rc == 0, output[-4000:]
    _clean(output, tenant)
    # without apisix_api_auth_admin_url verify still checks the route file
    rc, output = _play("verify", inventory, check=True)
    assert rc == 0, output[-4000:]
    assert {rid: row[0] for rid, row in _rows(output).items()} == dict.fromkeys(SECURED, "ok")
    _clean(output, tenant)
    return tenant


@pytest.fixture
def emulator(request):
    started = seeded(request.param)
    assert [r["id"] for r in ROUTES] == SECURED + [PUBLIC]
    yield started
    started.stop()


def _set_oidc(tmp_path, emulator, tenant, routes, **extra):
    """apisix_route_oidc through the Admin API (admin key) for the tenant: returns its output."""
    args = dict(
        admin_url=emulator.url,
        admin_key=emulator.admin_key,
        apisix_version=emulator.apisix_version if not emulator.v2 else "2.15",
        keycloak_url=tenant.kc.url,
        realm=tenant.realm,
        client_secret=tenant.client_secret,
        routes=routes,
    )
    args.update(extra)
    rc, output, result = play(tmp_path, args)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    return output


def _verify(tmp_path, tenant, emulator, key=None, **extra):
    """verify.yml with the Admin API in the inventory (viewer key) and no route file: ``(rc, output, requests)``."""
    values = dict(
        apisix_api_auth_admin_url=emulator.url,
        apisix_api_auth_admin_key=key or emulator.viewer_key,
        apisix_api_auth_version=emulator.apisix_version if not emulator.v2 else "2.15",
        apisix_api_auth_routes_file="",  # a path beside admin_url would be refused: verify must leave it out
    )
    values.update(extra)
    inventory = _inventory(tmp_path, tenant, "", **values)
    first = len(emulator.requests)
    results = tmp_path / ("results-%d.json" % len(list(tmp_path.glob("results-*.json"))))
    rc, output = _play("verify", inventory, env=dict(RESULTS_ENV, CX_RESULT_FILE=str(results)))
    # every task result as Ansible holds it (with the module's invocation) is checked like the printed output
    # (the check's result: the results before it are the role's includes and facts)
    every = [json.loads(line) for line in results.read_text().splitlines()]
    args = [
        r["invocation"]["module_args"] for r in every if "url_map" in r.get("invocation", {}).get("module_args", {})
    ][0]
    assert args["admin_url"] == emulator.url and args["admin_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "path" not in args or args["path"] is None
    return rc, output + "\n" + results.read_text(), emulator.requests[first:]


@pytest.mark.parametrize("emulator", VERSIONS, indirect=True)
def test_verify_on_the_admin_api_reports_ok_failed_and_open(customer, emulator, tmp_path):
    tenant = customer
    keys = (emulator.admin_key, emulator.viewer_key)
    outputs = [_set_oidc(tmp_path, emulator, tenant, SECURED)]
    outputs.append(_set_oidc(tmp_path, emulator, tenant, [OFF], state="disabled"))
    outputs.append(_set_oidc(tmp_path, emulator, tenant, [WRONG], client_secret=STALE))
    block = emulator.stored(OFF)["plugins"]["openid-connect"]
    assert (block["disable"] if emulator.v2 else block["_meta"]["disable"]) is True
    assert emulator.stored(WRONG)["plugins"]["openid-connect"]["client_secret"] == STALE
    for output in outputs:
        _clean(output, tenant, STALE, *keys)

    # every route with the plugin, listed with GET /routes: the wrong secret fails the run
    rc, output, requests = _verify(tmp_path, tenant, emulator)
    assert rc != 0, output[-4000:]
    assert requests == [("GET", "/apisix/admin/routes")]
    rows = _rows(output)
    assert sorted(rows) == sorted(SECURED)  # the public route carries no openid-connect: not listed
    status, aud, detail = rows["orders-main-secured"]
    assert (status, aud) == ("ok", "yes") and "active at introspection" in detail and "RS256" in detail
    assert rows[WRONG][0] == "failed" and "refused client 'cim' with the route's client_secret" in rows[WRONG][2]
    flag = "disable" if emulator.v2 else "_meta.disable"
    assert rows[OFF][:2] == ("open", "-") and "switched off (%s: true)" % flag in rows[OFF][2]
    assert_mentions(" ".join(output.split()), "%s/apisix/admin" % emulator.url, "route '%s'" % WRONG, "stale")
    _clean(output, tenant, STALE, *keys)

    # named routes are read one by one; one without the plugin is open (reported: require_secured off)
    rc, output, requests = _verify(
        tmp_path,
        tenant,
        emulator,
        apisix_api_auth_verify_routes=["orders-main-secured", PUBLIC],
        apisix_api_auth_verify_require_secured=False,
    )
    assert rc == 0, output[-4000:]
    assert requests == [("GET", "/apisix/admin/routes/orders-main-secured"), ("GET", "/apisix/admin/routes/" + PUBLIC)]
    rows = _rows(output)
    assert sorted(rows) == sorted(["orders-main-secured", PUBLIC])
    assert rows["orders-main-secured"][:2] == ("ok", "yes")
    assert rows[PUBLIC][:2] == ("open", "-") and "no openid-connect plugin" in rows[PUBLIC][2]
    _clean(output, tenant, STALE, *keys)

    # a glob selects as in apisix_route_oidc: matched against the ids GET /routes lists, with no GET of each
    # (the state disabled: the switched-off route is reported, not failed)
    rc, output, requests = _verify(
        tmp_path, tenant, emulator, apisix_api_auth_verify_routes=["*-secured"], apisix_api_auth_state="disabled"
    )
    assert rc == 0, output[-4000:]
    assert requests == [("GET", "/apisix/admin/routes")]
    secured = [r["id"] for r in ROUTES if r["id"].endswith("-secured")]
    assert len(secured) >= 2 and sorted(_rows(output)) == sorted(secured)
    assert {rid: row[0] for rid, row in _rows(output).items()} == {
        rid: "open" if rid == OFF else "ok" for rid in secured
    }
    _clean(output, tenant, STALE, *keys)

    # the right secret again: the switched-off route fails while the tenant's state is present (the inventory
    # wants it secured), and is only reported with the state disabled (as after disable)
    _clean(_set_oidc(tmp_path, emulator, tenant, [WRONG]), tenant, *keys)
    rc, output, requests = _verify(tmp_path, tenant, emulator)
    assert rc != 0 and OFF in output[output.rindex("Every checked route passes") :], output[-4000:]
    rc, output, requests = _verify(tmp_path, tenant, emulator, apisix_api_auth_state="disabled")
    assert rc == 0, output[-4000:]
    assert {rid: row[0] for rid, row in _rows(output).items()} == {
        "orders-main-secured": "ok",
        WRONG: "ok",
        OFF: "open",
    }
    assert all(method == "GET" for method, _path in requests)
    _clean(output, tenant, STALE, *keys)
    rc, output, _requests = _verify(tmp_path, tenant, emulator, apisix_api_auth_verify_require_secured=True)
    assert rc != 0 and "require_secured" in output
    _clean(output, tenant, STALE, *keys)


@pytest.mark.parametrize("emulator", ["3.18"], indirect=True)
def test_a_wrong_admin_key_fails_verify_without_printing_a_key(customer, emulator, tmp_path):
    wrong = "Wr0ng-admin-key-0123456789"
    rc, output, requests = _verify(tmp_path, customer, emulator, key=wrong)
    assert rc != 0
    assert requests == [("GET", "/apisix/admin/routes")]
    assert_mentions(" ".join(output.split()), "%s/apisix/admin/routes" % emulator.url, "admin_key is wrong")
    _clean(output, customer, wrong, emulator.admin_key, emulator.viewer_key)

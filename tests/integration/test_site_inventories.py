# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shapes of inventory the playbooks accept, through ``ansible-playbook`` against the real Keycloaks.

* Any subset of the groups ``keycloak_admin`` and ``apisix_gateway`` (one, the other, both, neither) works in
  site, verify and disable; neither is a no-op.
* Many tenants in one run, in both shapes (one host per tenant in both groups; a Keycloak host and a gateway host
  per tenant): a tenant whose Keycloak step fails stops itself, its gateway step included; the others converge.
* The read-only checks (the given client secret against Keycloak's, the path of the gateway's Keycloak URL) run in
  the first play: a failure leaves Keycloak and the route file as they were.
"""

import json
import os
import re
import shutil
import sys

import pytest
import yaml

from ._runner import run_playbook
from .helpers import Realm

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "apisix")
SAMPLE = "helm-values-credentials.yaml.sample"
SECURED = ["orders-main-secured", "files-main"]
CUSTOMER = "Inv3ntory-cust0mer-pw"
STALE = "Stale-cim-secret-9876543210"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


def _routes_file(tmp_path, name):
    path = tmp_path / name / "values.yaml"
    path.parent.mkdir()
    shutil.copyfile(os.path.join(FIXTURES, SAMPLE), path)
    return path


def _shared(server):
    return {
        "keycloak_api_auth_url": server.url,
        "keycloak_api_auth_admin_username": server.admin_user,
        "keycloak_api_auth_admin_password": server.admin_password,
        "keycloak_api_auth_customer_password": CUSTOMER,
        "apisix_api_auth_routes": SECURED,
        "apisix_api_auth_keycloak_url": server.url,
    }


def _kc_vars(tenant):
    return dict(LOCAL, keycloak_api_auth_realm=tenant.realm)


def _gw_vars(tenant, path):
    return dict(LOCAL, apisix_api_auth_realm=tenant.realm, apisix_api_auth_routes_file=str(path))


def _write(tmp_path, groups, shared, name="hosts.yml"):
    """``groups``: ``{group: {host: vars}}``; ``shared``: the variables of every host."""
    children = {group: {"hosts": hosts} for group, hosts in groups.items()}
    inventory = tmp_path / name
    inventory.write_text(yaml.safe_dump({"all": {"children": children, "vars": shared}}))
    return inventory


def _mappers(tenant):
    return [
        m["name"]
        for m in tenant.kc.rest(
            "GET", "realms/%s/clients/%s/protocol-mappers/models" % (tenant.realm, tenant.client_uuid)
        )
    ]


def _blocks(path):
    routes = yaml.safe_load(path.read_text())["apisixStandalone"]["routes"]
    return {route["id"]: (route.get("plugins") or {}).get("openid-connect") for route in routes}


def _converged(tenant, path):
    """Keycloak has the mapper and the customer user; the route file carries the tenant's blocks."""
    assert "fix-audience" in _mappers(tenant), tenant.realm
    assert tenant.user("customer") is not None, tenant.realm
    blocks = _blocks(path)
    for rid in SECURED:
        assert blocks[rid]["client_secret"] == tenant.client_secret, (tenant.realm, rid)
        assert "/realms/%s/" % tenant.realm in blocks[rid]["discovery"], (tenant.realm, rid)


def _clean(output, *tenants):
    for tenant in tenants:
        for value in (tenant.client_secret, tenant.kc.admin_password, CUSTOMER, STALE):
            assert value not in output, "a secret was printed"


def _play(name, inventory, **kwargs):
    return run_playbook("cx.api_auth.%s" % name, inventory, diff=True, **kwargs)


# ---- any subset of the groups


def test_a_keycloak_only_inventory_runs_site_verify_and_disable(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-kconly")
    inventory = _write(tmp_path, {"keycloak_admin": {"installer": _kc_vars(tenant)}}, _shared(tenant.kc))
    rc, output = _play("site", inventory)
    assert rc == 0, output[-4000:]
    assert "fix-audience" in _mappers(tenant) and tenant.user("customer") is not None
    for name in ("verify", "disable"):
        rc, output = _play(name, inventory)
        assert rc == 0 and "failed=" not in output.split("PLAY RECAP")[-1].replace("failed=0", ""), output[-4000:]
    _clean(output, tenant)


def test_a_gateway_only_inventory_runs_site_verify_and_disable(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-gwonly")
    path = _routes_file(tmp_path, "gw")
    inventory = _write(tmp_path, {"apisix_gateway": {"gateway": _gw_vars(tenant, path)}}, _shared(tenant.kc))
    rc, output = _play("site", inventory)
    assert rc == 0, output[-4000:]
    assert "fix-audience" not in _mappers(tenant) and tenant.user("customer") is None  # no Keycloak step
    assert _blocks(path)["files-main"]["client_secret"] == tenant.client_secret  # read from Keycloak
    rc, output = _play("disable", inventory)
    assert rc == 0, output[-4000:]
    assert _blocks(path)["files-main"] is None
    # after disable the tenant's state is absent: verify reports the open routes without failing
    rc, output = _play("verify", inventory, extra_vars={"apisix_api_auth_state": "absent"})
    assert rc == 0, output[-4000:]
    _clean(output, tenant)


@pytest.mark.parametrize("name", ["site", "verify", "disable"])
def test_an_inventory_without_either_group_is_a_no_op(tmp_path, name):
    inventory = _write(tmp_path, {"elsewhere": {"other": dict(LOCAL)}}, {})
    rc, output = _play(name, inventory)
    assert rc == 0, output[-4000:]
    # nothing ran for a tenant: the plays match no host, the report play ends at once (no tenant host)
    assert "no hosts matched" in output and set(re.findall(r"changed=(\d+)", output)) <= {"0"}, output[-4000:]
    assert "TASK [Write the report]" not in output


# ---- realms that would reach another realm


@pytest.mark.parametrize("realm", ["{realm}/../master", "../master", "a?b", "master"])
def test_a_realm_reaching_another_realm_is_refused_in_the_first_play_and_master_is_untouched(
    make_tenant, tmp_path, realm
):
    tenant = make_tenant(prefix="t-reach")
    realm = realm.format(realm=tenant.realm)
    path = _routes_file(tmp_path, "gw")
    before = path.read_bytes()
    master = Realm(tenant.kc, "master")
    users_before = master.user("customer")
    roles_before = sorted(r["name"] for r in tenant.kc.rest("GET", "realms/master/roles"))
    host = dict(_kc_vars(tenant), **_gw_vars(tenant, path))
    host.update(keycloak_api_auth_realm=realm, apisix_api_auth_realm=realm)
    inventory = _write(
        tmp_path, {"keycloak_admin": {"installer": host}, "apisix_gateway": {"installer": {}}}, _shared(tenant.kc)
    )
    rc, output = _play("site", inventory)
    assert rc != 0
    assert "is not one plain realm name" in output or "is 'master'" in output, output[-3000:]
    assert "Audience mapper on the dedicated scope" not in output
    assert master.user("customer") == users_before
    assert sorted(r["name"] for r in tenant.kc.rest("GET", "realms/master/roles")) == roles_before
    assert "fix-audience" not in _mappers(tenant) and tenant.user("customer") is None
    assert path.read_bytes() == before


# ---- the read-only checks run before anything changes


def _other_path(url):
    """The Keycloak URL with the wrong path: /auth added on 26 (at /), taken away on 19 (at /auth)."""
    return url[: -len("/auth")] if url.endswith("/auth") else url + "/auth"


@pytest.mark.parametrize("fault", ["stale-secret", "wrong-path"])
def test_a_failed_read_only_check_stops_the_site_in_the_first_play_with_nothing_changed(make_tenant, tmp_path, fault):
    tenant = make_tenant(prefix="t-pre")
    path = _routes_file(tmp_path, "gw")
    before = path.read_bytes()
    host = dict(_kc_vars(tenant), **_gw_vars(tenant, path))
    if fault == "stale-secret":
        host["apisix_api_auth_client_secret"] = STALE
    else:
        host["apisix_api_auth_keycloak_url"] = _other_path(tenant.kc.url)
    inventory = _write(
        tmp_path, {"keycloak_admin": {"installer": host}, "apisix_gateway": {"installer": {}}}, _shared(tenant.kc)
    )
    rc, output = _play("site", inventory, verbosity=3)
    assert rc != 0
    text = " ".join(output.split())
    first_play = text.split("PLAY [Keycloak - ", maxsplit=1)[0]
    assert "Nothing was changed." in first_play, output[-3000:]
    # the tenant ended in the first play: the later plays run no task of it (it fails after the report, issue 21)
    later = text.split("PLAY [Keycloak - ", maxsplit=1)[1]
    assert "TASK [The keycloak_api_auth role]" not in later and "TASK [The apisix_api_auth role]" not in later
    assert "PLAY [Report - the tenants that failed in this run fail now]" in later
    if fault == "stale-secret":
        assert "is not the secret Keycloak" in first_play
    else:
        gateway_path, served = ("/", "/auth") if tenant.kc.url.endswith("/auth") else ("/auth", "/")
        assert "has the path '%s', but Keycloak" % gateway_path in first_play
        assert "under '%s'" % served in first_play and "under ''" not in text
    assert "fix-audience" not in _mappers(tenant) and tenant.user("customer") is None
    assert path.read_bytes() == before and sorted(os.listdir(path.parent)) == ["values.yaml"]
    _clean(output, tenant)


# ---- many tenants: one that fails stops only itself


def _tenants_inventory(tmp_path, tenants, paths, shape, extra=None):
    """Three tenants: shape ``one-host`` (a host per tenant in both groups) or ``two-hosts`` (``<t>-kc`` in
    keycloak_admin, ``<t>-gw`` in apisix_gateway; the first tenant's gateway names its Keycloak host, the others
    are found by realm)."""
    keycloak, gateway = {}, {}
    for index, (tenant, path) in enumerate(zip(tenants, paths)):
        name = "tenant%d" % index
        if shape == "one-host":
            keycloak[name] = dict(_kc_vars(tenant), **_gw_vars(tenant, path))
            gateway[name] = {}
        else:
            keycloak[name + "-kc"] = _kc_vars(tenant)
            gateway[name + "-gw"] = _gw_vars(tenant, path)
            if index == 0:
                gateway[name + "-gw"]["apisix_api_auth_keycloak_host"] = name + "-kc"
    for host, more in (extra or {}).items():
        (keycloak.get(host) or gateway[host]).update(more)
    return _write(tmp_path, {"keycloak_admin": keycloak, "apisix_gateway": gateway}, _shared(tenants[0].kc))


@pytest.mark.parametrize("shape", ["one-host", "two-hosts"])
@pytest.mark.parametrize("fault", ["keycloak-step", "gateway-check"])
def test_one_failing_tenant_of_three_stops_only_itself_and_its_gateway_step(make_tenant, tmp_path, shape, fault):
    tenants = [make_tenant(prefix="t-many%d" % index) for index in range(3)]
    paths = [_routes_file(tmp_path, "gw%d" % index) for index in range(3)]
    before = paths[2].read_bytes()
    failing = "tenant2" if shape == "one-host" else ("tenant2-kc" if fault == "keycloak-step" else "tenant2-gw")
    if fault == "keycloak-step":  # the checks pass; Keycloak refuses the customer's password in the Keycloak play
        tenants[2].update(passwordPolicy="length(64)")
        extra = {}
    else:  # the gateway's given client secret is stale: refused in the first play
        extra = {failing: {"apisix_api_auth_client_secret": STALE}}
    inventory = _tenants_inventory(tmp_path, tenants, paths, shape, extra)
    report_dir = tmp_path / "report"
    rc, output = _play(
        "site", inventory, env={"ANSIBLE_FORKS": "5"}, extra_vars={"cx_api_auth_report_dir": str(report_dir)}
    )
    assert rc != 0
    recap = output.split("PLAY RECAP")[-1]
    # the report has the failed tenant with the error that stopped it (also when it failed in the first play)
    reported = json.loads((report_dir / "report.json").read_text())
    errors = {tenant["realm"]: tenant["error"] for tenant in reported["tenants"]}
    assert errors[tenants[0].realm] is None and errors[tenants[1].realm] is None, errors
    # the Keycloak version (read by the first play with the client secret) and each host once, per tenant
    versions = {tenant["realm"]: tenant["keycloak_version"] for tenant in reported["tenants"]}
    assert versions[tenants[0].realm] == versions[tenants[1].realm] == tenants[0].kc.version, versions
    for tenant in reported["tenants"]:
        assert len(tenant["hosts"]) == len(set(tenant["hosts"])) == (1 if shape == "one-host" else 2), tenant
    assert ("password" if fault == "keycloak-step" else "secret") in errors[tenants[2].realm], errors
    # every host of the failed tenant says why it stopped (two hosts: the gateway host stopped by the APISIX play's
    # pre-check, or by the first play's check of its tenant's other host, too)
    assert "no result" not in errors[tenants[2].realm], errors
    if shape == "two-hosts":
        assert "The tenant of realm '%s' stops here" % tenants[2].realm in errors[tenants[2].realm], errors
    for index in (0, 1):
        _converged(tenants[index], paths[index])
    for line in recap.splitlines():
        if line.startswith("tenant0") or line.startswith("tenant1"):
            assert "failed=0" in line, recap
    assert paths[2].read_bytes() == before and sorted(os.listdir(paths[2].parent)) == ["values.yaml"]
    assert tenants[2].user("customer") is None
    if fault == "gateway-check":  # stopped in the first play: Keycloak untouched too
        assert "fix-audience" not in _mappers(tenants[2])
    text = " ".join(output.split())
    if shape == "two-hosts":  # the tenant's other host says why it stops, naming the tenant's realm
        assert "The tenant of realm '%s' stops here" % tenants[2].realm in text, output[-4000:]
        other = "tenant2-gw" if fault == "keycloak-step" else "tenant2-kc"
        assert [line for line in recap.splitlines() if line.startswith(other) and "failed=1" in line], recap
    _clean(output, *tenants)


def test_a_gateway_whose_realm_has_several_keycloak_hosts_must_name_one(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-ambig")
    path = _routes_file(tmp_path, "gw")
    groups = {
        "keycloak_admin": {"kc-a": _kc_vars(tenant), "kc-b": _kc_vars(tenant)},
        "apisix_gateway": {"gw": _gw_vars(tenant, path)},
    }
    rc, output = _play("site", _write(tmp_path, groups, _shared(tenant.kc)))
    text = " ".join(output.split())
    assert rc != 0 and "is the keycloak_api_auth_realm of several keycloak_admin hosts (kc-a, kc-b)" in text
    assert "set apisix_api_auth_keycloak_host" in text
    assert "fix-audience" not in _mappers(tenant) and tenant.user("customer") is None  # both Keycloak hosts stopped

    groups["apisix_gateway"]["gw"]["apisix_api_auth_keycloak_host"] = "kc-c"
    rc, output = _play("site", _write(tmp_path, groups, _shared(tenant.kc), name="named.yml"))
    assert rc != 0 and "apisix_api_auth_keycloak_host 'kc-c' is not a host of the group keycloak_admin" in output


def test_the_apisix_role_alone_runs_the_read_only_checks_itself_before_the_routes_change(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-alone")
    path = _routes_file(tmp_path, "gw")
    before = path.read_bytes()
    playbook = tmp_path / "apisix.yml"
    playbook.write_text(
        "- name: The APISIX part alone\n  hosts: apisix_gateway\n  gather_facts: false\n"
        "  roles:\n    - role: cx.api_auth.apisix_api_auth\n"
    )
    host = dict(_gw_vars(tenant, path), apisix_api_auth_client_secret=STALE)
    # alone, the role reads no keycloak_api_auth_* variable (the playbooks hand those over): its own are needed
    rc, output = run_playbook(
        str(playbook), _write(tmp_path, {"apisix_gateway": {"gateway": host}}, _shared(tenant.kc))
    )
    text = " ".join(output.split())
    assert rc != 0 and "apisix_api_auth_keycloak_admin_password are needed" in text, output[-3000:]
    assert path.read_bytes() == before
    host.update(
        apisix_api_auth_keycloak_admin_url=tenant.kc.url,
        apisix_api_auth_keycloak_admin_username=tenant.kc.admin_user,
        apisix_api_auth_keycloak_admin_password=tenant.kc.admin_password,
    )
    inventory = _write(tmp_path, {"apisix_gateway": {"gateway": host}}, _shared(tenant.kc), name="own.yml")
    rc, output = run_playbook(str(playbook), inventory, diff=True)
    text = " ".join(output.split())
    assert rc != 0 and "is not the secret Keycloak" in text and "The routes were not changed." in text, output[-3000:]
    assert "Nothing was changed" not in text  # the role alone cannot know what ran before it
    assert path.read_bytes() == before
    _clean(output, tenant)

    host["apisix_api_auth_client_secret"] = tenant.client_secret
    rc, output = run_playbook(
        str(playbook), _write(tmp_path, {"apisix_gateway": {"gateway": host}}, _shared(tenant.kc), name="ok.yml")
    )
    assert rc == 0 and "Read the secret of the client from Keycloak" in output, output[-3000:]
    assert _blocks(path)["files-main"]["client_secret"] == tenant.client_secret


def test_verify_on_a_gateway_host_takes_the_customer_login_from_its_tenants_keycloak_host(make_tenant, tmp_path):
    """Shape ``two-hosts``: the customer password (and Keycloak's URL) only in the Keycloak host's variables."""
    tenant = make_tenant(prefix="t-vfy")
    path = _routes_file(tmp_path, "gw")
    shared = _shared(tenant.kc)
    keycloak_host = dict(
        _kc_vars(tenant),
        keycloak_api_auth_customer_password=shared.pop("keycloak_api_auth_customer_password"),
        keycloak_api_auth_url=shared.pop("keycloak_api_auth_url"),
        keycloak_api_auth_admin_password=shared.pop("keycloak_api_auth_admin_password"),
    )
    gateway_host = dict(
        _gw_vars(tenant, path),
        apisix_api_auth_keycloak_admin_url=tenant.kc.url,
        apisix_api_auth_keycloak_admin_password=tenant.kc.admin_password,
        apisix_api_auth_keycloak_url="http://keycloak.ef-external.svc"
        + ("/auth" if tenant.kc.url.endswith("/auth") else ""),
    )
    inventory = _write(
        tmp_path, {"keycloak_admin": {"acme-kc": keycloak_host}, "apisix_gateway": {"acme-gw": gateway_host}}, shared
    )
    rc, output = _play("site", inventory)
    assert rc == 0, output[-4000:]
    _converged(tenant, path)
    rc, output = _play("verify", inventory)
    assert rc == 0, output[-4000:]
    text = " ".join(output.split())
    assert "files-main ok yes" in text and "orders-main-secured ok yes" in text, output[-4000:]
    _clean(output, tenant)

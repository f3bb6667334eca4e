# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client secret from Keycloak, the gateway URL's path check, verify.yml and disable.yml, through
``ansible-playbook`` against the real Keycloaks (26.7.3 at ``/``, 19.0.1 at ``/auth``).

Every playbook runs at -vvv with --diff: neither the client secret (the real one or a wrong one), the
customer password nor the admin password may appear in anything Ansible printed.
"""

import os
import re
import shutil
import sys

import pytest
import yaml

from ._runner import run_playbook
from .helpers import assert_mentions

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "apisix")
SAMPLE = "helm-values-credentials.yaml.sample"
SECURED = ["orders-main-secured", "files-main", "admin-backend-secured"]
CUSTOMER = "Verify-cust0mer-pw"
STALE = "Stale-cim-secret-0123456789"


def _inventory(tmp_path, tenant, routes_file, **extra):
    """An inventory like inventories/expertflow (no client secret: it is read from Keycloak)."""
    values = {
        "keycloak_api_auth_url": tenant.kc.url,
        "keycloak_api_auth_admin_username": tenant.kc.admin_user,
        "keycloak_api_auth_admin_password": tenant.kc.admin_password,
        "keycloak_api_auth_realm": tenant.realm,
        "keycloak_api_auth_customer_password": CUSTOMER,
        "apisix_api_auth_routes_file": str(routes_file),
        "apisix_api_auth_routes": SECURED,
        "apisix_api_auth_keycloak_url": tenant.kc.url,
        "apisix_api_auth_realm": tenant.realm,
    }
    values.update(extra)
    inventory = tmp_path / ("hosts-%d.yml" % len(list(tmp_path.glob("hosts-*.yml"))))
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "keycloak_admin": {
                            "hosts": {
                                "installer": {
                                    "ansible_connection": "local",
                                    "ansible_python_interpreter": sys.executable,
                                }
                            }
                        },
                        "apisix_gateway": {"hosts": {"installer": None}},
                    },
                    "vars": values,
                }
            }
        )
    )
    return inventory


def _routes_file(tmp_path, name="values.yaml"):
    path = tmp_path / name
    shutil.copyfile(os.path.join(FIXTURES, SAMPLE), path)
    return path


def _blocks(path):
    routes = yaml.safe_load(path.read_text())["apisixStandalone"]["routes"]
    return {route["id"]: (route.get("plugins") or {}).get("openid-connect") for route in routes}


def _rows(output):
    """``{route: (status, rest of the line)}`` of the report verify.yml printed."""
    rows = {}
    for line in output.splitlines():
        match = re.match(r'^\s*"([A-Za-z0-9_.-]+)\s+(ok|open|failed)\s+(yes|no|-)\s+(.*)",?$', line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return rows


def _clean(output, tenant, *more):
    for value in (tenant.client_secret, tenant.kc.admin_password, CUSTOMER) + more:
        assert value not in output, "a secret was printed"


def _play(name, inventory, **kwargs):
    return run_playbook("cx.api_auth.%s" % name, inventory, diff=True, verbosity=3, **kwargs)


@pytest.fixture(scope="module")
def deployed(tenant, tmp_path_factory):
    """site.yml once per Keycloak version, with no client secret in the inventory: ``(path, output)``."""
    tmp_path = tmp_path_factory.mktemp("deployed")
    path = _routes_file(tmp_path)
    rc, output = _play("site", _inventory(tmp_path, tenant, path))
    assert rc == 0, output[-4000:]
    return path, output


def _copy_of(deployed, tmp_path):  # pylint: disable=redefined-outer-name
    path = tmp_path / "values.yaml"
    shutil.copyfile(deployed[0], path)
    return path


def test_site_reads_the_secret_from_keycloak_and_writes_it_into_the_routes(tenant, deployed):
    path, output = deployed
    blocks = _blocks(path)
    for rid in SECURED:
        assert blocks[rid]["client_secret"] == tenant.client_secret, rid
        assert blocks[rid]["discovery"] == "%s/realms/%s/.well-known/openid-configuration" % (
            tenant.kc.url,
            tenant.realm,
        )
    assert "Read the secret of the client from Keycloak" in output
    _clean(output, tenant)


def test_verify_after_site_reports_every_route_ok(tenant, deployed, tmp_path):
    path = _copy_of(deployed, tmp_path)
    rc, output = _play("verify", _inventory(tmp_path, tenant, path), check=True)
    assert rc == 0, output[-4000:]
    rows = _rows(output)
    assert sorted(rows) == sorted(SECURED)
    for rid in SECURED:
        status, aud, detail = rows[rid]
        assert (status, aud) == ("ok", "yes"), rows[rid]
        assert "active at introspection" in detail and "RS256" in detail
    _clean(output, tenant)


def test_a_given_stale_secret_fails_naming_realm_and_client_and_leaves_the_file(tenant, tmp_path):
    path = _routes_file(tmp_path)
    before = path.read_bytes()
    rc, output = _play("site", _inventory(tmp_path, tenant, path, apisix_api_auth_client_secret=STALE))
    assert rc != 0
    assert_mentions(output, "client 'cim'", "realm '%s'" % tenant.realm, "stale", "neither secret is shown")
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir() if "values" in p.name) == [
        "values.yaml"
    ]
    _clean(output, tenant, STALE)


def test_the_given_current_secret_passes(tenant, tmp_path):
    path = _routes_file(tmp_path)
    rc, output = _play("site", _inventory(tmp_path, tenant, path, apisix_api_auth_client_secret=tenant.client_secret))
    assert rc == 0, output[-4000:]
    assert _blocks(path)["files-main"]["client_secret"] == tenant.client_secret
    _clean(output, tenant)


def _other_path(url):
    """The Keycloak URL with the wrong path: /auth added on 26 (at /), taken away on 19 (at /auth)."""
    return url[: -len("/auth")] if url.endswith("/auth") else url + "/auth"


def test_a_gateway_url_with_the_wrong_path_fails_with_the_fix_and_the_override_passes(tenant, tmp_path):
    path = _routes_file(tmp_path)
    before = path.read_bytes()
    wrong = _other_path(tenant.kc.url)
    rc, output = _play("site", _inventory(tmp_path, tenant, path, apisix_api_auth_keycloak_url=wrong))
    assert rc != 0
    text = " ".join(output.split())
    assert_mentions(text, "apisix_api_auth_keycloak_url %s" % wrong, "dead discovery URL", "realm '%s'" % tenant.realm)
    assert "Set apisix_api_auth_keycloak_url to %s;" % tenant.kc.url in text
    assert "apisix_api_auth_keycloak_path_check to false" in text
    assert path.read_bytes() == before
    _clean(output, tenant)

    inventory = _inventory(
        tmp_path, tenant, path, apisix_api_auth_keycloak_url=wrong, apisix_api_auth_keycloak_path_check=False
    )
    rc, output = _play("site", inventory)
    assert rc == 0, output[-4000:]
    assert _blocks(path)["files-main"]["discovery"].startswith(wrong + "/realms/")
    _clean(output, tenant)

    # verify catches the dead discovery URL the override let through (no URL map: it is reachable as written)
    rc, output = _play("verify", _inventory(tmp_path, tenant, path, apisix_api_auth_keycloak_url=wrong))
    assert rc != 0
    rows = _rows(output)
    assert {rid: rows[rid][0] for rid in SECURED} == dict.fromkeys(SECURED, "failed")
    assert "discovery" in rows["files-main"][2] and "HTTP 404" in rows["files-main"][2]
    _clean(output, tenant)


def test_verify_fails_a_route_with_a_wrong_client_secret(tenant, deployed, tmp_path):
    path = _copy_of(deployed, tmp_path)
    path.write_text(path.read_text().replace(tenant.client_secret, STALE, 1))  # the first secured route in the file
    assert _blocks(path)["orders-main-secured"]["client_secret"] == STALE
    rc, output = _play("verify", _inventory(tmp_path, tenant, path))
    assert rc != 0
    rows = _rows(output)
    assert rows["orders-main-secured"][0] == "failed"
    assert "refused client 'cim' with the route's client_secret" in rows["orders-main-secured"][2]
    assert rows["files-main"][0] == rows["admin-backend-secured"][0] == "ok"
    assert_mentions(" ".join(output.split()), "route 'orders-main-secured'", "wrong or stale secret")
    _clean(output, tenant, STALE)


def test_verify_fails_when_cim_is_not_in_the_tokens_audience(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-noaud")
    path = _routes_file(tmp_path)
    rc, output = _play("site", _inventory(tmp_path, tenant, path))
    assert rc == 0, output[-4000:]
    mappers = tenant.kc.rest("GET", "realms/%s/clients/%s/protocol-mappers/models" % (tenant.realm, tenant.client_uuid))
    for mapper in mappers:
        if mapper["name"] == "fix-audience":
            tenant.kc.rest(
                "DELETE",
                "realms/%s/clients/%s/protocol-mappers/models/%s" % (tenant.realm, tenant.client_uuid, mapper["id"]),
            )
    rc, output = _play("verify", _inventory(tmp_path, tenant, path))
    assert rc != 0
    rows = _rows(output)
    for rid in SECURED:
        status, aud, detail = rows[rid]
        assert (status, aud) == ("failed", "no"), rows[rid]
        # 26.6.2+: introspection says active false; 19: active, but require_audience refuses it
        assert "fix-audience" in detail
    _clean(output, tenant)

    if tenant.kc.url.endswith("/auth"):  # Keycloak 19 lets the token through: without require_audience only reported
        rc, output = _play("verify", _inventory(tmp_path, tenant, path, apisix_api_auth_verify_require_audience=False))
        assert rc == 0, output[-4000:]
        assert {rid: _rows(output)[rid][:2] for rid in SECURED} == dict.fromkeys(SECURED, ("ok", "no"))


def test_disable_comments_the_blocks_out_and_verify_reports_them_open(tenant, deployed, tmp_path):
    path = _copy_of(deployed, tmp_path)
    rc, output = _play("disable", _inventory(tmp_path, tenant, path, keycloak_api_auth_url="http://127.0.0.1:9"))
    assert rc == 0, output[-4000:]  # Keycloak is not contacted (its URL is a closed port here)
    text = path.read_text()
    assert all(blocks is None for rid, blocks in _blocks(path).items() if rid in SECURED)
    assert text.count("#         openid-connect:") >= len(SECURED)
    _clean(output, tenant)

    # the inventory still wants the tenant secured (apisix_api_auth_state present): the open routes fail, named
    rc, output = _play("verify", _inventory(tmp_path, tenant, path))
    assert rc != 0, output[-4000:]
    rows = _rows(output)
    assert {rid: rows[rid][0] for rid in SECURED} == dict.fromkeys(SECURED, "open")
    failure = output[output.rindex("Every checked route passes") :]
    assert all(rid in failure for rid in SECURED), failure[-3000:]
    _clean(output, tenant)

    # the tenant's state absent or disabled (as after disable): the open routes are reported without failing
    for state in ("absent", "disabled"):
        rc, output = _play("verify", _inventory(tmp_path, tenant, path, apisix_api_auth_state=state))
        assert rc == 0, output[-4000:]
        rows = _rows(output)
        assert {rid: rows[rid][0] for rid in SECURED} == dict.fromkeys(SECURED, "open")
        assert "commented out" in rows["files-main"][2]
        _clean(output, tenant)

    inventory = _inventory(
        tmp_path, tenant, path, apisix_api_auth_state="absent", apisix_api_auth_verify_require_secured=True
    )
    rc, output = _play("verify", inventory)
    assert rc != 0 and "require_secured" in output


def test_a_gateway_service_name_is_mapped_to_the_installers_url_by_default(tenant, tmp_path):
    path = _routes_file(tmp_path)
    service = "http://keycloak.ef-external.svc" + ("/auth" if tenant.kc.url.endswith("/auth") else "")
    inventory = _inventory(tmp_path, tenant, path, apisix_api_auth_keycloak_url=service)
    rc, output = _play("site", inventory)
    assert rc == 0, output[-4000:]  # the path check compares paths only: the host need not resolve here
    assert _blocks(path)["files-main"]["discovery"].startswith(service + "/realms/")
    rc, output = _play("verify", inventory)
    assert rc == 0, output[-4000:]
    assert {rid: _rows(output)[rid][0] for rid in SECURED} == dict.fromkeys(SECURED, "ok")
    _clean(output, tenant)

    # without the map, the service name does not resolve here: the route fails, naming the URL
    rc, output = _play(
        "verify",
        _inventory(tmp_path, tenant, path, apisix_api_auth_keycloak_url=service, apisix_api_auth_verify_url_map={}),
    )
    assert rc != 0
    assert "Keycloak at %s/realms/" % service in _rows(output)["files-main"][2]
    assert "unknown host" in _rows(output)["files-main"][2]

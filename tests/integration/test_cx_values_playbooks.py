# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CX values check of site.yml's first play and of verify.yml (apisix_api_auth_cx_values_files), through
``ansible-playbook`` at -vvv against the real Keycloaks, and what the report carries of it (issue 22).

CX-shaped values files (Core with web-channel-manager and efConnectionVars.KEYCLOAK_CREDENTIALS, QM, the gateway's
routes file): one line per tenant with the places that differ (key path, file, line), the inventory's customer
password checked against Keycloak with the widget's own request (customer through cim), the published-default
warning in site, verify and the report's four files; the values files are only read; no secret in any output.
"""

import json
import pathlib
import re
import shutil

import pytest
import yaml

from ._runner import run_playbook
from .test_verify_playbooks import CUSTOMER, SECURED
from .test_verify_playbooks import _inventory as verify_inventory

ROOT = pathlib.Path(__file__).resolve().parents[2]
CX = ROOT / "tests" / "unit" / "fixtures" / "cx"
APISIX = ROOT / "tests" / "unit" / "fixtures" / "apisix" / "helm-values-credentials.yaml.sample"
PUBLISHED = "ef61df80-061c-4c29-b9ac-387e6bf67052"
PASSWORD_PATH = "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value"


def _values(tmp_path, secret):
    """Core (the guide's password customer, the tenant's secret), QM (the tenant's secret), the gateway's file."""
    core = tmp_path / "ef-cx-values.yaml"
    core.write_text((CX / "ef-cx-values.yaml").read_text(encoding="utf-8").replace(PUBLISHED, secret))
    qm = tmp_path / "qm-values.yaml"
    qm.write_text((CX / "qm-values.yaml").read_text(encoding="utf-8").replace(PUBLISHED, secret))
    gateway = tmp_path / "apisix-values.yaml"
    shutil.copyfile(APISIX, gateway)
    return [core, qm, gateway]


def _line_of(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _inventory(tmp_path, tenant, files, **extra):
    """verify's test inventory (tests/integration/test_verify_playbooks.py) with the CX values files and a report."""
    values = {
        "apisix_api_auth_cx_values_files": [str(path) for path in files],
        "cx_api_auth_report_dir": str(tmp_path / "report"),
    }
    values.update(extra)
    return verify_inventory(tmp_path, tenant, files[-1], **values)


def _cx_line(output, realm):
    lines = [line for line in output.splitlines() if "Realm %s: CX values" % realm in line]
    assert lines, output[-3000:]
    return lines[0]


def _clean(output, tenant, *more):
    for value in (tenant.client_secret, tenant.kc.admin_password, CUSTOMER) + more:
        assert value not in output, "a secret was printed"


def _report_files(tmp_path):
    names = ("report.json", "report.md", "report.xml", "report.html")
    return {name: (tmp_path / "report" / name).read_text() for name in names}


@pytest.fixture(scope="module")
def site_run(tenant, tmp_path_factory):
    """site.yml then verify.yml on CX-shaped files whose web-channel-manager password is the guide's."""
    tmp_path = tmp_path_factory.mktemp("cx-values")
    files = _values(tmp_path, tenant.client_secret)
    before = {path: path.read_bytes() for path in files[:2]}
    inventory = _inventory(tmp_path, tenant, files)
    site = run_playbook("cx.api_auth.site", inventory, diff=True, verbosity=3)
    verify = run_playbook("cx.api_auth.verify", inventory, diff=True, verbosity=3)
    return tmp_path, files, before, site, verify


def test_site_reports_the_differing_password_by_key_path_file_and_line(tenant, site_run):
    files, before, (rc, output) = site_run[1:4]
    assert rc == 0, output[-4000:]
    line = _cx_line(output, tenant.realm)
    core = files[0]
    assert (
        "differs: web-channel-manager %s, ef-cx-values.yaml line %d"
        % (
            PASSWORD_PATH,
            _line_of(core, "name: KEYCLOAK_PASSWORD_CUSTOMER") + 1,
        )
        in line
    ), line
    # before the routes are written, the gateway's sample route holds a secret of its own: it differs too
    assert re.search(r"CX values \d+ places same, 2 differ, 0 not found, 1 of unknown role", line), line
    assert "differs: gateway routes apisixStandalone.routes[id=files-main].plugins.openid-connect.client_secret" in line
    # site's first play runs before the Keycloak play creates the user: the widget's request is refused
    assert "Keycloak refuses the customer widget's token request with the inventory's password (user customer" in line
    # the reason is a warning (masked by the lookup), not a failed task: no red fatal line for a check that goes on
    warning = next(
        (w for w in output.splitlines() if "[WARNING]" in w and "keycloak_admin_token" in w and tenant.realm in w), ""
    )
    assert "rejected the credentials of user 'customer'" in warning, output[-4000:]
    assert "token request with the inventory" not in "".join(
        w for w in output.splitlines() if w.startswith("fatal:")
    ), "the refused token request is no failed task"
    assert "published default" not in line
    for path in files[:2]:
        assert path.read_bytes() == before[path], "the check only reads"
    _clean(output, tenant)


def test_verify_reports_the_places_and_keycloak_accepts_the_inventory_password(tenant, site_run):
    tmp_path, _files, _before, _site, (rc, output) = site_run
    assert rc == 0, output[-4000:]
    line = _cx_line(output, tenant.realm)
    assert "1 differ" in line and PASSWORD_PATH in line, line
    assert "Keycloak gives the customer widget's token (user customer through client cim)" in line, line
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    facts = report["tenants"][0]["cx_values"]
    differs = [place for place in facts["places"] if place["status"] == "differs"]
    assert [place["path"] for place in differs] == [PASSWORD_PATH]
    assert facts["login"]["accepted"] is True
    assert not facts["published_default"]
    assert any("place(s) of the CX values files differ" in item for item in report["tenants"][0]["warnings"])
    _clean(output, tenant)
    for text in _report_files(tmp_path).values():
        assert tenant.client_secret not in text and CUSTOMER not in text


@pytest.mark.parametrize("playbook", ["site", "verify"])
def test_the_published_default_is_warned_about_in_the_run_and_every_report_file(make_tenant, tmp_path, playbook):
    tenant = make_tenant(prefix="t-pub", client_secret=PUBLISHED)
    files = _values(tmp_path, PUBLISHED)
    inventory = _inventory(tmp_path, tenant, files)
    rc, output = run_playbook("cx.api_auth.site", inventory, diff=True, verbosity=3)
    if playbook == "verify":  # after site, so that every route passes and the run gets to its report
        assert rc == 0, output[-4000:]
        shutil.rmtree(tmp_path / "report")
        rc, output = run_playbook("cx.api_auth.verify", inventory, diff=True, verbosity=3)
    assert rc == 0, output[-4000:]
    line = _cx_line(output, tenant.realm)
    assert "WARNING the cim secret is the charts' published default: rotate it (cx.api_auth.rotate)" in line, line
    assert "the cim client's secret is the default the CX charts and docs publish" in output  # the module's warning
    assert (tmp_path / "report" / "report.json").is_file(), output[-6000:]
    reports = _report_files(tmp_path)
    for name, text in reports.items():
        assert "is the default the CX charts and docs publish" in text, name
    assert json.loads(reports["report.json"])["tenants"][0]["cx_values"]["published_default"] is True
    assert '<testcase classname="installer" name="cx values installer">' in reports["report.xml"]
    _clean(output, tenant)


def test_without_values_files_there_is_no_cx_line(tenant, tmp_path):
    files = _values(tmp_path, tenant.client_secret)
    inventory = _inventory(tmp_path, tenant, files, apisix_api_auth_cx_values_files=[])
    rc, output = run_playbook("cx.api_auth.site", inventory)
    assert "Realm %s: CX values" % tenant.realm not in output
    assert rc == 0, output[-4000:]
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["tenants"][0]["cx_values"] is None


def _secret_places(files, secret):
    """``{(file name, key path): holds secret}`` of the cim secret's places the table names (by a YAML read)."""
    core = yaml.safe_load(files[0].read_text())
    qm = yaml.safe_load(files[1].read_text())
    routes = yaml.safe_load(files[2].read_text())["apisixStandalone"]["routes"]
    env = {item["name"]: item["value"] for item in qm["qm-backend"]["extraEnvVars"]}
    connector = {item["name"]: item["value"] for item in qm["qm-connector"]["extraEnvVars"]}
    admin = {item["name"]: item["value"] for item in core["unified-admin"]["extraEnvVars"]}
    found = {
        "core KEYCLOAK_CREDENTIALS": json.loads(core["efConnectionVars"]["KEYCLOAK_CREDENTIALS"])["secret"],
        "core KEYCLOAK_CLIENT_DB_ID": core["efConnectionVars"]["KEYCLOAK_CLIENT_DB_ID"],
        "core CLIENT_SECRET": admin["CLIENT_SECRET"],
        "qm KEYCLOAK_CREDENTIALS": json.loads(env["KEYCLOAK_CREDENTIALS"])["secret"],
        "qm KEYCLOAK_CLIENT_SECRET": connector["KEYCLOAK_CLIENT_SECRET"],
    }
    for route in routes:
        block = (route.get("plugins") or {}).get("openid-connect")
        if route["id"] in SECURED and block:
            found["route " + route["id"]] = block["client_secret"]
    return {key: value == secret for key, value in found.items()}, env["KEYCLOAK_CLIENT_DB_ID"]


@pytest.fixture
def published(make_tenant, tmp_path):
    """A tenant whose cim secret is the published default, deployed by site (values kept in step)."""
    tenant = make_tenant(prefix="t-rot", client_secret=PUBLISHED)
    files = _values(tmp_path, PUBLISHED)
    inventory = _inventory(tmp_path, tenant, files, apisix_api_auth_cx_values_sync=True)
    rc, output = run_playbook("cx.api_auth.site", inventory, diff=True, verbosity=3)
    assert rc == 0, output[-4000:]
    assert "Realm %s: CX values 1 place rewritten" % tenant.realm in output or "rewritten" in output, output[-3000:]
    core = yaml.safe_load(files[0].read_text())
    env = {item["name"]: item["value"] for item in core["web-channel-manager"]["extraEnvVars"]}
    assert env["KEYCLOAK_PASSWORD_CUSTOMER"] == CUSTOMER, output[output.find("Rewrite the places") :][:5000]
    return tenant, files, inventory, output


def _kc_secret(tenant):
    client = tenant.client("cim")
    return tenant.kc.rest("GET", "realms/%s/clients/%s/client-secret" % (tenant.realm, client["id"]))["value"]


def test_rotate_check_mode_lists_the_places_and_changes_nothing(published):
    tenant, files, inventory = published[:3]
    before = {path: path.read_bytes() for path in files}
    rc, output = run_playbook("cx.api_auth.rotate", inventory, check=True, diff=True, verbosity=3)
    assert rc == 0, output[-4000:]
    assert {path: path.read_bytes() for path in files} == before
    assert _kc_secret(tenant) == PUBLISHED
    assert "cim_secret  %s line" % files[0] in output and "efConnectionVars.KEYCLOAK_CREDENTIALS{secret}" in output
    assert "(left: unknown role)" in output
    _clean(output, tenant)


def test_rotate_from_the_published_default_updates_every_place_and_the_widget_still_logs_in(published):
    tenant, files, inventory = published[:3]
    status, _body = tenant.password_grant("customer", CUSTOMER, "cim", PUBLISHED)
    assert status == 200, "the widget's request works before"
    rc, output = run_playbook("cx.api_auth.rotate", inventory, diff=True, verbosity=3)
    assert rc == 0, output[-6000:]
    new = _kc_secret(tenant)
    assert new != PUBLISHED
    holds, unknown = _secret_places(files, new)
    assert all(holds.values()) and len(holds) == 5 + len(SECURED), holds
    assert unknown == PUBLISHED, "a place of unknown role is left as it was"
    status, _body = tenant.password_grant("customer", CUSTOMER, "cim", new)
    assert status == 200, "the widget's request works after"
    assert "Keycloak gives the customer widget's token" in output
    assert re.search(r"Realm %s: CX values \d+ places same, 0 differ" % tenant.realm, output)
    _clean(output, tenant, new)
    rc, output = run_playbook("cx.api_auth.rotate", inventory, diff=True)
    assert rc == 0 and _kc_secret(tenant) == new, output[-4000:]
    assert re.search(r"installer\s+: ok=\d+\s+changed=0 ", output), output[-2000:]


def test_a_rotation_stopped_midway_says_the_generations_and_a_rerun_converges(published):
    tenant, files, inventory = published[:3]
    files[1].chmod(0o444)  # QM's values file read-only: the rewrite stops there
    try:
        rc, output = run_playbook("cx.api_auth.rotate", inventory, diff=True, verbosity=3)
    finally:
        files[1].chmod(0o644)
    assert rc != 0
    new = _kc_secret(tenant)
    assert "the rotation stopped; Keycloak holds the new cim secret" in output, output[-6000:]
    assert re.search(r"previous: [^\n]*qm-values.yaml line \d+ qm-backend", output), output[-6000:]
    assert re.search(r"new: [^\n]*apisix-values.yaml line", output), output[-6000:]
    _clean(output, tenant, new)
    rc, output = run_playbook("cx.api_auth.rotate", inventory, diff=True, verbosity=3)
    assert rc == 0, output[-6000:]
    assert _kc_secret(tenant) == new, "a rerun keeps Keycloak's secret"
    holds, _unknown = _secret_places(files, new)
    assert all(holds.values()), holds
    _clean(output, tenant, new)

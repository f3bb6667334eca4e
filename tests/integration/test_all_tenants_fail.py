# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report also when EVERY tenant of the run failed (issue 21), through ``ansible-playbook`` against the real
Keycloaks: ansible-playbook stops a run when every host of a play failed, so a tenant's failure is kept (the host
ends its plays) and the host fails only after the report. A one-tenant inventory whose Keycloak step fails (a
rejected admin password, a password policy that refuses the customer's password) and verify on open routes: the
report is written with the tenant's error, the recap shows failed=1 for the tenant's host and the rc is non-zero.
"""

import json
import os
import shutil
import sys

import pytest
import yaml

from ._runner import run_playbook

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "apisix")
SAMPLE = "helm-values-credentials.yaml.sample"
SECURED = ["orders-main-secured", "files-main"]
CUSTOMER = "Allfail-cust0mer-pw"
WRONG_ADMIN = "Wr0ng-admin-pw-allfail"


def _inventory(tmp_path, tenant, **extra):
    path = tmp_path / "values.yaml"
    if not path.exists():
        shutil.copyfile(os.path.join(FIXTURES, SAMPLE), path)
    values = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "keycloak_api_auth_url": tenant.kc.url,
        "keycloak_api_auth_admin_username": tenant.kc.admin_user,
        "keycloak_api_auth_admin_password": tenant.kc.admin_password,
        "keycloak_api_auth_realm": tenant.realm,
        "keycloak_api_auth_customer_password": CUSTOMER,
        "apisix_api_auth_routes_file": str(path),
        "apisix_api_auth_routes": SECURED,
        "apisix_api_auth_keycloak_url": tenant.kc.url,
        "apisix_api_auth_realm": tenant.realm,
    }
    values.update(extra)
    groups = {"keycloak_admin": {"hosts": {"installer": None}}, "apisix_gateway": {"hosts": {"installer": None}}}
    inventory = tmp_path / ("hosts-%d.yml" % len(list(tmp_path.glob("hosts-*.yml"))))
    inventory.write_text(yaml.safe_dump({"all": {"children": groups, "vars": values}}))
    return inventory, path


def _play(name, inventory, report_dir, check=False):
    return run_playbook(
        "cx.api_auth.%s" % name, inventory, check=check, extra_vars={"cx_api_auth_report_dir": str(report_dir)}
    )


def _failed_after_the_report(rc, output):
    """The run fails (rc 2), the report play ran and the tenant's host fails in the last play, after it."""
    assert rc == 2, output[-4000:]
    recap = output.rsplit("PLAY RECAP", maxsplit=1)[-1]
    assert [line for line in recap.splitlines() if line.startswith("installer") and "failed=1" in line], recap
    report_at = output.index("TASK [Write the report]")
    assert output.index("PLAY [Report - the tenants that failed in this run fail now]") > report_at, output[-4000:]


def _clean(output, report_dir, *secrets):
    texts = [output] + [path.read_text() for path in sorted(report_dir.glob("report.*"))]
    for value in secrets:
        assert all(value not in text for text in texts), "a secret was printed or reported"


@pytest.mark.parametrize("fault", ["wrong-admin-password", "keycloak-step"])
def test_site_writes_the_report_when_its_only_tenant_fails(make_tenant, tmp_path, fault):
    tenant = make_tenant(prefix="t-allfail")
    if fault == "keycloak-step":  # the checks pass; Keycloak refuses the customer's password in the Keycloak play
        tenant.update(passwordPolicy="length(64)")
        inventory, path = _inventory(tmp_path, tenant)
    else:  # the first play's read of the client secret is refused
        inventory, path = _inventory(tmp_path, tenant, keycloak_api_auth_admin_password=WRONG_ADMIN)
    before = path.read_bytes()
    report_dir = tmp_path / "report"
    rc, output = _play("site", inventory, report_dir)
    _failed_after_the_report(rc, output)
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"]["tenants"] == report["summary"]["tenants_failed"] == 1, report["summary"]
    (reported,) = report["tenants"]
    assert reported["realm"] == tenant.realm and reported["error"], reported
    assert "no result" not in reported["error"], reported
    for name in ("report.md", "report.xml", "report.html"):
        assert tenant.realm in (report_dir / name).read_text(), name
    # the tenant stopped where it failed: its routes as they were, its gateway step never ran
    assert path.read_bytes() == before
    assert "TASK [The apisix_api_auth role]" not in output
    assert tenant.user("customer") is None
    _clean(output, report_dir, tenant.client_secret, tenant.kc.admin_password, CUSTOMER, WRONG_ADMIN)


def test_site_in_check_mode_reports_when_its_only_tenant_fails(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-allfailck")
    inventory, _path = _inventory(tmp_path, tenant, keycloak_api_auth_admin_password=WRONG_ADMIN)
    report_dir = tmp_path / "report"
    rc, output = _play("site", inventory, report_dir, check=True)
    _failed_after_the_report(rc, output)
    assert "Would write the report of 1 tenant(s) (1 failed)" in output, output[-4000:]
    assert not report_dir.exists()
    _clean(output, report_dir, tenant.kc.admin_password, WRONG_ADMIN)


def test_verify_writes_the_report_when_every_route_of_its_only_tenant_is_open(make_tenant, tmp_path):
    tenant = make_tenant(prefix="t-allfailvf")
    inventory, path = _inventory(tmp_path, tenant)
    rc, output = _play("site", inventory, tmp_path / "site-report")
    assert rc == 0, output[-4000:]
    rc, output = _play("disable", inventory, tmp_path / "disable-report")
    assert rc == 0, output[-4000:]
    report_dir = tmp_path / "report"
    rc, output = _play("verify", inventory, report_dir)
    _failed_after_the_report(rc, output)
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"]["tenants_failed"] == 1 and report["summary"]["routes"]["secured"] == 0, report
    (reported,) = report["tenants"]
    # every route of the tenant in the report, with the check's reason (an open route the inventory wants secured)
    reasons = {route["id"]: route["reason"] for route in reported["routes"] if route["state"] != "secured"}
    assert all("commented out" in reasons[rid] for rid in SECURED), reasons
    assert reported["error"] and all(rid in reported["error"] for rid in SECURED), reported
    assert path.exists()
    _clean(output, report_dir, tenant.client_secret, tenant.kc.admin_password, CUSTOMER)

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/report.yml through ``ansible-playbook``: an inventory of three tenants whose hosts carry what
verify.yml and site.yml register (the facts contract in the playbook's header), one of them failing in a play
before the report (its error set in a rescue). No Keycloak is needed: the facts are the test's.

The report is parsed (JSON, JUnit), its counts checked, and neither the four files nor anything Ansible
printed (at -vvv) holds a secret of the inventory. ``report.html`` is opened in Debian's headless chromium
(selenium and chromium-driver, installed by tools/browser.sh) and a screenshot saved under tests/output.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from ._runner import run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADMIN = "Adm1n-pw-report-7781"
CUSTOMER = "Cust0mer-pw-report-5521"
CLIENT_SECRET = "cim-secret-report-0f9e8d7c6b5a"
ADMIN_KEY = "edd1c9f034335f136f87ad84b625c8f1"
URL_PASSWORD = "url-pw-report-3344"
SECRETS = (ADMIN, CUSTOMER, CLIENT_SECRET, ADMIN_KEY, URL_PASSWORD)
FILES = ("report.json", "report.md", "report.xml", "report.html")


def _check(*routes):
    return {
        "changed": False,
        "failed": False,
        "routes": [
            {"route": rid, "status": status, "reason": reason, "client_id": "cim"} for rid, status, reason in routes
        ],
        "failed_routes": [rid for rid, status, _reason in routes if status == "failed"],
        "msg": "checked",
    }


def _keycloak(realm):
    return {
        "mapper": {
            "changed": False,
            "mapper": {
                "name": "fix-audience",
                "protocolMapper": "oidc-audience-mapper",
                "config": {"included.client.audience": "cim", "access.token.claim": "true"},
            },
            "msg": "Mapper 'fix-audience' on client 'cim' in realm '%s' is up to date" % realm,
        },
        "user": {
            "changed": False,
            "user": {"username": "customer", "enabled": True, "email_verified": True, "realm_roles": ["customer"]},
        },
    }


OK_REASON = "token of 'customer' active at introspection with client 'cim', RS256, aud has 'cim'"
HOST_VARS = {
    "acme": {
        "keycloak_api_auth_realm": "acme",
        "keycloak_api_auth_url": "http://kc.acme.invalid/auth",
        "cx_api_auth_keycloak_result": _keycloak("acme"),
        "cx_api_auth_keycloak_version": "26.7.3",
        "cx_api_auth_verify_result": _check(
            ("orders-main-secured", "ok", OK_REASON),
            ("files-main", "ok", OK_REASON),
            ("status-public", "open", "no openid-connect block: no authentication"),
        ),
        "cx_api_auth_live_result": {"routes": [{"id": "orders-main-secured", "live": "live"}]},
    },
    "globex": {
        "keycloak_api_auth_realm": "globex",
        # the credentials of a URL are masked even when no variable names them
        "keycloak_api_auth_url": "http://admin:%s@kc.globex.invalid/auth" % URL_PASSWORD,
        "cx_api_auth_keycloak_result": _keycloak("globex"),
        "cx_api_auth_verify_result": _check(
            ("orders-main-secured", "ok", OK_REASON),
            # a reason that (wrongly) carries the customer's password: the report masks it
            ("billing", "failed", "aud of the token of 'customer' (password %s) lacks client 'cim'" % CUSTOMER),
        ),
    },
    "initech": {"keycloak_api_auth_realm": "initech", "keycloak_api_auth_url": "http://kc.initech.invalid/auth"},
}

RUN = """---
- name: A tenant whose Keycloak step fails
  hosts: all
  gather_facts: false
  tasks:
    - name: The Keycloak step
      block:
        - name: Log in to Keycloak
          ansible.builtin.fail:
            msg: "Keycloak at http://kc.initech.invalid/auth refused the admin login"
          when: inventory_hostname == 'initech'
      rescue:
        - name: Note the error for the report
          ansible.builtin.set_fact:
            cx_api_auth_error:
              task: "{{ ansible_failed_task.name }}"
              msg: "{{ ansible_failed_result.msg }}"
        - name: The tenant stays failed
          ansible.builtin.fail:
            msg: "{{ cx_api_auth_error.msg }}"

- name: The report
  ansible.builtin.import_playbook: cx.api_auth.report
"""


def _inventory(tmp_path):
    hosts = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "keycloak_api_auth_admin_password": ADMIN,
                "keycloak_api_auth_customer_password": CUSTOMER,
                "apisix_api_auth_client_secret": CLIENT_SECRET,
                "apisix_api_auth_admin_key": ADMIN_KEY,
                "cx_api_auth_report_playbook": "verify",
            },
            "children": {
                "keycloak_admin": {"hosts": {name: None for name in HOST_VARS}},
                "apisix_gateway": {"hosts": {name: None for name in HOST_VARS}},
            },
        }
    }
    inventory = tmp_path / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    for name, values in HOST_VARS.items():
        (inventory / "host_vars" / ("%s.yml" % name)).write_text(yaml.safe_dump(values))
    playbook = tmp_path / "run.yml"
    playbook.write_text(RUN)
    return inventory, playbook


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """The run (one tenant fails before the report) at -vvv: ``(report dir, rc, output)``."""
    tmp_path = tmp_path_factory.mktemp("report")
    inventory, playbook = _inventory(tmp_path)
    dest = tmp_path / "out"
    rc, output = run_playbook(str(playbook), inventory, verbosity=3, extra_vars={"cx_api_auth_report_dir": str(dest)})
    return dest, rc, output


def test_every_tenant_is_in_the_report_also_the_failed_one(reported):
    dest, rc, output = reported
    assert rc == 2, output  # initech failed: the run fails, after the report
    assert sorted(os.listdir(dest)) == sorted(FILES)
    report = json.loads((dest / "report.json").read_text())
    assert report["summary"] == {"tenants": 3, "tenants_failed": 2, "routes": {"failed": 1, "open": 1, "secured": 3}}
    tenants = {tenant["name"]: tenant for tenant in report["tenants"]}
    assert [tenant["name"] for tenant in report["tenants"]] == ["globex", "initech", "acme"]
    assert tenants["initech"]["error"] == (
        "Log in to Keycloak: Keycloak at http://kc.initech.invalid/auth refused the admin login"
    )
    assert tenants["acme"]["counts"] == {"failed": 0, "open": 1, "secured": 2}
    assert tenants["acme"]["keycloak_version"] == "26.7.3" and tenants["acme"]["apisix_version"] == "3.11"
    assert tenants["acme"]["keycloak"]["mapper"]["matches_guide"] is True
    assert [route["live"] for route in tenants["acme"]["routes"]][1] == "live"
    assert tenants["globex"]["keycloak_url"] == "http://admin:********@kc.globex.invalid/auth"
    assert report["report"]["playbook"] == "verify"
    # the counts of the file hold against the inventory's facts
    for name, values in HOST_VARS.items():
        routes = values.get("cx_api_auth_verify_result", {}).get("routes", [])
        assert sorted(route["id"] for route in tenants[name]["routes"]) == sorted(route["route"] for route in routes)
    # the end of the run says where the report is, at the default verbosity too
    assert "Wrote the report of 3 tenant(s) (2 failed): 3 route(s) secured, 1 open, 1 failed to %s" % dest in output


def test_junit(reported):
    dest = reported[0]
    root = ET.parse(dest / "report.xml").getroot()
    # 3 tenants and 5 routes; route billing and tenant initech fail, the open route is skipped
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "2", "1")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert sorted(suites) == ["acme", "globex", "initech"]
    failed = sorted(
        "%s/%s" % (suite, case.get("name"))
        for suite, element in suites.items()
        for case in element.findall("testcase")
        if case.find("failure") is not None
    )
    assert failed == ["globex/route billing", "initech/tenant initech"]


def test_no_secret_in_any_file_or_the_output(reported):
    dest, _rc, output = reported
    assert "globex (realm globex): 1 route(s) secured" in output  # the run's output, at -vvv
    for value in SECRETS:
        assert value not in output, "a secret was printed"
        for name in FILES:
            assert value not in (dest / name).read_text(encoding="utf-8"), name


def test_markdown_summary(reported):
    text = (reported[0] / "report.md").read_text()
    assert "- ok acme (realm acme): 2 route(s) secured, 1 open, 0 failed" in text
    assert "- **FAILED** globex (realm globex): 1 route(s) secured, 0 open, 1 failed" in text


def test_default_directory_and_previous_report(tmp_path):
    """Without cx_api_auth_report_dir: ./cx-api-auth-report where ansible-playbook runs (the shell's PWD), not
    where the playbook is; a rerun keeps the previous report as .prev."""
    inventory, playbook = _inventory(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(
        os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0", PWD=str(work)
    )
    env.pop("CX_API_AUTH_REPORT_DIR", None)  # the suite's (tests/conftest.py)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), str(playbook)]
    outputs = []
    for _run in range(2):
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False)
        outputs.append(proc.stdout + proc.stderr)
    dest = work / "cx-api-auth-report"
    assert "to %s (report.json" % dest in outputs[1], outputs[1]
    assert sorted(os.listdir(dest)) == sorted(list(FILES) + [name + ".prev" for name in FILES])
    assert not (tmp_path / "cx-api-auth-report").exists() and not (ROOT / "playbooks" / "cx-api-auth-report").exists()
    assert json.loads((dest / "report.json.prev").read_text())["summary"]["tenants"] == 3
    # CX_API_AUTH_REPORT_DIR (a CI job's) comes before the shell's directory
    elsewhere = tmp_path / "elsewhere"
    proc = subprocess.run(
        cmd, cwd=work, env=dict(env, CX_API_AUTH_REPORT_DIR=str(elsewhere)), capture_output=True, text=True, check=False
    )
    assert sorted(os.listdir(elsewhere)) == sorted(FILES), proc.stdout[-3000:]  # rc 2: initech fails on purpose


def test_a_run_that_reports_twice_lists_every_host_once(tmp_path):
    """site then verify in one run (report_run.yml of molecule tenants): the second report play starts from
    nothing of the first one (its hosts, its secrets, its failed hosts); every host is listed once."""
    inventory, playbook = _inventory(tmp_path)
    twice = tmp_path / "twice.yml"
    twice.write_text(
        RUN + "\n- name: The report again (verify's, after site's)\n  ansible.builtin.import_playbook: "
        "cx.api_auth.report\n"
    )
    dest = tmp_path / "out"
    rc, output = run_playbook(str(twice), inventory, extra_vars={"cx_api_auth_report_dir": str(dest)})
    assert rc == 2, output
    report = json.loads((dest / "report.json").read_text())
    assert {tenant["name"]: tenant["hosts"] for tenant in report["tenants"]} == {
        "acme": ["acme"],
        "globex": ["globex"],
        "initech": ["initech"],
    }
    assert report == dict(json.loads((dest / "report.json.prev").read_text()), report=report["report"])
    for name in ("report.md", "report.html"):
        text = (dest / name).read_text()
        assert "acme, acme" not in text and "initech, initech" not in text, name
    del playbook


def test_check_mode_writes_nothing(tmp_path):
    inventory, playbook = _inventory(tmp_path)
    dest = tmp_path / "out"
    _rc, output = run_playbook(str(playbook), inventory, check=True, extra_vars={"cx_api_auth_report_dir": str(dest)})
    assert not dest.exists()
    assert "Would write the report of 3 tenant(s)" in output


def test_the_page_in_headless_chromium(reported):
    """Every tenant and every route state is on the rendered page; a screenshot is kept under tests/output."""
    driver_path = shutil.which("chromedriver")
    browser_path = shutil.which("chromium")
    assert driver_path and browser_path, "Debian's chromium and chromium-driver are missing: run bash tools/browser.sh"
    from selenium import webdriver  # pylint: disable=import-outside-toplevel  # requirements/test.txt
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel

    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1100",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        driver.get((reported[0] / "report.html").as_uri())
        assert driver.title == "API authentication report"
        report = json.loads((reported[0] / "report.json").read_text())
        summary = driver.find_element(By.ID, "summary").text
        for tenant in report["tenants"]:
            assert tenant["name"] in summary
            section = driver.find_element(By.ID, "tenant-%s" % tenant["name"])
            assert section.is_displayed()
            for route in tenant["routes"]:
                row = section.find_element(By.CSS_SELECTOR, 'tr[data-route="%s"]' % route["id"])
                assert row.find_element(By.CSS_SELECTOR, "td.state").text == route["state"]
                assert row.get_attribute("class") == route["state"]
            if tenant["error"]:
                assert tenant["error"] in section.text
        # the colours: the state cells differ per state as rendered
        colours = {
            state: driver.find_element(By.CSS_SELECTOR, "tr.%s td.state" % state).value_of_css_property(
                "background-color"
            )
            for state in ("secured", "open", "failed")
        }
        assert len(set(colours.values())) == 3, colours
        out = ROOT / "tests" / "output" / "report"
        out.mkdir(parents=True, exist_ok=True)
        shot = out / "report.png"
        driver.set_window_size(1400, max(1100, driver.execute_script("return document.body.scrollHeight")))
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10000
    finally:
        driver.quit()

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the report of molecule ``tenants``' failing run (extensions/molecule/tenants/verify.yml).

The run is site then verify for acme, globex and initech: initech's Keycloak step fails (a wrong admin
password), globex's route files-main fails verify (a wrong client secret). Checked here, each mismatch
failing the script (exit 1, every problem listed):

- the four files exist; report.json and report.xml (JUnit) parse and hold every tenant;
- the counts: per tenant, the routes of the JSON are the openid-connect routes of its route file, in the
  states expected; the summary, the Markdown summary lines and the JUnit totals agree with the JSON;
- Keycloak: for every tenant whose Keycloak step ran, the customer user exists and is enabled, and the
  fix-audience mapper is on client cim, as the JSON says (read with the admin REST API);
- no secret of the run (admin password, every tenant's customer password and client secret, the wrong
  values of the run, the route file's foreign credentials) in any of the four files, the run's output or
  the log of every playbook of the scenario;
- report.html in Debian's headless chromium (selenium, chromium-driver): every tenant and every route
  state on the rendered page; a screenshot is saved where --screenshot says (its path printed), with a copy
  of the four files next to it.

Run by verify.yml with the Python that runs ansible-playbook (the venv's: selenium, PyYAML).
"""

import argparse
import json
import pathlib
import shutil
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import yaml

FILES = ("report.json", "report.md", "report.xml", "report.html")
STATES = ("secured", "open", "failed")
# what the run does to each tenant (report_run.yml, broken/): the states of its routes and whether it fails
EXPECTED = {
    "acme": {"status": "ok", "routes": {"orders-main-secured": "secured", "files-main": "secured"}},
    "globex": {"status": "failed", "routes": {"orders-main-secured": "secured", "files-main": "failed"}},
    "initech": {"status": "failed", "routes": {}, "error": "rejected the credentials of user 'admin'"},
}
REALM_OF = {"acme": "mol-acme", "globex": "mol-globex", "initech": "mol-initech"}


class Problems(list):
    def check(self, condition, message):
        if not condition:
            self.append(message)
        return condition


def _routes_of(path):
    """Every route (a mapping with an ``id`` and ``plugins``) of a Helm values file, in order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "id" in node and isinstance(node.get("plugins"), dict):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")))
    return found


def _oidc_routes(path):
    """The ids of the routes of a Helm values file that carry openid-connect (uncommented)."""
    return [str(route["id"]) for route in _routes_of(path) if "openid-connect" in route["plugins"]]


def _route_places(path):
    """``{route id: (uri text, hosts)}`` of every route of a Helm values file, as the report shows them."""

    def texts(node, *keys):
        values = []
        for key in keys:
            value = node.get(key)
            values.extend(item for item in (value if isinstance(value, list) else [value]) if isinstance(item, str))
        return list(dict.fromkeys(item for item in values if item))

    return {
        str(route["id"]): (", ".join(texts(route, "uri", "uris")) or None, texts(route, "host", "hosts"))
        for route in _routes_of(path)
    }


def _admin_get(record, token, path):
    request = urllib.request.Request(
        record["url"] + "/admin/realms/" + path, headers={"Authorization": "Bearer " + token}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # the scenario's own Keycloak
        return json.loads(response.read())


def _admin_token(record):
    body = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": record["admin_user"],
            "password": record["admin_password"],
        }
    ).encode()
    with urllib.request.urlopen(record["url"] + "/realms/master/protocol/openid-connect/token", body, timeout=30) as r:
        return json.loads(r.read())["access_token"]


def check_json(report, record, problems):
    tenants = {tenant["name"]: tenant for tenant in report["tenants"]}
    problems.check(sorted(tenants) == sorted(EXPECTED), "tenants in report.json: %s" % sorted(tenants))
    totals = dict.fromkeys(STATES, 0)
    for name, expected in EXPECTED.items():
        tenant = tenants.get(name)
        if not problems.check(tenant is not None, "tenant %s missing from report.json" % name):
            continue
        problems.check(tenant["realm"] == REALM_OF[name], "%s: realm %r" % (name, tenant["realm"]))
        problems.check(tenant["status"] == expected["status"], "%s: status %r" % (name, tenant["status"]))
        states = {route["id"]: route["state"] for route in tenant["routes"]}
        problems.check(states == expected["routes"], "%s: route states %s" % (name, states))
        counts = {state: sum(1 for value in states.values() if value == state) for state in STATES}
        problems.check(tenant["counts"] == counts, "%s: counts %s, routes say %s" % (name, tenant["counts"], counts))
        for state in STATES:
            totals[state] += counts[state]
        if "error" in expected:
            problems.check(
                expected["error"] in (tenant["error"] or "") and REALM_OF[name] in tenant["error"],
                "%s: error %r does not say %r" % (name, tenant["error"], expected["error"]),
            )
        for route in tenant["routes"]:
            if route["state"] == "failed":
                problems.check(bool(route["reason"]), "%s/%s: failed without a reason" % (name, route["id"]))
        # the counts against the route file: the routes of the report are its openid-connect routes
        tenant_record = next(item for item in record["tenants"] if item["realm"] == REALM_OF[name])
        if expected["routes"]:
            in_file = _oidc_routes(tenant_record["routes_file"])
            problems.check(
                sorted(states) == sorted(in_file),
                "%s: routes %s, the route file has %s" % (name, sorted(states), in_file),
            )
            # where each route matches: the route file's uri(s) and host(s), never empty here
            places = _route_places(tenant_record["routes_file"])
            for route in tenant["routes"]:
                problems.check(
                    route["uri"] and (route["uri"], route["hosts"]) == places.get(route["id"]),
                    "%s/%s: uri %r hosts %r, the route file has %r"
                    % (name, route["id"], route["uri"], route["hosts"], places.get(route["id"])),
                )
        # each host once (a tenant is a realm; its hosts listed once, also after site's report then verify's)
        problems.check(tenant["hosts"] == [name], "%s: hosts %s" % (name, tenant["hosts"]))
        # the Keycloak version, read by site's first play (not for initech: its admin login fails there)
        want = None if name == "initech" else record["version"]
        problems.check(
            tenant["keycloak_version"] == want,
            "%s: Keycloak version %r, not %r" % (name, tenant["keycloak_version"], want),
        )
        problems.check(tenant["apisix_version"] == "3.11", "%s: APISIX version %r" % (name, tenant["apisix_version"]))
    problems.check(
        report["summary"] == {"tenants": 3, "tenants_failed": 2, "routes": totals},
        "summary %s, tenants say %s" % (report["summary"], totals),
    )
    return tenants


def check_keycloak(tenants, record, problems):
    """The Keycloak facts of the report against Keycloak itself (admin REST API)."""
    token = _admin_token(record)
    for name, tenant in tenants.items():
        if EXPECTED[name]["status"] == "failed" and not EXPECTED[name]["routes"]:
            continue  # its Keycloak step failed: nothing of its realm is reported
        realm = REALM_OF[name]
        facts = tenant.get("keycloak") or {}
        user = facts.get("customer_user") or {}
        mapper = facts.get("mapper") or {}
        found = _admin_get(record, token, "%s/users?exact=true&username=%s" % (realm, user.get("username")))
        problems.check(len(found) == 1, "%s: user %r not found in realm %s" % (name, user.get("username"), realm))
        if found:
            problems.check(
                user.get("present") is True and user.get("enabled") is found[0]["enabled"] is True,
                "%s: user enabled in report %r, in Keycloak %r" % (name, user.get("enabled"), found[0]["enabled"]),
            )
        clients = _admin_get(record, token, "%s/clients?clientId=cim" % realm)
        names = [item["name"] for item in clients[0].get("protocolMappers", [])] if clients else []
        problems.check(
            mapper.get("present") is True and mapper.get("matches_guide") is True and mapper.get("name") in names,
            "%s: mapper %r (present %r) not on cim in Keycloak (%s)"
            % (name, mapper.get("name"), mapper.get("present"), names),
        )


def check_junit(path, report, problems):
    root = ET.parse(path).getroot()
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    problems.check(sorted(suites) == sorted(EXPECTED), "JUnit suites %s" % sorted(suites))
    routes = report["summary"]["routes"]
    cases = sum(len(suite.findall("testcase")) for suite in suites.values())
    failed = sorted(
        "%s/%s" % (name, case.get("name"))
        for name, suite in suites.items()
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    )
    expected_cases = len(report["tenants"]) + sum(len(tenant["routes"]) for tenant in report["tenants"])
    problems.check(
        cases == expected_cases, "JUnit: %d test cases, one per tenant and route is %d" % (cases, expected_cases)
    )
    problems.check(int(root.get("tests")) == cases, "JUnit tests=%s, %d test cases" % (root.get("tests"), cases))
    problems.check(int(root.get("failures")) == len(failed), "JUnit failures=%s, %s" % (root.get("failures"), failed))
    problems.check(int(root.get("skipped")) == routes["open"], "JUnit skipped=%s" % root.get("skipped"))
    problems.check(
        any(case.startswith("globex/") and "files-main" in case for case in failed)
        and any(case.startswith("initech/") for case in failed)
        and not any(case.startswith("acme/") for case in failed),
        "JUnit failures %s" % failed,
    )


def check_markdown(text, report, problems):
    for tenant in report["tenants"]:
        counts = tenant["counts"]
        line = "%s (realm %s): %d route(s) secured, %d open, %d failed" % (
            tenant["name"],
            tenant["realm"],
            counts["secured"],
            counts["open"],
            counts["failed"],
        )
        problems.check(line in text, "report.md has no summary line %r" % line)


def check_secrets(texts, secrets, problems):
    for label, text in texts.items():
        found = sum(1 for secret in secrets if secret in text)
        problems.check(found == 0, "%d secret(s) of the run in %s" % (found, label))


def check_page(page, report, screenshot, problems):
    driver_path, browser_path = shutil.which("chromedriver"), shutil.which("chromium")
    if not problems.check(driver_path and browser_path, "chromium/chromium-driver missing: bash tools/browser.sh"):
        return
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
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
        driver.get(pathlib.Path(page).resolve().as_uri())
        problems.check(driver.title == "API authentication report", "page title %r" % driver.title)
        summary = driver.find_element(By.ID, "summary").text
        seen = set()
        for tenant in report["tenants"]:
            problems.check(tenant["name"] in summary, "tenant %s not in the page's summary" % tenant["name"])
            sections = driver.find_elements(By.ID, "tenant-%s" % tenant["name"])
            if not problems.check(sections and sections[0].is_displayed(), "no section for %s" % tenant["name"]):
                continue
            for route in tenant["routes"]:
                rows = sections[0].find_elements(By.CSS_SELECTOR, 'tr[data-route="%s"]' % route["id"])
                if problems.check(rows, "%s/%s not on the page" % (tenant["name"], route["id"])):
                    shown = rows[0].find_element(By.CSS_SELECTOR, "td.state").text
                    problems.check(shown == route["state"], "%s/%s shown %r" % (tenant["name"], route["id"], shown))
                    seen.add(shown)
            if tenant["error"]:
                problems.check(tenant["error"] in sections[0].text, "%s: its error is not on the page" % tenant["name"])
        problems.check({"secured", "failed"} <= seen, "route states on the page: %s" % sorted(seen))
        # the whole page in one picture (headless chromium keeps the window at the screen's height)
        height = max(1100, driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        pathlib.Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        problems.check(driver.save_screenshot(str(screenshot)), "no screenshot")
        problems.check(pathlib.Path(screenshot).stat().st_size > 10000, "the screenshot is (almost) empty")
    finally:
        driver.quit()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", required=True, type=pathlib.Path)
    parser.add_argument("--record", required=True, help="the scenario's tenant.json (its secrets)")
    parser.add_argument("--output", required=True, help="the run's output (stdout and stderr)")
    parser.add_argument("--log", action="append", default=[], help="a log of the run (ANSIBLE_LOG_PATH)")
    parser.add_argument("--secrets-file", action="append", default=[], help="one secret a line, # comments")
    parser.add_argument("--secrets-yaml", action="append", default=[], help="a YAML mapping: its values are secrets")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--no-keycloak", action="store_true", help="skip the Keycloak comparison")
    args = parser.parse_args(argv)

    problems = Problems()
    record = json.loads(pathlib.Path(args.record).read_text(encoding="utf-8"))
    missing = [name for name in FILES if not (args.report_dir / name).is_file()]
    if missing:
        print("FAILED: missing report file(s) in %s: %s" % (args.report_dir, ", ".join(missing)))
        return 1
    texts = {name: (args.report_dir / name).read_text(encoding="utf-8") for name in FILES}
    report = json.loads(texts["report.json"])
    tenants = check_json(report, record, problems)
    if not args.no_keycloak:
        check_keycloak(tenants, record, problems)
    check_junit(args.report_dir / "report.xml", report, problems)
    check_markdown(texts["report.md"], report, problems)
    for name in FILES:
        for tenant in EXPECTED:
            problems.check(tenant in texts[name], "tenant %s not in %s" % (tenant, name))
    secrets = [record["admin_password"]]
    for path in args.secrets_yaml:
        secrets += [str(value) for value in yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")).values()]
    for tenant in record["tenants"]:
        secrets += [tenant["customer_password"], tenant["client_secret"]]
    for path in args.secrets_file:
        lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
        secrets += [line for line in lines if line and not line.startswith("#")]
    printed = dict(texts)
    printed["the run's output"] = pathlib.Path(args.output).read_text(encoding="utf-8")
    problems.check(len(printed["the run's output"]) > 10000, "the run's output is (almost) empty")
    for path in args.log:
        printed[path] = pathlib.Path(path).read_text(encoding="utf-8")
    check_secrets(printed, [secret for secret in secrets if secret], problems)
    check_page(args.report_dir / "report.html", report, args.screenshot, problems)
    for name in FILES:  # next to the screenshot, to look at after the run
        shutil.copy(args.report_dir / name, pathlib.Path(args.screenshot).parent / name)

    summary = report["summary"]
    if problems:
        print("FAILED: %d problem(s) in the report in %s" % (len(problems), args.report_dir))
        for problem in problems:
            print("- " + problem)
        return 1
    print(
        "report ok: %d tenants (%d failed), routes %s; %d secrets absent from %d texts; screenshot %s"
        % (
            summary["tenants"],
            summary["tenants_failed"],
            summary["routes"],
            len(secrets),
            len(printed),
            args.screenshot,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

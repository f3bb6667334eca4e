# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run report: its model (tenants, counts, failures first), the four formats, masking, the set write."""

import json
import os
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._io import stage_file
from ansible_collections.cx.api_auth.plugins.module_utils._report import model, render, runner, store

from .report_data import hosts

ROOT = pathlib.Path(__file__).resolve().parents[4]
SECRET = "S3cr3t-Value-42"


def _report(**kwargs):
    return model.build(hosts(), now="2026-12-05T07:00:00Z", **kwargs)


def _run(tmp_path, host_list=None, check=False, **params):
    params = dict({"dest": str(tmp_path / "out"), "hosts": host_list if host_list is not None else hosts()}, **params)
    return runner.run(params, check, False, [].append)


def test_tenants_counts_and_failures_first():
    report = _report()
    names = [tenant["name"] for tenant in report["tenants"]]
    assert names == ["globex", "initech", "acme"]  # failed tenants first, then by name; localhost left out
    assert report["summary"] == {"tenants": 3, "tenants_failed": 2, "routes": {"failed": 1, "open": 1, "secured": 3}}
    acme = report["tenants"][2]
    assert acme["status"] == "ok" and acme["counts"] == {"failed": 0, "open": 1, "secured": 2}
    assert [route["id"] for route in acme["routes"]] == ["public-docs", "orders", "files"]
    assert acme["routes"][2]["live"] == "stale" and "helm upgrade" in acme["routes"][2]["fix"]
    assert acme["keycloak"]["mapper"]["matches_guide"] is True
    assert acme["keycloak"]["customer_user"]["enabled"] is True
    globex = report["tenants"][0]
    assert [route["state"] for route in globex["routes"]] == ["failed", "secured"]
    assert "audience mapper" in globex["routes"][0]["fix"]
    initech = report["tenants"][1]
    assert initech["status"] == "failed" and initech["routes"] == []
    assert initech["error"].startswith("Audience mapper: Keycloak at http://kc.initech.invalid/auth refused")
    assert "--limit initech" in initech["fix"]
    assert report["report"]["collection_version"] == model.COLLECTION_VERSION


def test_a_tenant_without_results_is_failed():
    report = model.build([{"name": "lost", "groups": ["keycloak_admin", "apisix_gateway"], "keycloak_realm": "lost"}])
    (tenant,) = report["tenants"]
    assert tenant["status"] == "failed" and tenant["error"] == model.NO_RESULT


def test_a_host_marked_failed_without_error_says_so():
    host_list = hosts()
    host_list[0]["failed"] = True
    report = model.build(host_list)
    acme = [tenant for tenant in report["tenants"] if tenant["name"] == "acme"][0]
    assert acme["status"] == "failed" and acme["error"] == model.NO_RESULT


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda kc: kc["user"]["user"].update(enabled=False), "is disabled"),
        (lambda kc: kc["user"]["user"].update(email_verified=False), "no verified e-mail"),
        (lambda kc: kc["user"]["user"].update(realm_roles=["customer"]), "lacks role(s) offline_access"),
        (lambda kc: kc["mapper"]["mapper"]["config"].update({"included.client.audience": "other"}), "differs"),
        (lambda kc: kc["mapper"].update(mapper=None), "mapper fix-audience is missing"),
    ],
    ids=["user-disabled", "email-unverified", "role-missing", "mapper-audience", "mapper-missing"],
)
def test_keycloak_facts_against_the_guide(change, problem):
    host_list = hosts()
    host_list[0]["mapper_name"] = "fix-audience"
    change(host_list[0]["keycloak"])
    acme = [tenant for tenant in model.build(host_list)["tenants"] if tenant["name"] == "acme"][0]
    assert acme["status"] == "failed"
    assert any(problem in text for text in acme["keycloak_problems"]), acme["keycloak_problems"]


def test_gateway_host_of_its_own_belongs_to_the_tenant_of_its_realm():
    host_list = [
        {"name": "acme-kc", "groups": ["keycloak_admin"], "keycloak_realm": "acme", "keycloak": hosts()[0]["keycloak"]},
        {"name": "acme-gw", "groups": ["apisix_gateway"], "gateway_realm": "acme", "verify": hosts()[0]["verify"]},
    ]
    (tenant,) = model.build(host_list)["tenants"]
    assert tenant["name"] == "acme-kc" and tenant["hosts"] == ["acme-kc", "acme-gw"] and len(tenant["routes"]) == 3


def test_a_host_given_twice_is_listed_once_with_its_last_facts():
    """A second report play in the same run (site's, then verify's) gathered every host again."""
    earlier, later = hosts()[:3], hosts()[:3]
    for host in earlier:
        host.update(verify=None, keycloak=None, error="an earlier report's fact")
    report = model.build(earlier + later)
    assert {tenant["name"]: tenant["hosts"] for tenant in report["tenants"]} == {
        "acme": ["acme"],
        "globex": ["globex"],
        "initech": ["initech"],
    }
    assert model.build(later)["tenants"] == report["tenants"]
    two_hosts = [
        {"name": "acme-kc", "groups": ["keycloak_admin"], "keycloak_realm": "acme", "keycloak": hosts()[0]["keycloak"]},
        {"name": "acme-gw", "groups": ["apisix_gateway"], "gateway_realm": "acme", "verify": hosts()[0]["verify"]},
    ]
    (tenant,) = model.build(two_hosts + two_hosts)["tenants"]
    assert tenant["hosts"] == ["acme-kc", "acme-gw"]
    markdown = render.render_markdown(model.build(two_hosts + two_hosts)).decode()
    assert "host(s) acme-kc, acme-gw." in markdown


def test_each_route_s_uris_and_hosts_from_the_check_reach_every_file():
    """The check's per-route ``uris``/``hosts`` (apisix_oidc_check) in report.json, .md, .xml and .html."""
    host_list = hosts()
    orders, public, files = host_list[0]["verify"]["routes"]
    orders.update(uris=["/orders/*", "/orders"], hosts=["api.acme.invalid"])
    public.update(uris=["/docs/*"], hosts=[])
    files.update(uris=[], hosts=[])
    report = model.build(host_list)
    acme = [tenant for tenant in report["tenants"] if tenant["name"] == "acme"][0]
    places = {route["id"]: (route["uri"], route["hosts"]) for route in acme["routes"]}
    assert places == {
        "orders": ("/orders/*, /orders", ["api.acme.invalid"]),
        "public-docs": ("/docs/*", []),
        "files": (None, []),
    }
    files_ = render.render_all(report)
    assert json.loads(files_["report.json"]) == report
    assert "| orders | secured | live | /orders/*, /orders api.acme.invalid |" in files_["report.md"].decode()
    assert "| public-docs | open | - | /docs/* |" in files_["report.md"].decode()
    root = ET.fromstring(files_["report.xml"])
    out = {
        case.get("name"): case.find("system-out").text
        for suite in root.findall("testsuite")
        if suite.get("name") == "acme"
        for case in suite.findall("testcase")
        if case.find("system-out") is not None
    }
    assert "uri /orders/*, /orders, hosts api.acme.invalid" in out["route orders"]
    assert "uri /docs/*, hosts -" in out["route public-docs"]
    assert "<td>/orders/*, /orders api.acme.invalid</td>" in files_["report.html"].decode()


def test_json():
    report = _report()
    assert json.loads(render.render_json(report)) == report


def test_junit():
    root = ET.fromstring(render.render_junit(_report()))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "2", "1")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["globex", "initech", "acme"]
    cases = {case.get("name"): case for case in suites["globex"].findall("testcase")}
    assert list(cases) == ["tenant globex", "route billing", "route orders"]
    assert "aud of the token lacks" in cases["route billing"].find("failure").get("message")
    assert cases["route orders"].find("failure") is None
    assert suites["initech"].find("testcase").find("failure") is not None
    acme = {case.get("name"): case for case in suites["acme"].findall("testcase")}
    assert acme["route public-docs"].find("skipped") is not None
    assert suites["acme"].get("tests") == "4" and suites["acme"].get("failures") == "0"


def test_junit_holds_control_characters():
    host_list = hosts()
    host_list[1]["verify"]["routes"][1]["reason"] = "bad \x00\x1b byte <&>"
    ET.fromstring(render.render_junit(model.build(host_list)))


def test_markdown():
    text = render.render_markdown(_report(playbook="verify")).decode()
    lines = text.splitlines()
    assert lines[0] == "# API authentication report"
    assert lines[2].startswith(
        "Generated 2026-12-05T07:00:00Z by cx.api_auth %s (playbook verify). 3 tenant(s), 2 failed"
        % (model.COLLECTION_VERSION)
    )
    summary = [line for line in lines if line.startswith("- ")]
    assert summary[:3] == [
        "- **FAILED** globex (realm globex): 1 route(s) secured, 0 open, 1 failed",
        "- **FAILED** initech (realm initech): 0 route(s) secured, 0 open, 0 failed; FAILED: Audience mapper: Keycloak at "
        "http://kc.initech.invalid/auth refused the admin login",
        "- ok acme (realm acme): 2 route(s) secured, 1 open, 0 failed",
    ]
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| Route")]
    assert rows[0].startswith("| billing | failed | - | - | aud of the token lacks client 'cim' \\| pipe |")
    assert [row.split(" | ")[0] for row in rows] == ["| billing", "| orders", "| public-docs", "| orders", "| files"]
    assert "**Error:** Audience mapper" in text and "**Fix:**" in text
    assert "- Keycloak: audience mapper fix-audience (audience cim): present, as the guide says" in lines


def test_html_is_self_contained_and_escaped():
    host_list = hosts()
    host_list[1]["verify"]["routes"][1]["reason"] = "<script>alert(1)</script>"
    page = render.render_html(model.build(host_list)).decode()
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", page)
    assert page.count('<tr class="failed"') == 1 and page.count('<tr class="open"') == 1
    assert page.count('<tr class="secured"') == 3
    assert page.index('data-tenant="globex"') < page.index('data-tenant="acme"')


_FIELDS = [
    ("name", lambda h, s: h[0].update(name=s)),
    ("realm", lambda h, s: h[0].update(keycloak_realm=s)),
    ("keycloak_url", lambda h, s: h[0].update(keycloak_url="http://kc/%s/auth" % s)),
    ("versions", lambda h, s: h[0].update(keycloak_version=s, apisix_version=s)),
    ("route_id", lambda h, s: h[0]["verify"]["routes"][0].update(route=s)),
    ("reason", lambda h, s: h[1]["verify"]["routes"][1].update(reason="bad secret %s found" % s)),
    ("uri", lambda h, s: h[0]["verify"]["routes"][0].update(uri="/x/%s" % s, hosts=[s])),
    ("error", lambda h, s: h[2].update(error="login with %s refused" % s)),
    ("error_dict", lambda h, s: h[2].update(error={"msg": s, "task": s})),
    ("mapper", lambda h, s: h[0]["keycloak"]["mapper"]["mapper"].update(name=s)),
    ("user", lambda h, s: h[0]["keycloak"]["user"]["user"].update(username=s, realm_roles=[s])),
    ("live", lambda h, s: h[0]["live"]["routes"][1].update(live=s, differs=[s])),
    ("verify_msg", lambda h, s: h[1].update(verify={"failed": True, "msg": "password %s wrong" % s})),
    ("started_at", None),
]


@pytest.mark.parametrize("field, put", _FIELDS, ids=[item[0] for item in _FIELDS])
def test_a_secret_in_any_field_never_reaches_a_file_or_the_result(tmp_path, field, put):
    host_list = hosts()
    params = {}
    if put is None:
        params[field] = SECRET
    else:
        put(host_list, SECRET)
    result = _run(tmp_path, host_list, secrets=[SECRET, "other"], **params)
    files = sorted((tmp_path / "out").iterdir())
    assert [path.name for path in files] == sorted(render.FILES)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path.name
    assert SECRET not in json.dumps(result)
    assert "********" in (tmp_path / "out" / "report.json").read_text()


def test_url_credentials_are_masked_without_being_named(tmp_path):
    host_list = hosts()
    host_list[0]["keycloak_url"] = "https://admin:Pa55-word@kc.acme.invalid/auth"
    host_list[2]["error"] = "GET https://tok3n-abc@kc.invalid/x failed"
    result = _run(tmp_path, host_list)
    for path in (tmp_path / "out").iterdir():
        text = path.read_text()
        assert "Pa55-word" not in text and "tok3n-abc" not in text
    assert "Pa55-word" not in json.dumps(result)


def test_check_mode_writes_nothing(tmp_path):
    result = _run(tmp_path, check=True)
    assert not (tmp_path / "out").exists()
    assert result["msg"].startswith("Would write the report of 3 tenant(s) (2 failed)")
    assert result["files"]["report.md"] == str(tmp_path / "out" / "report.md")


def test_result_and_previous_report(tmp_path):
    first = _run(tmp_path)
    assert first["changed"] and first["dest"] == str(tmp_path / "out")
    assert first["msg"] == (
        "Wrote the report of 3 tenant(s) (2 failed): 3 route(s) secured, 1 open, 1 failed to %s "
        "(report.json, report.md, report.xml, report.html)" % (tmp_path / "out")
    )
    assert first["tenants"][0] == "globex (realm globex): 1 route(s) secured, 0 open, 1 failed"
    old = {name: (tmp_path / "out" / name).read_bytes() for name in render.FILES}
    _run(tmp_path, hosts()[:1])
    for name in render.FILES:
        assert (tmp_path / "out" / (name + ".prev")).read_bytes() == old[name]
        assert (tmp_path / "out" / name).read_bytes() != old[name]
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        list(render.FILES) + [name + ".prev" for name in render.FILES]
    )


def test_keep_previous_false(tmp_path):
    _run(tmp_path)
    _run(tmp_path, keep_previous=False)
    assert sorted(os.listdir(tmp_path / "out")) == sorted(render.FILES)


def test_relative_dest_is_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.run({"dest": "cx-api-auth-report", "hosts": hosts()}, False, False, [].append)
    assert (
        result["dest"] == str(tmp_path / "cx-api-auth-report")
        and (tmp_path / "cx-api-auth-report/report.html").is_file()
    )


@pytest.mark.parametrize("failing", [1, 2, 3, 4])
def test_an_interrupted_write_leaves_the_previous_report_intact(tmp_path, failing):
    directory = tmp_path / "out"
    _run(tmp_path)
    _run(tmp_path, hosts()[:2])
    before = {name: path.read_bytes() for name, path in ((p.name, p) for p in directory.iterdir())}
    calls = []

    def stage(path, data):
        calls.append(path)
        if len(calls) == failing:
            raise ModuleError("cannot write %s: No space left on device (ENOSPC)" % path)
        return stage_file(path, data)

    files = render.render_all(model.build(hosts()[:1]))
    with pytest.raises(ModuleError, match="is as it was"):
        store.replace_set(str(directory), files, stage=stage)
    after = {name: path.read_bytes() for name, path in ((p.name, p) for p in directory.iterdir())}
    assert after == before  # same files (no temporary left), same bytes, .prev included
    # and the set is consistent: all four files of the same run
    stamps = {json.loads(before["report.json"])["report"]["generated_at"]}
    assert len(stamps) == 1


def test_dest_that_is_a_file(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(ModuleError, match="exists and is not a directory"):
        _run(tmp_path)


def test_collection_version_is_galaxy_yml_s():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert model.COLLECTION_VERSION == galaxy["version"]


def test_site_run_routes_from_the_apply_result():
    """Without a check (site.yml): a written block is secured (not verified), any other state is open."""
    host = {
        "name": "acme",
        "groups": ["keycloak_admin", "apisix_gateway"],
        "keycloak_realm": "acme",
        "apply": {
            "changed": True,
            "routes": [
                {"id": "orders", "before": "absent", "after": "present", "uri": "/orders/*", "hosts": ["api.acme"]},
                {"id": "docs", "before": "present", "after": "disabled"},
            ],
        },
    }
    (tenant,) = model.build([host])["tenants"]
    assert [(route["id"], route["state"]) for route in tenant["routes"]] == [("docs", "open"), ("orders", "secured")]
    assert "run verify" in tenant["routes"][1]["reason"]
    assert tenant["routes"][1]["uri"] == "/orders/*" and tenant["routes"][1]["hosts"] == ["api.acme"]
    assert tenant["status"] == "ok"


def test_a_failed_apply_or_check_is_the_tenant_s_error():
    host = {"name": "acme", "groups": ["apisix_gateway"], "verify": {"failed": True, "msg": "cannot read /x.yaml"}}
    (tenant,) = model.build([host])["tenants"]
    assert tenant["status"] == "failed" and tenant["error"] == "verify: cannot read /x.yaml"


def _readme_excerpt():
    """The lines of README.md's excerpt of report.md (the markdown block after the report-excerpt marker)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    (start,) = [index for index, line in enumerate(lines) if line.startswith("<!-- report-excerpt:")]
    assert lines[start + 1] == "```markdown"
    end = lines.index("```", start + 2)
    return lines[start + 2 : end]


def test_the_readme_s_excerpt_is_what_the_report_renders():
    """Every line of README.md's excerpt of report.md is a line of a report rendered from a run like it
    ("..." stands for the rest of a cell), and the README says where the files go and what a rerun keeps."""

    def routes(*items):
        return [
            {"route": rid, "status": status, "reason": reason, "client_id": "cim", "uris": [uri], "hosts": [host]}
            for rid, status, reason, uri, host in items
        ]

    ok = "token of 'customer' active at introspection with client 'cim', scope openid email profile, RS256, aud has 'cim'"
    refused = (
        "Keycloak refused client 'cim' with the route's client_secret (HTTP 401, unauthorized_client: Invalid client "
        "or Invalid client credentials): the route holds a wrong or stale secret"
    )
    common = {
        "groups": ["keycloak_admin", "apisix_gateway"],
        "keycloak_url": "https://sso.example.com/auth",
        "keycloak_version": "26.7.3",
        "apisix_version": "3.11",
        "client_id": "cim",
    }
    host_list = [
        dict(
            common,
            name="acme",
            keycloak_realm="acme",
            verify={
                "routes": routes(
                    ("orders-main-secured", "ok", ok, "/orders/*", "cx.example.com"),
                    ("files-main", "ok", ok, "/files/*", "cx.example.com"),
                )
            },
        ),
        dict(
            common,
            name="globex",
            keycloak_realm="globex",
            verify={
                "failed": True,
                "failed_routes": ["files-main"],
                "routes": routes(
                    ("orders-main-secured", "ok", ok, "/orders/*", "cx.example.com"),
                    ("files-main", "failed", refused, "/files/*", "cx.example.com"),
                ),
            },
        ),
    ]
    rendered = render.render_markdown(model.build(host_list)).decode().splitlines()
    excerpt = _readme_excerpt()
    assert len([line for line in excerpt if line.startswith("| ")]) == 3
    for line in excerpt:
        pieces = [piece.strip() for piece in line.split("...")]
        assert any(all(piece in candidate for piece in pieces) for candidate in rendered), line
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for said in (
        "`cx_api_auth_report_dir` (inventory or `-e`), else `$CX_API_AUTH_REPORT_DIR`, else `./cx-api-auth-report/`",
        "`report.json.prev`, `report.md.prev`, `report.xml.prev` and `report.html.prev`",
        "`cx_api_auth_report_keep_previous: false` keeps none",
    ):
        assert said in text, said


@pytest.mark.parametrize(
    "reason",
    [
        "openid-connect is commented out: no authentication",
        "the route has no openid-connect plugin: no authentication",
        "openid-connect is switched off (_meta.disable: true): no authentication",
    ],
)
def test_an_open_route_that_verify_requires_secured_gets_the_fix_of_an_open_route(reason):
    """'connect' in 'openid-connect' once sent these to the discovery URL fix."""
    fix = model.failed_route_fix(reason)
    assert "must be secured" in fix and "apisix_api_auth_routes" in fix
    assert "discovery" not in fix

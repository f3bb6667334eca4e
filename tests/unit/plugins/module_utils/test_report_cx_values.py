# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's CX values part (issue 22): the places of the tenant's CX values files, the published-default
warning and the customer widget's token request, in report.json/.md/.xml/.html, never a value."""

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._report import model, render

from .report_data import hosts

SECRET = "Cim-s3cret-of-the-run-77"
PASSWORD_PATH = "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value"


def _place(path, status, role="cim_secret", line=10, **extra):
    place = dict(
        file="/srv/cx/ef-cx-values.yaml",
        path=path,
        line=line,
        role=role,
        component="web-channel-manager",
        source="issue 22",
        status=status,
        note=None,
    )
    place.update(extra)
    return place


def _check(published=False):
    return {
        "changed": False,
        "msg": "3 places in 1 values files",
        "published_default": published,
        "places": [
            _place(PASSWORD_PATH, "differs", role="customer_password", line=43),
            _place("efConnectionVars.KEYCLOAK_CREDENTIALS{secret}", "same", line=11),
            _place("qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value", "unknown", role="unknown", line=9),
        ],
        "invocation": {"module_args": {"cim_secret": SECRET}},
    }


def _report(cx_values, secrets=(SECRET,)):
    host_list = hosts()
    host_list[0]["cx_values"] = cx_values
    return model.build(host_list, secrets=secrets, now="2026-12-05T07:00:00Z")


def _acme(report):
    return next(tenant for tenant in report["tenants"] if tenant["name"] == "acme")


def test_the_places_and_the_warnings_of_a_tenant():
    report = _report({"check": _check(published=True), "login": {"accepted": True, "msg": "token given"}})
    tenant = _acme(report)
    facts = tenant["cx_values"]
    assert facts["counts"] == {"same": 1, "differs": 1, "not found": 0, "unknown": 1}
    assert facts["published_default"] is True
    assert [place["line"] for place in facts["places"]] == [43, 11, 9]
    assert tenant["warnings"][0].startswith(
        "the cim secret of realm acme is the default the CX charts and docs publish"
    )
    assert PASSWORD_PATH in tenant["warnings"][1] and "line 43" in tenant["warnings"][1]
    assert "WARNING: the cim secret of realm acme" in model.summary_line(tenant)
    assert SECRET not in json.dumps(report)  # the invocation is never read


@pytest.mark.parametrize("name", render.FILES)
def test_every_file_carries_the_places_and_the_published_default_warning(name):
    report = _report({"check": _check(published=True), "login": {"accepted": False, "msg": "refused: %s" % SECRET}})
    text = render.render_all(report)[name].decode("utf-8")
    assert "is the default the CX charts and docs publish" in text
    assert PASSWORD_PATH in text
    assert "refused: ********" in text or "refused: " in text
    assert SECRET not in text


def test_junit_has_a_failing_cx_values_case_only_with_a_warning():
    xml = ET.fromstring(render.render_junit(_report({"check": _check(published=True)})))
    case = xml.find(".//testcase[@name='cx values acme']")
    assert case is not None and case.find("failure") is not None
    quiet = _check()
    quiet["places"] = [place for place in quiet["places"] if place["status"] != "differs"]
    xml = ET.fromstring(render.render_junit(_report({"check": quiet})))
    case = xml.find(".//testcase[@name='cx values acme']")
    assert case is not None and case.find("failure") is None


def test_after_a_rewrite_the_places_show_their_state_and_generation():
    sync = {
        "changed": True,
        "msg": "2 places rewritten in 1 file",
        "places": [
            _place(PASSWORD_PATH, "differs", role="customer_password", after="same", generation=None),
            _place("efConnectionVars.KEYCLOAK_CREDENTIALS{secret}", "differs", after="same", generation="new"),
        ],
    }
    tenant = _acme(_report({"check": _check(), "sync": sync}))
    assert [(place["status"], place["generation"]) for place in tenant["cx_values"]["places"]] == [
        ("same", None),
        ("same", "new"),
    ]
    assert tenant["warnings"] == []
    assert "kept in step: 2 places rewritten in 1 file" in render.render_markdown(_report({"sync": sync})).decode()


def test_a_tenant_without_cx_values_has_none():
    tenant = _acme(model.build(hosts(), now="2026-12-05T07:00:00Z"))
    assert tenant["cx_values"] is None and tenant["warnings"] == []
    assert "CX values" not in render.render_markdown(model.build(hosts())).decode()

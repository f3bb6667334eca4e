# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report (built and masked by ``model``) as ``report.json``, ``report.md``, ``report.xml`` (JUnit) and
``report.html`` (one self-contained page: inline style, no script, no external asset)."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._report import model

if TYPE_CHECKING:  # names for annotations only (never evaluated at run time: the modules' Python floor)
    Data = dict[str, Any]

FILES = ("report.json", "report.md", "report.xml", "report.html")

# characters XML 1.0 cannot hold (a reason copied from a server answer may carry them)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_json(report: Data) -> bytes:
    return (json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _cell(value: object) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _versions(report: Data, tenant: Data | None = None) -> str:
    meta = report["report"]
    parts = ["%s %s" % (meta["collection"], meta["collection_version"])]
    if tenant is None and meta.get("playbook"):
        parts[0] += " (playbook %s)" % meta["playbook"]
    if tenant is not None:
        parts.append("Keycloak %s" % (tenant["keycloak_version"] or "unknown"))
        parts.append("APISIX %s" % (tenant["apisix_version"] or "unknown"))
    return ", ".join(parts)


def _keycloak_lines(tenant: Data) -> list[str]:
    facts = tenant["keycloak"] or {}
    lines = []
    mapper = facts.get("mapper")
    if mapper:
        if not mapper["present"]:
            state = "missing"
        elif mapper["matches_guide"]:
            state = "present, as the guide says"
        else:
            state = "present, differs from the guide (%s)" % ", ".join(mapper["differs"])
        lines.append("audience mapper %s (audience %s): %s" % (mapper["name"] or "-", mapper["audience"] or "-", state))
    user = facts.get("customer_user")
    if user:
        if not user["present"]:
            lines.append("customer user %s: missing" % (user["username"] or "-"))
        else:
            lines.append(
                "customer user %s: %s, e-mail %s, roles %s%s"
                % (
                    user["username"],
                    "enabled" if user["enabled"] else "DISABLED" if user["enabled"] is False else "enabled unknown",
                    "verified"
                    if user["email_verified"]
                    else "NOT verified"
                    if user["email_verified"] is False
                    else "unknown",
                    ", ".join(user["roles"]) or "none",
                    " (missing: %s)" % ", ".join(user["missing_roles"]) if user["missing_roles"] else "",
                )
            )
    return lines


_CX_COLUMNS = ("File", "Key path", "Line", "Role", "Component", "State", "Generation", "Note")


def _cx_values_line(tenant: Data) -> str | None:
    """The tenant's CX values files in one line (None without them)."""
    facts = tenant.get("cx_values")
    if not facts:
        return None
    counts = facts["counts"]
    line = "%d place(s) same, %d differ, %d not found, %d of unknown role" % (
        counts["same"],
        counts["differs"],
        counts["not found"],
        counts["unknown"],
    )
    if facts["rewritten"]:
        line += "; kept in step: %s" % facts["rewritten"]
    if facts["login"]:
        line += "; %s" % (facts["login"]["msg"] or ("token given" if facts["login"]["accepted"] else "refused"))
    return line


def _cx_values_rows(tenant: Data) -> list[tuple[Any, ...]]:
    """One tuple of cells per place of the tenant's CX values files (never a value: the model has none)."""
    facts = tenant.get("cx_values") or {}
    return [
        (
            place["file"],
            place["path"],
            place["line"],
            place["role"],
            place["component"],
            place["status"],
            place.get("generation"),
            place["note"],
        )
        for place in facts.get("places", [])
    ]


def _cx_values_markdown(tenant: Data) -> list[str]:
    line = _cx_values_line(tenant)
    if line is None:
        return []
    out = ["- CX values: %s" % _cell(line)]
    out.extend("- **Warning:** %s" % _cell(warning) for warning in tenant.get("warnings", []))
    out.extend(["", "| %s |" % " | ".join(_CX_COLUMNS), "|%s" % ("---|" * len(_CX_COLUMNS))])
    out.extend("| %s |" % " | ".join(_cell(value) for value in row) for row in _cx_values_rows(tenant))
    out.append("")
    return out


def _cx_values_html(tenant: Data) -> list[str]:
    line = _cx_values_line(tenant)
    if line is None:
        return []
    out = ['<div class="cx-values"><p>CX values: %s</p>' % _h(line)]
    out.extend(
        '<div class="warning"><strong>Warning:</strong> %s</div>' % _h(item) for item in tenant.get("warnings", [])
    )
    out.append(
        '<table class="cx-values"><thead><tr>%s</tr></thead><tbody>'
        % "".join("<th>%s</th>" % _h(c) for c in _CX_COLUMNS)
    )
    for row in _cx_values_rows(tenant):
        out.append(
            '<tr class="cx-%s">%s</tr>' % (_h(row[5]).replace(" ", "-"), "".join("<td>%s</td>" % _h(v) for v in row))
        )
    out.append("</tbody></table></div>")
    return out


def _cx_values_case(tenant: Data) -> ET.Element | None:
    """The JUnit test case of the tenant's CX values files (None without them): failed on a warning."""
    line = _cx_values_line(tenant)
    if line is None:
        return None
    case = ET.Element("testcase", classname=_xml_text(tenant["name"]), name="cx values %s" % _xml_text(tenant["name"]))
    if tenant.get("warnings"):
        text = "; ".join(tenant["warnings"])
        failure = ET.SubElement(case, "failure", message=_xml_text(text), type="cx values")
        failure.text = _xml_text(text)
    out = ET.SubElement(case, "system-out")
    out.text = _xml_text(
        "\n".join([line] + ["%s %s line %s: %s" % (row[0], row[1], row[2], row[5]) for row in _cx_values_rows(tenant)])
    )
    return case


def render_markdown(report: Data) -> bytes:
    meta, summary = report["report"], report["summary"]
    out = ["# API authentication report", ""]
    out.append(
        "Generated %s by %s%s. %d tenant(s), %d failed; routes: %d secured, %d open, %d failed."
        % (
            meta["generated_at"],
            _versions(report),
            " (run started %s)" % meta["started_at"] if meta["started_at"] else "",
            summary["tenants"],
            summary["tenants_failed"],
            summary["routes"][model.SECURED],
            summary["routes"][model.OPEN],
            summary["routes"][model.FAILED],
        )
    )
    out.append("")
    out.append("## Summary")
    out.append("")
    for tenant in report["tenants"]:
        out.append(
            "- %s %s" % ("**FAILED**" if tenant["status"] == model.FAILED else "ok", _cell(model.summary_line(tenant)))
        )
    for tenant in report["tenants"]:
        out.extend(["", "## %s" % _cell(tenant["name"]), ""])
        out.append(
            "Realm `%s` at %s; %s; host(s) %s."
            % (_cell(tenant["realm"]), _cell(tenant["keycloak_url"]), _versions(report, tenant), _cell(tenant["hosts"]))
        )
        out.append("")
        if tenant["error"]:
            out.append("**Error:** %s  " % _cell(tenant["error"]))
            out.append("**Fix:** %s" % _cell(tenant["fix"]))
            out.append("")
        for line in _keycloak_lines(tenant):
            out.append("- Keycloak: %s" % _cell(line))
        if tenant["keycloak"]:
            out.append("")
        out.extend(_cx_values_markdown(tenant))
        if tenant["routes"]:
            out.append("| Route | State | Live | URI / hosts | Reason | Fix |")
            out.append("|---|---|---|---|---|---|")
            for route in tenant["routes"]:
                where = " ".join(part for part in (route["uri"] or "", ", ".join(route["hosts"])) if part)
                out.append(
                    "| %s | %s | %s | %s | %s | %s |"
                    % tuple(
                        _cell(value)
                        for value in (route["id"], route["state"], route["live"], where, route["reason"], route["fix"])
                    )
                )
        else:
            out.append("No route was checked.")
    return ("\n".join(out) + "\n").encode("utf-8")


def _xml_text(value: object) -> str:
    return _XML_INVALID.sub("?", "" if value is None else str(value))


def render_junit(report: Data) -> bytes:
    summary = report["summary"]
    root = ET.Element("testsuites", name="cx.api_auth report", timestamp=_xml_text(report["report"]["generated_at"]))
    total = failures = skipped = 0
    for tenant in report["tenants"]:
        suite = ET.SubElement(root, "testsuite", name=_xml_text(tenant["name"]))
        props = ET.SubElement(suite, "properties")
        for key in ("realm", "keycloak_url", "keycloak_version", "apisix_version"):
            ET.SubElement(props, "property", name=key, value=_xml_text(tenant[key] or ""))
        cases = []
        case = ET.Element(
            "testcase", classname=_xml_text("%s" % tenant["name"]), name="tenant %s" % _xml_text(tenant["name"])
        )
        problems = ([tenant["error"]] if tenant["error"] else []) + tenant["keycloak_problems"]
        if problems:
            failure = ET.SubElement(case, "failure", message=_xml_text("; ".join(problems)), type="tenant")
            failure.text = _xml_text("; ".join(problems) + ("\nfix: %s" % tenant["fix"] if tenant["fix"] else ""))
        cases.append(case)
        cx_case = _cx_values_case(tenant)
        if cx_case is not None:
            cases.append(cx_case)
        for route in tenant["routes"]:
            case = ET.Element("testcase", classname=_xml_text(tenant["name"]), name="route %s" % _xml_text(route["id"]))
            if route["state"] == model.FAILED:
                failure = ET.SubElement(case, "failure", message=_xml_text(route["reason"] or "failed"), type="route")
                failure.text = _xml_text("%s\nfix: %s" % (route["reason"] or "failed", route["fix"]))
            elif route["state"] == model.OPEN:
                ET.SubElement(case, "skipped", message=_xml_text("open: %s" % (route["reason"] or "no authentication")))
            out = ET.SubElement(case, "system-out")
            out.text = _xml_text(
                "state %s, live %s, uri %s, hosts %s: %s"
                % (
                    route["state"],
                    route["live"] or "-",
                    route["uri"] or "-",
                    ", ".join(route["hosts"]) or "-",
                    route["reason"] or "",
                )
            )
            cases.append(case)
        suite_failures = sum(1 for item in cases if item.find("failure") is not None)
        suite_skipped = sum(1 for item in cases if item.find("skipped") is not None)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", str(suite_skipped))
        suite.extend(cases)
        total += len(cases)
        failures += suite_failures
        skipped += suite_skipped
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    del summary
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d2430;background:#fff}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em}
p.meta{color:#555;margin-top:0}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #c9ced6;padding:.35em .6em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#eef1f5}
.state{font-weight:600;white-space:nowrap}
tr.secured td.state,span.secured{background:#d6f5d6;color:#135e13}
tr.open td.state,span.open{background:#fff2c2;color:#6b5200}
tr.failed td.state,span.failed{background:#ffd6d6;color:#8a1010}
tr.tenant-failed td{background:#fff0f0}
span.badge{padding:.1em .5em;border-radius:.6em;font-weight:600}
div.error{border-left:4px solid #c62828;background:#fff0f0;padding:.5em .8em;margin:.5em 0}
ul.keycloak{margin:.3em 0}
div.warning{border-left:4px solid #b26a00;background:#fff6e0;padding:.5em .8em;margin:.5em 0}
""".strip()


def _h(value: object) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    return html.escape(str(value), quote=True)


def render_html(report: Data) -> bytes:
    meta, summary = report["report"], report["summary"]
    routes = summary["routes"]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>API authentication report</title>",
        "<style>%s</style></head><body>" % _STYLE,
        "<h1>API authentication report</h1>",
        '<p class="meta">Generated %s by %s%s</p>'
        % (
            _h(meta["generated_at"]),
            _h(_versions(report)),
            " (run started %s)" % _h(meta["started_at"]) if meta["started_at"] else "",
        ),
        '<p id="totals">%d tenant(s), %d failed; routes: <span class="badge secured">%d secured</span> '
        '<span class="badge open">%d open</span> <span class="badge failed">%d failed</span></p>'
        % (
            summary["tenants"],
            summary["tenants_failed"],
            routes[model.SECURED],
            routes[model.OPEN],
            routes[model.FAILED],
        ),
        '<h2>Summary</h2><table id="summary"><thead><tr><th>Tenant</th><th>Realm</th><th>Keycloak</th>'
        "<th>Secured</th><th>Open</th><th>Failed</th><th>Status</th></tr></thead><tbody>",
    ]
    for tenant in report["tenants"]:
        counts = tenant["counts"]
        out.append(
            '<tr class="tenant-%s" data-tenant="%s"><td><a href="#tenant-%s">%s</a></td><td>%s</td><td>%s</td>'
            '<td>%d</td><td>%d</td><td>%d</td><td class="state">%s</td></tr>'
            % (
                "failed" if tenant["status"] == model.FAILED else "ok",
                _h(tenant["name"]),
                _h(tenant["name"]),
                _h(tenant["name"]),
                _h(tenant["realm"]),
                _h(tenant["keycloak_url"]),
                counts[model.SECURED],
                counts[model.OPEN],
                counts[model.FAILED],
                "FAILED" if tenant["status"] == model.FAILED else "ok",
            )
        )
    out.append("</tbody></table>")
    for tenant in report["tenants"]:
        out.append(
            '<section class="tenant" id="tenant-%s" data-tenant="%s">' % (_h(tenant["name"]), _h(tenant["name"]))
        )
        out.append("<h2>%s</h2>" % _h(tenant["name"]))
        out.append(
            '<p class="meta">Realm <code>%s</code> at %s; %s; host(s) %s</p>'
            % (_h(tenant["realm"]), _h(tenant["keycloak_url"]), _h(_versions(report, tenant)), _h(tenant["hosts"]))
        )
        if tenant["error"]:
            out.append(
                '<div class="error"><strong>Error:</strong> %s<br><strong>Fix:</strong> %s</div>'
                % (_h(tenant["error"]), _h(tenant["fix"]))
            )
        lines = _keycloak_lines(tenant)
        if lines:
            out.append('<ul class="keycloak">%s</ul>' % "".join("<li>Keycloak: %s</li>" % _h(line) for line in lines))
        out.extend(_cx_values_html(tenant))
        if tenant["routes"]:
            out.append(
                "<table><thead><tr><th>Route</th><th>State</th><th>Live</th><th>URI / hosts</th><th>Reason</th>"
                "<th>Fix</th></tr></thead><tbody>"
            )
            for route in tenant["routes"]:
                where = " ".join(part for part in (route["uri"] or "", ", ".join(route["hosts"])) if part)
                out.append(
                    '<tr class="%s" data-route="%s"><td>%s</td><td class="state">%s</td><td>%s</td><td>%s</td>'
                    "<td>%s</td><td>%s</td></tr>"
                    % (
                        _h(route["state"]),
                        _h(route["id"]),
                        _h(route["id"]),
                        _h(route["state"]),
                        _h(route["live"]),
                        _h(where),
                        _h(route["reason"]),
                        _h(route["fix"]),
                    )
                )
            out.append("</tbody></table>")
        else:
            out.append("<p>No route was checked.</p>")
        out.append("</section>")
    out.append("</body></html>")
    return ("\n".join(out) + "\n").encode("utf-8")


def render_all(report: Data) -> dict[str, bytes]:
    """``{file name: bytes}`` of the four files."""
    return {
        "report.json": render_json(report),
        "report.md": render_markdown(report),
        "report.xml": render_junit(report),
        "report.html": render_html(report),
    }

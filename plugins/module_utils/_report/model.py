# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's content: tenants, their routes and Keycloak facts, built from what the plays registered.

Input: one dict per inventory host (what ``playbooks/report.yml`` gathers from ``hostvars``, see the module's
documentation of ``hosts``). Only the keys named here are read: whatever else a registered result holds
(``invocation``, configs) never reaches the report. Every string of the model is then passed through the
masking unit (the run's secrets and the credentials of every URL), so the renderers only see masked text.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils import _masking

if TYPE_CHECKING:  # names for annotations only (never evaluated at run time: the modules' Python floor)
    Data = dict[str, Any]

# The collection's version; a unit test holds it equal to galaxy.yml's (a module cannot read galaxy.yml:
# it runs from a zip that holds only the plugins).
COLLECTION = "cx.api_auth"
COLLECTION_VERSION = "0.1.0"
FORMAT_VERSION = 1

SECURED, OPEN, FAILED = "secured", "open", "failed"
STATES = (FAILED, OPEN, SECURED)  # the order of the tables: failures first
_CHECK_STATES = {"ok": SECURED, "open": OPEN, "failed": FAILED}
_RANK = {FAILED: 0, OPEN: 1, SECURED: 2}

NO_RESULT = (
    "no result: the run stopped for this tenant before its steps ended (a failed task or an unreachable host; "
    "see the run's recap)"
)
_TENANT_FIX = "fix the error above, then run the playbook again for this tenant (--limit %s)"
_OPEN_FIX = (
    "if the route must be secured: select it in apisix_api_auth_routes and run site.yml; a public route may stay open"
)

# The guide's audience mapper: these settings (the audience is the gateway's client).
_GUIDE_MAPPER = "oidc-audience-mapper"


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _dict(value: object) -> Data:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def failed_route_fix(reason: str | None) -> str:
    """What to do about a route that failed the check, from its reason."""
    text = (reason or "").lower()
    if text.endswith("no authentication"):  # open, and this run's verify requires it secured
        return (
            "the route must be secured (apisix_api_auth_verify_require_secured): select it in apisix_api_auth_routes "
            "and run site.yml, or leave it out of verify's routes if it is public"
        )
    if "aud" in text and ("client" in text or "audience" in text):
        return (
            "the token lacks the route's client in aud: run site.yml (the keycloak_api_auth role adds the "
            "audience mapper), or correct the route's client_id"
        )
    if "introspect" in text or "client_secret" in text or "unauthorized" in text or "401" in text:
        return "check the route's client_id and client_secret against the client in Keycloak, then run site.yml"
    if "discovery" in text or "resolve" in text or "connect" in text or "timed out" in text:
        return (
            "check the route's discovery URL (apisix_api_auth_keycloak_url) and that Keycloak is reachable from "
            "the gateway (apisix_api_auth_verify_url_map)"
        )
    if "scope" in text:
        return "give the customer token the route's required scopes in Keycloak, or correct required_scopes"
    if "password" in text or "login" in text or "user" in text:
        return "check the customer user (keycloak_api_auth_customer_*) and its password in the vault"
    return "see the reason; correct the route or the tenant's Keycloak settings and run site.yml, then verify"


def _error_text(error: object) -> str | None:
    """A host's error: a string, or a failed result (its ``msg``)."""
    if error is None or error == "":
        return None
    if isinstance(error, dict):
        msg = error.get("msg") or error.get("message") or "failed"
        task = error.get("task")
        return "%s: %s" % (task, msg) if task else _text(msg)
    return _text(error)


class _Tenant:
    def __init__(self, name: str | None, realm: str | None, keycloak_url: str | None) -> None:
        self.name = name
        self.realm = realm
        self.keycloak_url = keycloak_url
        self.hosts: list[str | None] = []
        self.errors: list[str] = []
        self.results = 0
        self.keycloak_version: str | None = None
        self.apisix_version: str | None = None
        self.keycloak: Data | None = None
        self.cx_values: Data | None = None
        self.routes: dict[str | None, Data] = {}
        self.route_order: list[str | None] = []

    def route(self, route_id: str | None) -> Data:
        if route_id not in self.routes:
            self.routes[route_id] = {
                "id": route_id,
                "uri": None,
                "hosts": [],
                "state": None,
                "reason": None,
                "fix": None,
                "live": None,
                "live_differs": [],
                "client_id": None,
            }
            self.route_order.append(route_id)
        return self.routes[route_id]


def _keycloak_facts(host: Data) -> Data | None:
    """The Keycloak facts of a tenant from its registered mapper and customer user results, or None."""
    result = _dict(host.get("keycloak"))
    if not result:
        return None
    facts: Data = {}
    mapper_result = result.get("mapper")
    if isinstance(mapper_result, dict):
        mapper = _dict(mapper_result.get("mapper"))
        config = _dict(mapper.get("config"))
        expected_audience = host.get("client_id")
        differs = []
        if mapper:
            if mapper.get("protocolMapper") not in (None, _GUIDE_MAPPER):
                differs.append("protocolMapper")
            if expected_audience and config.get("included.client.audience") != expected_audience:
                differs.append("included.client.audience")
            for key in ("access.token.claim", "introspection.token.claim"):
                if key in config and str(config.get(key)).lower() != "true":
                    differs.append(key)
            if "access.token.claim" not in config:
                differs.append("access.token.claim")
        facts["mapper"] = {
            "name": _text(mapper.get("name") or host.get("mapper_name")),
            "present": bool(mapper),
            "audience": _text(config.get("included.client.audience")),
            "matches_guide": bool(mapper) and not differs,
            "differs": differs,
            "failed": bool(mapper_result.get("failed")),
            "msg": _text(mapper_result.get("msg")),
        }
    user_result = result.get("user")
    if isinstance(user_result, dict):
        user = _dict(user_result.get("user"))
        roles = sorted(str(role) for role in _list(user.get("realm_roles")))
        expected = [str(role) for role in _list(host.get("customer_roles"))]
        facts["customer_user"] = {
            "username": _text(user.get("username") or host.get("customer_username")),
            "present": bool(user),
            "enabled": user.get("enabled"),
            "email_verified": user.get("email_verified"),
            "required_actions": [str(item) for item in _list(user.get("required_actions"))],
            "roles": roles,
            "missing_roles": [role for role in expected if role not in roles],
            "failed": bool(user_result.get("failed")),
            "msg": _text(user_result.get("msg")),
        }
    return facts


# the places of a registered cx_values_credentials_info result the report shows (never a value: it has none)
_CX_PLACE_KEYS = ("file", "path", "line", "role", "component", "status", "note")
_CX_STATUSES = ("same", "differs", "not found", "unknown")


def _cx_values_facts(result: Data) -> Data | None:
    """The CX values facts of a gateway host: ``{'check': <registered cx_values_credentials_info>, 'login':
    {'accepted', 'msg'}, 'sync': <registered cx_values_credentials>}`` (each optional), or None."""
    check = _dict(result.get("check"))
    sync = _dict(result.get("sync"))
    login = _dict(result.get("login"))
    if not (check or sync or login):
        return None
    source = sync if _list(sync.get("places")) else check
    places = [
        {key: (_dict(item).get(key) if key == "line" else _text(_dict(item).get(key))) for key in _CX_PLACE_KEYS}
        for item in _list(source.get("places"))
    ]
    for place, item in zip(places, _list(source.get("places"))):
        item = _dict(item)
        if sync:  # after the rewrite: the state after it, and the generation of the cim secret the place holds
            place["status"] = _text(item.get("after") or item.get("status"))
            place["generation"] = _text(item.get("generation"))
    counts = {status: sum(1 for place in places if place["status"] == status) for status in _CX_STATUSES}
    return {
        "places": places,
        "counts": counts,
        "published_default": bool(check.get("published_default") or sync.get("published_default")),
        "login": {"accepted": login.get("accepted"), "msg": _text(login.get("msg"))} if login else None,
        "rewritten": _text(sync.get("msg")) if sync else None,
        "failed": bool(check.get("failed") or sync.get("failed")),
        "msg": _text(sync.get("msg") or check.get("msg")),
    }


def _cx_values_warnings(tenant: _Tenant, facts: Data) -> list[str]:
    """What the report warns about in a tenant's CX values facts."""
    warnings = []
    if facts["published_default"]:
        warnings.append(
            "the cim secret of realm %s is the default the CX charts and docs publish: rotate it (cx.api_auth.rotate)"
            % tenant.realm
        )
    differ = [place for place in facts["places"] if place["status"] in ("differs", "not found")]
    if differ:
        warnings.append(
            "%d place(s) of the CX values files differ from the inventory or Keycloak, or are not found: %s"
            % (
                len(differ),
                "; ".join(
                    "%s%s"
                    % (
                        place["path"] or place["role"],
                        " (%s line %s)" % (place["file"], place["line"]) if place["file"] else "",
                    )
                    for place in differ
                ),
            )
        )
    login = facts["login"]
    if login and login["accepted"] is False:
        warnings.append("the customer widget's token request: %s" % (login["msg"] or "refused"))
    if facts["failed"]:
        warnings.append("the CX values check failed: %s" % (facts["msg"] or "no detail"))
    return warnings


def _keycloak_problems(facts: Data) -> list[str]:
    """What is wrong with a tenant's Keycloak facts (empty when all is as the guide says)."""
    problems = []
    mapper = facts.get("mapper")
    if mapper is not None:
        if not mapper["present"]:
            problems.append("audience mapper %s is missing" % (mapper["name"] or ""))
        elif not mapper["matches_guide"]:
            problems.append(
                "audience mapper %s differs from the guide (%s)" % (mapper["name"], ", ".join(mapper["differs"]))
            )
    user = facts.get("customer_user")
    if user is not None:
        if not user["present"]:
            problems.append("customer user %s is missing" % (user["username"] or ""))
        else:
            if user["enabled"] is False:
                problems.append("customer user %s is disabled" % user["username"])
            if user["email_verified"] is False:
                problems.append("customer user %s has no verified e-mail" % user["username"])
            if user["missing_roles"]:
                problems.append(
                    "customer user %s lacks role(s) %s" % (user["username"], ", ".join(user["missing_roles"]))
                )
    return problems


def _add_check(tenant: _Tenant, result: Data) -> None:
    """Routes of a registered ``apisix_oidc_check`` result."""
    failed_ids = {str(item) for item in _list(result.get("failed_routes"))}
    for item in _list(result.get("routes")):
        item = _dict(item)
        if item.get("route") is None and item.get("id") is None:
            continue
        route = tenant.route(_text(item.get("route") if item.get("route") is not None else item.get("id")))
        state = _CHECK_STATES.get(str(item.get("status")), FAILED)
        if route["id"] in failed_ids:
            state = FAILED
        route["state"] = state
        route["reason"] = _text(item.get("reason"))
        route["client_id"] = _text(item.get("client_id"))
        _route_place(route, item)
    if result.get("failed") and not _list(result.get("routes")):
        tenant.errors.append("verify: %s" % (_text(result.get("msg")) or "failed"))


def _route_place(route: Data, item: Data) -> None:
    uri = item.get("uri") or item.get("uris")
    if uri:
        route["uri"] = ", ".join(str(part) for part in _list(uri))
    hosts = item.get("hosts") or item.get("host")
    if hosts:
        route["hosts"] = [str(part) for part in _list(hosts)]


def _add_apply(tenant: _Tenant, result: Data) -> None:
    """Routes of a registered ``apisix_route_oidc`` result, for routes the check did not see."""
    for item in _list(result.get("routes")):
        item = _dict(item)
        if item.get("id") is None:
            continue
        route = tenant.route(_text(item.get("id")))
        _route_place(route, item)
        if route["state"] is None:
            after = str(item.get("after"))
            if after == "present":
                route["state"] = SECURED
                route["reason"] = "openid-connect block present (written by site.yml; run verify to check a token)"
            else:
                route["state"] = OPEN
                route["reason"] = "openid-connect block %s: no authentication" % after
    if result.get("failed"):
        tenant.errors.append("apply: %s" % (_text(result.get("msg")) or "failed"))


def _add_live(tenant: _Tenant, result: Data) -> None:
    """The live state per route from a registered ``apisix_live_routes`` result."""
    for item in _list(result.get("routes")):
        item = _dict(item)
        if item.get("id") is None:
            continue
        route = tenant.route(_text(item.get("id")))
        route["live"] = _text(item.get("live"))
        route["live_differs"] = [str(part) for part in _list(item.get("differs"))]


def _tenant_of(host: Data, tenants: dict[str | None, _Tenant], by_realm: dict[str | None, _Tenant]) -> _Tenant:
    groups = _list(host.get("groups"))
    name = _text(host.get("name"))
    if name in tenants:
        return tenants[name]
    keycloak_host = _text(host.get("keycloak_host"))
    if keycloak_host and keycloak_host in tenants:
        return tenants[keycloak_host]
    realm = _text(host.get("gateway_realm") or host.get("keycloak_realm"))
    if realm in by_realm and "keycloak_admin" not in groups:
        return by_realm[realm]
    tenant = _Tenant(name, realm, _text(host.get("gateway_keycloak_url") or host.get("keycloak_url")))
    tenants[name] = tenant
    return tenant


def _is_keycloak_host(host: Data) -> bool:
    return "keycloak_admin" in _list(host.get("groups")) or bool(host.get("keycloak"))


def _is_gateway_host(host: Data) -> bool:
    return "apisix_gateway" in _list(host.get("groups")) or any(host.get(key) for key in ("verify", "apply", "live"))


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build(
    hosts: object,
    secrets: Iterable[object] = (),
    started_at: object = None,
    playbook: object = None,
    hide: Callable[[str], object] | None = None,
    now: str | None = None,
) -> Any:
    """The report (a dict of plain data, every string masked) of ``hosts`` (one dict per inventory host)."""
    tenants: dict[str | None, _Tenant] = {}
    # one entry per host (a host given twice, e.g. gathered again by a second report play of the run: the last)
    by_name: dict[str | None, Data] = {}
    for host in _list(hosts):
        if _dict(host).get("name") is not None:
            by_name[_text(_dict(host)["name"])] = _dict(host)
    hosts = list(by_name.values())
    for host in hosts:
        if _is_keycloak_host(host):
            name = _text(host["name"])
            tenants[name] = _Tenant(name, _text(host.get("keycloak_realm")), _text(host.get("keycloak_url")))
    by_realm: dict[str | None, _Tenant] = {}
    for tenant in tenants.values():
        by_realm.setdefault(tenant.realm, tenant)
    for host in hosts:
        if not (_is_keycloak_host(host) or _is_gateway_host(host)):
            continue
        tenant = _tenant_of(host, tenants, by_realm)
        tenant.hosts.append(_text(host["name"]))
        error = _error_text(host.get("error"))
        if error:
            tenant.errors.append(error)
        elif host.get("failed"):
            tenant.errors.append(NO_RESULT)
        tenant.keycloak_version = tenant.keycloak_version or _text(host.get("keycloak_version"))
        if _is_gateway_host(host):
            tenant.apisix_version = tenant.apisix_version or _text(host.get("apisix_version"))
        facts = _keycloak_facts(host)
        if facts is not None:
            tenant.keycloak = facts
            tenant.results += 1
            for part in ("mapper", "customer_user"):
                if facts.get(part, {}).get("failed"):
                    tenant.errors.append("keycloak: %s" % (facts[part]["msg"] or "%s failed" % part))
        cx_values = host.get("cx_values")
        if isinstance(cx_values, dict) and cx_values:
            tenant.cx_values = _cx_values_facts(cx_values) or tenant.cx_values
        for key, add in (("verify", _add_check), ("apply", _add_apply), ("live", _add_live)):
            result = host.get(key)
            if isinstance(result, dict) and result:
                tenant.results += 1
                add(tenant, result)
    report_tenants = [_tenant_dict(tenant) for tenant in tenants.values()]
    report_tenants.sort(key=lambda item: (item["status"] != FAILED, item["name"]))
    totals = {state: sum(item["counts"][state] for item in report_tenants) for state in STATES}
    report = {
        "report": {
            "format": FORMAT_VERSION,
            "collection": COLLECTION,
            "collection_version": COLLECTION_VERSION,
            "generated_at": now or _now(),
            "started_at": _text(started_at),
            "playbook": _text(playbook),
        },
        "summary": {
            "tenants": len(report_tenants),
            "tenants_failed": sum(1 for item in report_tenants if item["status"] == FAILED),
            "routes": totals,
        },
        "tenants": report_tenants,
    }
    return masked(report, secrets, hide)


def _tenant_dict(tenant: _Tenant) -> Data:
    errors = list(dict.fromkeys(tenant.errors))
    if not errors and tenant.results == 0:
        errors.append(NO_RESULT)
    problems = _keycloak_problems(tenant.keycloak) if tenant.keycloak else []
    routes = []
    for route_id in tenant.route_order:
        route = dict(tenant.routes[route_id])
        if route["state"] is None:  # only live facts: the route was not checked
            route["state"] = FAILED if route["live"] in ("missing", "stale") else OPEN
            route["reason"] = "not checked by verify; live state %s" % route["live"]
        if route["state"] == FAILED:
            route["fix"] = failed_route_fix(route["reason"])
        elif route["state"] == OPEN:
            route["fix"] = _OPEN_FIX
        if route["live"] in ("stale", "missing"):
            live_fix = (
                "the cluster does not serve this route as written (%s): apply the chart (helm upgrade)" % route["live"]
            )
            route["fix"] = "%s; %s" % (route["fix"], live_fix) if route["fix"] else live_fix
        routes.append(route)
    routes.sort(key=lambda item: _RANK[item["state"]])  # stable: the check's order within a state
    counts = {state: sum(1 for item in routes if item["state"] == state) for state in STATES}
    failed = bool(errors) or counts[FAILED] > 0 or bool(problems)
    return {
        "name": tenant.name,
        "realm": tenant.realm,
        "keycloak_url": tenant.keycloak_url,
        "keycloak_version": tenant.keycloak_version,
        "apisix_version": tenant.apisix_version,
        "hosts": list(dict.fromkeys(tenant.hosts)),
        "status": FAILED if failed else "ok",
        "error": "; ".join(errors) if errors else None,
        "fix": _TENANT_FIX % tenant.name if errors else None,
        "keycloak": tenant.keycloak,
        "keycloak_problems": problems,
        "cx_values": tenant.cx_values,
        "warnings": _cx_values_warnings(tenant, tenant.cx_values) if tenant.cx_values else [],
        "counts": counts,
        "routes": routes,
    }


def masked(value: Any, secrets: Iterable[object] = (), hide: Callable[[str], object] | None = None) -> Any:
    """``value`` with every string (keys too) passed through the masking unit: the run's ``secrets`` and the
    credentials of every URL."""
    unit = _masking.Secrets(secrets, hide=hide)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return unit.scrub(item)
        if isinstance(item, dict):
            return {walk(key): walk(sub) for key, sub in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(sub) for sub in item]
        return item

    return walk(value)


def summary_line(tenant: Data) -> str:
    """``acme (realm acme): 3 routes secured, 1 open, 0 failed`` (and the error of a failed tenant)."""
    counts = tenant["counts"]
    line = "%s (realm %s): %d route(s) secured, %d open, %d failed" % (
        tenant["name"],
        tenant["realm"] or "-",
        counts[SECURED],
        counts[OPEN],
        counts[FAILED],
    )
    if tenant["error"]:
        line += "; FAILED: %s" % tenant["error"]
    elif tenant["keycloak_problems"]:
        line += "; Keycloak: %s" % "; ".join(tenant["keycloak_problems"])
    if tenant.get("warnings"):
        line += "; WARNING: %s" % "; ".join(tenant["warnings"])
    return line

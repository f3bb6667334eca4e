# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the gateway loads against what the chart renders from the values file (module apisix_live_routes).

Inputs are what the ecosystem's modules return: the manifests ``kubernetes.core.helm_template`` renders
(``stdout``, multi-document YAML) and the live ConfigMap ``kubernetes.core.k8s_info`` reads (one item of
``resources``, the list itself, or nothing). Both ConfigMaps hold the standalone ``apisix.yaml`` (top-level
``routes``); per selected route the ``openid-connect`` block (present or not, and its config) is compared:

* ``live``: the route is in the live ConfigMap with the same block (or without one on both sides);
* ``stale``: the route is live with another block; ``differs`` names the key paths, never a value;
* ``missing``: the route is not in the live ConfigMap (or there is none).

The live ConfigMap is also checked for the ``#END`` marker (APISIX reloads only a file ending with it) and
for being the release's (label ``app.kubernetes.io/managed-by=Helm``, annotations
``meta.helm.sh/release-name``/``meta.helm.sh/release-namespace``). Nothing of either document is returned:
only route ids, key paths, states and names; the message goes through the project's masking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import selectors as select
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import (
    SHOWN_IDS,
    close_ids,
    quoted,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import LOADER, same, yaml
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PluginState
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn

    Route = dict[str, Any]  # a route of the standalone apisix.yaml

PLUGIN = "openid-connect"
END_MARKER = "#END"
LIVE, STALE, MISSING = "live", "stale", "missing"
HELM_MANAGED_BY = ("app.kubernetes.io/managed-by", "Helm")
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
_V3 = (3, 0, 0)  # the switch-off flag of the block state: _meta.disable


class _ConfigMap:
    """A ConfigMap resource (dict) reduced to what the comparison reads."""

    def __init__(self, resource: dict[str, Any], namespace: str | None) -> None:
        metadata: Any = resource.get("metadata") if isinstance(resource.get("metadata"), dict) else {}
        self.name = metadata.get("name")
        self.namespace = metadata.get("namespace") or namespace
        self.labels: dict[str, Any] = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
        self.annotations: dict[str, Any] = (
            metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        )
        self.data: Any = resource.get("data") if isinstance(resource.get("data"), dict) else {}

    @property
    def where(self) -> str:
        return "%s/%s" % (self.namespace, self.name) if self.namespace else str(self.name)


def _yaml_problem(exc: BaseException) -> str:
    """Where a YAML text fails to parse, never what it holds (the text has secrets)."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return "not valid YAML"
    return "not valid YAML (line %d, column %d)" % (mark.line + 1, mark.column + 1)


def _rendered_configmap(rendered: object, name: str, namespace: str | None) -> _ConfigMap:
    if not isinstance(rendered, str) or not rendered.strip():
        raise ModuleError(
            "rendered is empty: give the manifests kubernetes.core.helm_template renders (its stdout) for the release"
        )
    try:
        documents = [doc for doc in yaml.load_all(rendered, Loader=LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        raise ModuleError("rendered (the chart's manifests) is %s" % _yaml_problem(exc)) from None
    kinds: list[str] = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        metadata: Any = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        kinds.append("%s/%s" % (doc.get("kind"), metadata.get("name")))
        if doc.get("kind") == "ConfigMap" and metadata.get("name") == name:
            return _ConfigMap(doc, namespace)
    shown = ", ".join(kinds[:SHOWN_IDS]) or "nothing"
    if len(kinds) > SHOWN_IDS:
        shown += " and %d more" % (len(kinds) - SHOWN_IDS)
    raise ModuleError("the chart renders no ConfigMap '%s' (configmap_name); it renders %s" % (name, shown))


def _live_configmap(live: Any, name: str, namespace: str | None) -> _ConfigMap | None:
    """The live ConfigMap named ``name`` of ``live`` (a k8s_info item or its ``resources`` list), or None."""
    if live in (None, "", {}, []):
        return None
    items = live if isinstance(live, list) else [live]
    if not all(isinstance(item, dict) for item in items):
        raise ModuleError(
            "live must be the ConfigMap kubernetes.core.k8s_info returns (one item of its resources, or the list), "
            "or empty when there is none"
        )
    found = [_ConfigMap(item, namespace) for item in items]
    named = [cm for cm in found if cm.name == name]
    if not named:
        raise ModuleError(
            "live holds ConfigMap %s, not '%s' (configmap_name)" % (", ".join(cm.where for cm in found), name)
        )
    return named[0]


def _routes(text: str, where: str) -> tuple[dict[str, Route] | None, str | None]:
    """``{id: route}`` of an ``apisix.yaml`` text, in its order (None when the text is not valid YAML)."""
    try:
        doc = yaml.load(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        return None, "%s is %s" % (where, _yaml_problem(exc))
    routes = doc.get("routes") if isinstance(doc, dict) else None
    if (doc is not None and not isinstance(doc, dict)) or (routes is not None and not isinstance(routes, list)):
        return None, "%s is not an APISIX standalone configuration (no routes list)" % where
    by_id: dict[str, Route] = {}
    for route in routes or []:
        if isinstance(route, dict) and route.get("id") is not None:
            by_id.setdefault(str(route["id"]), route)
    return by_id, None


def block_of(route: object) -> Any:
    """The ``openid-connect`` config of a route (None without one)."""
    plugins = route.get("plugins") if isinstance(route, dict) else None
    return plugins.get(PLUGIN) if isinstance(plugins, dict) else None


def differences(rendered: object, live: object, path: tuple[str, ...] = ()) -> list[str]:
    """Dotted key paths where the two block configs differ (keys only, never a value)."""
    if rendered is None and live is None:
        return []
    if rendered is None:
        return ["%s (live only)" % ".".join(path or (PLUGIN,))]
    if live is None:
        return ["%s (not live)" % ".".join(path or (PLUGIN,))]
    if isinstance(rendered, dict) and isinstance(live, dict):
        out: list[str] = []
        for key in list(rendered) + [key for key in live if key not in rendered]:
            here = path + (str(key),)
            if key not in live:
                out.append("%s (not live)" % ".".join(here))
            elif key not in rendered:
                out.append("%s (live only)" % ".".join(here))
            else:
                out.extend(differences(rendered[key], live[key], here))
        return out
    return [] if same(rendered, live) else [".".join(path or (PLUGIN,))]


def _released_by(configmap: _ConfigMap, release: str, namespace: str | None) -> str | None:
    """None when ``configmap`` is the release's; else what says it is not."""
    key, value = HELM_MANAGED_BY
    wrong: list[str] = []
    if configmap.labels.get(key) != value:
        wrong.append("label %s is not %s" % (key, value))
    if configmap.annotations.get(RELEASE_NAME) != release:
        wrong.append("annotation %s is not '%s'" % (RELEASE_NAME, release))
    if namespace and configmap.annotations.get(RELEASE_NAMESPACE) not in (None, namespace):
        wrong.append("annotation %s is not '%s'" % (RELEASE_NAMESPACE, namespace))
    return "; ".join(wrong) or None


def _select(
    params: Params,
    rendered_routes: Mapping[str, Route],
    live_routes: Mapping[str, Route] | None,
    source: str,
) -> list[str]:
    entries, selectors = select.check_entries(params)
    all_ids = list(rendered_routes)
    unknown = [entry for entry in entries if not select.is_pattern(entry) and entry not in rendered_routes]
    if unknown:
        close: list[str] = []
        for rid in unknown:
            close.extend(match for match in close_ids(rid, all_ids) if match not in close)
        raise ModuleError(
            "%s: unknown route id%s %s%s; route ids it renders: %s"
            % (
                source,
                "s" if len(unknown) > 1 else "",
                quoted(unknown),
                " (did you mean %s?)" % quoted(close) if close else "",
                quoted(all_ids, SHOWN_IDS) or "none",
            )
        )
    # The selector sees the blocks of both sides: the rendered file has no commented-out block, and a block
    # that is live but no longer rendered (a values file regenerated from the chart's defaults) counts too.
    selected = (
        [
            rid
            for rid in all_ids
            if block_of(rendered_routes[rid]) is not None or block_of((live_routes or {}).get(rid)) is not None
        ]
        if selectors
        else []
    )
    return select.resolve(entries, selectors, all_ids, selected, source)


def _block_state(block: object) -> str:
    """``present``, ``disabled`` or ``absent``: a block of a rendered document (no comments there)."""
    return PluginState(active=block is not None, config=block).block(_V3)


def _route_report(
    rid: str, rendered_routes: Mapping[str, Route], live_routes: Mapping[str, Route] | None
) -> dict[str, Any]:
    rendered_block = block_of(rendered_routes[rid])
    report: dict[str, Any] = {"id": rid, "rendered_block": _block_state(rendered_block)}
    if live_routes is None or rid not in live_routes:
        report.update(live=MISSING, live_block=None, differs=[])
        return report
    live_block = block_of(live_routes[rid])
    differs = differences(rendered_block, live_block)
    report.update(live=STALE if differs else LIVE, live_block=_block_state(live_block), differs=differs)
    return report


def _secret_values(rendered_routes: Mapping[str, Route], live_routes: Mapping[str, Route] | None) -> list[str]:
    values: list[str] = []
    for routes in (rendered_routes, live_routes or {}):
        for route in routes.values():
            block = block_of(route)
            if isinstance(block, dict):
                values.extend(masking.secret_values(block))
    return values


def _route_line(report: Mapping[str, Any]) -> str:
    if report["live"] == MISSING:
        return "'%s' missing" % report["id"]
    if report["differs"][0].startswith(PLUGIN + " "):  # the whole block on one side only
        return "'%s' stale (%s)" % (report["id"], report["differs"][0].replace(" (", " ").rstrip(")"))
    return "'%s' stale (%s differs at %s)" % (report["id"], PLUGIN, ", ".join(report["differs"]))


def _read_live(
    live_cm: _ConfigMap | None, where: str, key: str, release: str, namespace: str | None, rendered_text: str
) -> tuple[dict[str, Route] | None, dict[str, bool | None], list[str]]:
    """``(routes or None, checks, problems)`` of the live ConfigMap: its routes, the result keys
    ``end_marker``/``rendered_by_release``/``data_in_sync`` and what is wrong with it, one text each."""
    checks: dict[str, bool | None] = {"end_marker": None, "rendered_by_release": None, "data_in_sync": None}
    if live_cm is None:
        return None, checks, ["there is no ConfigMap %s in the cluster" % where]
    problems: list[str] = []
    not_released = _released_by(live_cm, release, namespace)
    checks["rendered_by_release"] = not_released is None
    if not_released:
        problems.append("ConfigMap %s was not rendered by release '%s' (%s)" % (where, release, not_released))
    live_text = live_cm.data.get(key)
    checks["data_in_sync"] = live_text == rendered_text
    if not isinstance(live_text, str):
        checks["end_marker"] = False
        return None, checks, problems + ["ConfigMap %s has no key '%s'" % (where, key)]
    checks["end_marker"] = live_text.rstrip().endswith(END_MARKER)
    if not checks["end_marker"]:
        problems.append("ConfigMap %s (%s) does not end with %s: APISIX does not load it" % (where, key, END_MARKER))
    live_routes, problem = _routes(live_text, "ConfigMap %s (%s)" % (where, key))
    return live_routes, checks, problems + ([problem] if problem else [])


def run(  # pylint: disable=unused-argument
    params: Params, check_mode: bool = False, diff: bool = False, warn: Warn | None = None
) -> Result:
    """The module's result (see apisix_live_routes' RETURN); raises :class:`ModuleError`."""
    name = params["configmap_name"]
    key = params["configmap_key"]
    release = params["release_name"]
    rendered_cm = _rendered_configmap(params["rendered"], name, params.get("release_namespace"))
    namespace = params.get("release_namespace") or rendered_cm.namespace
    live_cm = _live_configmap(params.get("live"), name, namespace)
    if live_cm is not None:
        namespace = namespace or live_cm.namespace
        rendered_cm.namespace = rendered_cm.namespace or namespace
    where = live_cm.where if live_cm is not None else rendered_cm.where
    rendered_text = rendered_cm.data.get(key)
    if not isinstance(rendered_text, str):
        raise ModuleError("the chart's ConfigMap %s has no key '%s' (configmap_key)" % (rendered_cm.where, key))
    rendered_routes, problem = _routes(rendered_text, "the chart's ConfigMap %s (%s)" % (rendered_cm.where, key))
    if problem:
        raise ModuleError(problem)
    rendered_routes = cast("dict[str, Route]", rendered_routes)  # no problem: the routes were read

    live_routes, checks, problems = _read_live(live_cm, where, key, release, namespace, rendered_text)

    selected = _select(params, rendered_routes, live_routes, "the chart's ConfigMap %s (%s)" % (rendered_cm.where, key))
    reports = [_route_report(rid, rendered_routes, live_routes) for rid in selected]
    not_live = [report for report in reports if report["live"] != LIVE]
    counts = {state: sum(1 for report in reports if report["live"] == state) for state in (LIVE, STALE, MISSING)}
    summary = "%d route(s) compared: %d live, %d stale, %d missing" % (
        len(reports),
        counts[LIVE],
        counts[STALE],
        counts[MISSING],
    )
    details = [_route_line(report) for report in not_live]
    secrets = _secret_values(rendered_routes, live_routes)
    problems = [masking.mask_text(problem, secrets) for problem in problems]
    head = "ConfigMap %s of release '%s'" % (where, release)
    failed = bool(params.get("require_live") and (not_live or problems))
    if failed:
        msg = "%s: not what the values file renders: %s. Apply the values file (helm upgrade of release '%s')" % (
            head,
            "; ".join(details + problems),
            release,
        )
    else:
        msg = "%s: %s" % (head, "; ".join([summary] + details + problems))
    msg = masking.mask_text(msg, secrets)
    result = {
        "changed": False,
        "configmap": where,
        "configmap_found": live_cm is not None,
        "end_marker": checks["end_marker"],
        "rendered_by_release": checks["rendered_by_release"],
        "data_in_sync": checks["data_in_sync"],
        "routes_selected": selected,
        "routes": reports,
        "not_live": [report["id"] for report in not_live],
        "problems": problems,
        "msg": msg,
    }
    if failed:
        raise ModuleError(msg, **{k: v for k, v in result.items() if k != "msg"})
    return result

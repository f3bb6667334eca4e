# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""apisix_live_routes' comparison (``_apisix/live.py``): the chart's rendered ConfigMap against the live one.

The inputs are built the way ``kubernetes.core.helm_template`` (multi-document stdout) and
``kubernetes.core.k8s_info`` (the ConfigMap resource) give them; the real cluster is the integration
test's (tests/integration/test_apisix_live_routes.py).
"""

import copy
import json

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import live
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

SECRET = "Sup3r-s3cret-client-value"
OTHER_SECRET = "An0ther-s3cret-client-value"
BLOCK = {
    "discovery": "http://keycloak.ef-external.svc/auth/realms/expertflow/.well-known/openid-configuration",
    "realm": "expertflow",
    "client_id": "cim",
    "client_secret": SECRET,
    "bearer_only": True,
    "required_scopes": ["email", "profile"],
}


def route(rid, block=None, **plugins):
    out = {"id": rid, "uris": ["/%s/*" % rid], "hosts": ["gateway.tenant.example"], "plugins": dict(plugins)}
    if block is not None:
        out["plugins"]["openid-connect"] = block
    return out


def configmap(routes, name="apisix", namespace="ef-external", release="apisix", end=True, helm=True, text=None):
    labels = {"app.kubernetes.io/name": "apisix"}
    annotations = {}
    if helm:
        labels["app.kubernetes.io/managed-by"] = "Helm"
        annotations = {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}
    if text is None:
        text = yaml.safe_dump({"routes": routes}, sort_keys=False) + ("#END\n" if end else "")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
        "data": {"apisix.yaml": text},
    }


def rendered(routes, name="apisix"):
    """helm template's stdout: a Service and the ConfigMap, each after a '# Source' comment."""
    cm = configmap(routes, name=name)
    del cm["metadata"]["annotations"]  # helm adds those when it installs, not in `helm template`
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "apisix-gateway"}}
    return "".join(
        "---\n# Source: apisix/templates/%s.yaml\n%s" % (kind, yaml.safe_dump(doc, sort_keys=False))
        for kind, doc in (("service", service), ("configmap", cm))
    )


def run(rendered_routes, live_cm, **params):
    args = {
        "rendered": rendered(rendered_routes),
        "live": [live_cm] if live_cm is not None else [],
        "configmap_name": "apisix",
        "configmap_key": "apisix.yaml",
        "release_name": "apisix",
        "release_namespace": None,
        "routes": None,
        "route_selector": ["openid_connect_block"],
        "require_live": False,
    }
    args.update(params)
    return live.run(args)


def _changed(**changes):
    block = copy.deepcopy(BLOCK)
    for key, value in changes.items():
        if value is None:
            block.pop(key, None)
        else:
            block[key] = value
    return block


# (rendered block, live block, state, differs)
STATES = {
    "same block": (BLOCK, BLOCK, "live", []),
    "open on both sides": (None, None, "live", []),
    "block not live yet": (BLOCK, None, "stale", ["openid-connect (not live)"]),
    "block live, no longer rendered": (None, BLOCK, "stale", ["openid-connect (live only)"]),
    "other secret live": (BLOCK, _changed(client_secret=OTHER_SECRET), "stale", ["client_secret"]),
    "other scopes live": (BLOCK, _changed(required_scopes=["email"]), "stale", ["required_scopes"]),
    "key only live": (BLOCK, _changed(ssl_verify=True), "stale", ["ssl_verify (live only)"]),
    "key not live": (BLOCK, _changed(realm=None), "stale", ["realm (not live)"]),
    "nested key": (
        _changed(session={"secret": SECRET * 2}),
        _changed(session={"secret": OTHER_SECRET * 2}),
        "stale",
        ["session.secret"],
    ),
    "switched off live only": (BLOCK, _changed(_meta={"disable": True}), "stale", ["_meta (live only)"]),
    "true is not 1": (BLOCK, _changed(bearer_only=1), "stale", ["bearer_only"]),
}


@pytest.mark.parametrize("rendered_block, live_block, state, differs", STATES.values(), ids=list(STATES))
def test_state_per_route(rendered_block, live_block, state, differs):
    result = run(
        [route("a", rendered_block), route("b", BLOCK)],
        configmap([route("a", live_block), route("b", BLOCK)]),
        route_selector=None,
        routes=["a", "b"],
    )
    assert result["routes"][0] == {
        "id": "a",
        "live": state,
        "differs": differs,
        "rendered_block": "absent" if rendered_block is None else "present",
        "live_block": "absent" if live_block is None else "disabled" if "_meta" in live_block else "present",
    }
    assert result["routes"][1]["live"] == "live"
    assert result["not_live"] == ([] if state == "live" else ["a"])
    assert result["changed"] is False and result["end_marker"] is True and result["rendered_by_release"] is True
    assert SECRET not in json.dumps(result) and OTHER_SECRET not in json.dumps(result)


def test_other_plugins_are_not_compared():
    result = run(
        [route("a", BLOCK, **{"key-auth": {"key": "one"}, "limit-count": {"count": 50}})],
        configmap([route("a", BLOCK, **{"key-auth": {"key": "two"}})]),
    )
    assert result["routes"][0]["live"] == "live" and result["data_in_sync"] is False


def test_missing_route_and_unchanged_data():
    result = run([route("a", BLOCK), route("b", BLOCK)], configmap([route("a", BLOCK)]))
    assert [(r["id"], r["live"], r["live_block"]) for r in result["routes"]] == [
        ("a", "live", "present"),
        ("b", "missing", None),
    ]
    assert result["not_live"] == ["b"] and "'b' missing" in result["msg"]
    assert "1 live, 0 stale, 1 missing" in result["msg"]

    same = run([route("a", BLOCK)], configmap([route("a", BLOCK)]))
    assert same["data_in_sync"] is True and same["problems"] == [] and same["configmap"] == "ef-external/apisix"


@pytest.mark.parametrize("live_input", [[], {}, None, ""], ids=["empty list", "empty dict", "null", "empty string"])
def test_no_live_configmap(live_input):
    args = {"live": live_input}
    result = run([route("a", BLOCK)], None, **args)
    assert result["configmap_found"] is False and result["end_marker"] is None and result["rendered_by_release"] is None
    assert [r["live"] for r in result["routes"]] == ["missing"]
    with pytest.raises(ModuleError) as info:
        run([route("a", BLOCK)], None, require_live=True, release_namespace="ef-external", **args)
    assert "there is no ConfigMap ef-external/apisix" in info.value.msg and "'apisix'" in info.value.msg


def test_live_given_as_one_item_or_the_list():
    cm = configmap([route("a", BLOCK)])
    assert run([route("a", BLOCK)], None, live=cm)["routes"][0]["live"] == "live"
    assert run([route("a", BLOCK)], None, live=[configmap([], name="other"), cm])["routes"][0]["live"] == "live"


@pytest.mark.parametrize(
    "text, end",
    [
        ("routes: []\n#END\n", True),
        ("routes: []\n#END", True),
        ("routes: []\n#END\n\n  \n", True),
        ("routes: []\n", False),
        ("routes: []\n#END\nroutes2: []\n", False),
        ("routes: []\n# END\n", False),
    ],
    ids=["newline", "no newline", "trailing blank lines", "no marker", "marker not last", "marker spelt apart"],
)
def test_end_marker(text, end):
    text = text.replace("routes: []", "routes: [{id: a, uris: [/a]}]")
    result = run([route("a")], configmap([], text=text), routes=["a"], route_selector=None)
    assert result["end_marker"] is end
    assert any("#END" in problem for problem in result["problems"]) is (not end)
    assert result["routes"][0]["live"] == "live"


def test_check_needs_routes_or_selector():
    with pytest.raises(ModuleError, match="routes must name at least one route"):
        run([], configmap([]), routes=None, route_selector=None)


def test_require_live_fails_naming_routes_paths_configmap_and_release():
    live_cm = configmap(
        [route("a", _changed(client_secret=OTHER_SECRET, required_scopes=["x"])), route("c"), route("d", BLOCK)]
    )
    with pytest.raises(ModuleError) as info:
        run([route("a", BLOCK), route("b", BLOCK), route("c"), route("d")], live_cm, routes=["c"], require_live=True)
    msg = info.value.msg
    assert msg.startswith("ConfigMap ef-external/apisix of release 'apisix': not what the values file renders")
    assert "'a' stale (openid-connect differs at client_secret, required_scopes)" in msg
    assert (
        "'b' missing" in msg
        and "'c'" not in msg
        and "'d' stale (openid-connect live only)" in msg
        and "helm upgrade of release 'apisix'" in msg
    )
    assert info.value.result["not_live"] == ["a", "b", "d"]
    assert info.value.result["routes_selected"] == ["c", "a", "b", "d"]
    assert SECRET not in msg + json.dumps(info.value.result) and OTHER_SECRET not in msg + json.dumps(info.value.result)

    # all live: no failure
    ok = run([route("a", BLOCK)], configmap([route("a", BLOCK)]), require_live=True)
    assert ok["not_live"] == [] and ok["problems"] == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"helm": False}, "label app.kubernetes.io/managed-by is not Helm"),
        ({"release": "other"}, "annotation meta.helm.sh/release-name is not 'apisix'"),
        ({"namespace": "elsewhere"}, "annotation meta.helm.sh/release-namespace is not 'ef-external'"),
    ],
    ids=["not helm", "other release", "other namespace"],
)
def test_configmap_not_rendered_by_the_release(change, problem):
    cm = configmap([route("a", BLOCK)], **change)
    if "namespace" in change:  # the release's ConfigMap as another release in another namespace wrote it
        cm["metadata"]["namespace"] = "ef-external"
    result = run([route("a", BLOCK)], cm, release_namespace="ef-external")
    assert result["rendered_by_release"] is False and result["routes"][0]["live"] == "live"
    assert any(problem in text for text in result["problems"])
    with pytest.raises(ModuleError) as info:
        run([route("a", BLOCK)], cm, release_namespace="ef-external", require_live=True)
    assert "ConfigMap ef-external/apisix was not rendered by release 'apisix'" in info.value.msg
    assert problem in info.value.msg


def test_no_end_marker_fails_with_require_live_although_every_route_is_live():
    cm = configmap([route("a", BLOCK)], end=False)
    with pytest.raises(ModuleError) as info:
        run([route("a", BLOCK)], cm, require_live=True)
    assert (
        "ConfigMap ef-external/apisix (apisix.yaml) does not end with #END: APISIX does not load it" in info.value.msg
    )
    assert info.value.result["end_marker"] is False and info.value.result["not_live"] == []


SECRET_PLACES = {
    "client_secret": ({"client_secret": SECRET}, {"client_secret": OTHER_SECRET}),
    "session.secret": ({"session": {"secret": SECRET * 2}}, {"session": {"secret": OTHER_SECRET * 2}}),
    "url credentials": (
        {"discovery": "http://admin:%s@keycloak/auth/realms/x/.well-known/openid-configuration" % SECRET},
        {"discovery": "http://admin:%s@keycloak/auth/realms/x/.well-known/openid-configuration" % OTHER_SECRET},
    ),
    "key only live": ({}, {"client_rsa_private_key": OTHER_SECRET}),
    "block only live": (None, {"client_secret": OTHER_SECRET}),
}


@pytest.mark.parametrize("require_live", [False, True], ids=["report", "require_live"])
@pytest.mark.parametrize("rendered_part, live_part", SECRET_PLACES.values(), ids=list(SECRET_PLACES))
def test_secrets_never_in_the_result_or_message(rendered_part, live_part, require_live):
    rendered_block = None if rendered_part is None else dict(dict(BLOCK, client_secret="same-on-both"), **rendered_part)
    live_block = dict(dict(BLOCK, client_secret="same-on-both"), **live_part)
    other = {"key-auth": {"key": SECRET + "-other-plugin"}}
    args = {"rendered": rendered([route("a", rendered_block, **other)])}
    live_cm = configmap([route("a", live_block, **{"key-auth": {"key": OTHER_SECRET + "-other-plugin"}})])
    if require_live:
        with pytest.raises(ModuleError) as info:
            run([], live_cm, require_live=True, **args)
        text = info.value.msg + json.dumps(info.value.result)
    else:
        result = run([], live_cm, **args)
        assert result["routes"][0]["live"] == "stale"
        text = json.dumps(result)
    for secret in (SECRET, OTHER_SECRET, "same-on-both"):
        assert secret not in text


def test_unparsable_live_data_names_the_place_not_the_content():
    cm = configmap([], text="routes:\n  - id: a\n    plugins: {openid-connect: {client_secret: %s\n#END\n" % SECRET)
    result = run([route("a", BLOCK)], cm)
    assert result["routes"][0]["live"] == "missing"
    assert result["problems"][-1].startswith("ConfigMap ef-external/apisix (apisix.yaml) is not valid YAML (line ")
    assert SECRET not in json.dumps(result)


def test_selection_uses_both_sides_patterns_and_exact_ids():
    rendered_routes = [route("orders-main", BLOCK), route("orders-login"), route("files-main"), route("portal")]
    live_cm = configmap([route("orders-main", BLOCK), route("files-main", BLOCK)])
    result = run(rendered_routes, live_cm, routes=["portal", "orders-*"])
    # routes first (a pattern's matches in file order), then the selector's: files-main's block is only live
    assert result["routes_selected"] == ["portal", "orders-main", "orders-login", "files-main"]
    assert [r["live"] for r in result["routes"]] == ["missing", "live", "missing", "stale"]


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"routes": ["orders-mian"], "route_selector": None},
            "unknown route id 'orders-mian' (did you mean 'orders-main'?)",
        ),
        ({"routes": ["nope-*"], "route_selector": None}, "the route pattern 'nope-*' matches no route id"),
        ({"routes": ["a b"], "route_selector": None}, "routes holds an id that APISIX cannot have"),
        ({"routes": None}, "route_selector=openid_connect_block matches no route"),
    ],
    ids=["unknown id", "pattern without match", "bad id", "selector without match"],
)
def test_selection_errors(params, message):
    with pytest.raises(ModuleError) as info:
        run([route("orders-main")], configmap([route("orders-main")]), **params)
    assert message in info.value.msg
    assert info.value.msg.startswith("the chart's ConfigMap ef-external/apisix (apisix.yaml): ") or (
        info.value.msg.startswith("routes holds")
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"rendered": ""}, "rendered is empty"),
        (
            {"rendered": "kind: [unclosed %s" % SECRET},
            "rendered (the chart's manifests) is not valid YAML (line 2, column 1)",
        ),
        ({"configmap_name": "gateway"}, "the chart renders no ConfigMap 'gateway' (configmap_name); it renders "),
        (
            {"configmap_key": "config.yaml"},
            "the chart's ConfigMap ef-external/apisix has no key 'config.yaml' (configmap_key)",
        ),
        ({"live": [configmap([], name="other")]}, "live holds ConfigMap ef-external/other, not 'apisix'"),
        ({"live": "a string"}, "live must be the ConfigMap kubernetes.core.k8s_info returns"),
    ],
    ids=["empty rendered", "rendered not yaml", "no such configmap", "no such key", "other live configmap", "bad live"],
)
def test_input_errors(params, message):
    with pytest.raises(ModuleError) as info:
        run([route("a", BLOCK)], configmap([route("a", BLOCK)]), **params)
    assert message in info.value.msg and SECRET not in info.value.msg


def test_rendered_configmap_lists_what_the_chart_renders():
    with pytest.raises(ModuleError) as info:
        run([route("a", BLOCK)], None, configmap_name="gateway")
    assert info.value.msg.endswith("it renders Service/apisix-gateway, ConfigMap/apisix")

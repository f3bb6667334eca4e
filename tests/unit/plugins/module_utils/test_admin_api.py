# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Units of the Admin API target (plugins/module_utils/_apisix/admin_api/) and of the route selectors."""

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import selectors, unmanaged
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import client as api
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import compare, envelope, ownership
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.target import uses_put
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PluginState
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

ROUTE = {"id": "r1", "uri": "/r1", "plugins": {"key-auth": {"key": "k"}}}

# --- envelope -----------------------------------------------------------------------------


def test_3x_item_and_list():
    body = {"key": "/apisix/routes/r1", "value": ROUTE, "createdIndex": 3, "modifiedIndex": 9}
    assert envelope.parse_item(body) == (ROUTE, False)
    assert envelope.parse_list({"list": [body, body], "total": 2}) == ([ROUTE, ROUTE], False)
    assert envelope.parse_list({"list": {}, "total": 0}) == ([], False)  # Lua's empty table


def test_2x_item_and_list():
    node = {"key": "/apisix/routes/r1", "value": ROUTE, "modifiedIndex": 9}
    assert envelope.parse_item({"action": "get", "node": node, "count": 1}) == (ROUTE, True)
    listed = {"action": "get", "node": {"dir": True, "key": "/apisix/routes", "nodes": [node]}, "count": 1}
    assert envelope.parse_list(listed) == ([ROUTE], True)
    assert envelope.parse_list({"action": "get", "node": {"dir": True, "nodes": {}}}) == ([], True)


@pytest.mark.parametrize(
    "body",
    [None, [], {"list": "x"}, {"value": "not a mapping"}, {"action": "get", "node": {"key": "k"}}, {"message": "x"}],
)
def test_bodies_that_are_no_admin_api_answer(body):
    with pytest.raises(envelope.EnvelopeError):
        envelope.parse_item(body) if not (isinstance(body, dict) and "list" in body) else envelope.parse_list(body)


def test_error_text_joins_what_apisix_said():
    assert envelope.error_text({"error_msg": "failed to check token", "description": "wrong apikey"}) == (
        "failed to check token: wrong apikey"
    )
    assert envelope.error_text({"message": "Key not found"}) == "Key not found"
    assert envelope.error_text({"error_msg": "invalid request body", "req_body": "{secret}"}) == "invalid request body"
    assert envelope.error_text(None) == "" and envelope.error_text("text") == ""


# --- compare ------------------------------------------------------------------------------

DESIRED = {"discovery": "http://kc/x", "client_id": "cim", "client_secret": "s", "bearer_only": True, "audience": ["a"]}


def test_same_config_holds_and_key_order_does_not_matter():
    assert compare.holds(dict(reversed(list(DESIRED.items()))), DESIRED, "3.18")


@pytest.mark.parametrize(
    "change",
    [
        {"client_secret": "other"},
        {"bearer_only": 1},  # a number is not a boolean
        {"audience": ["a", "b"]},
        {"audience": "a"},
        {"timeout": 30},  # a key the module does not write, not the default
        {"_meta": {"disable": True}},
    ],
)
def test_differences_are_changes(change):
    assert not compare.holds(dict(DESIRED, **change), DESIRED, "3.18")


def test_missing_key_and_absent_plugin_are_changes():
    assert not compare.holds({k: v for k, v in DESIRED.items() if k != "audience"}, DESIRED, "3.18")
    assert not compare.holds(None, DESIRED, "3.18")


def test_stored_defaults_of_the_release_are_not_a_change():
    stored = dict(DESIRED, scope="openid", timeout=3, ssl_verify=False, set_id_token_header=True)
    assert compare.holds(stored, DESIRED, "3.11")
    # ssl_verify defaults to true from 3.16: a stored false is not a default there
    assert not compare.holds(stored, DESIRED, "3.16")
    assert compare.without_stored_defaults(stored, DESIRED, "3.11") == DESIRED
    assert compare.without_stored_defaults(dict(stored, timeout=30), DESIRED, "3.11") == dict(DESIRED, timeout=30)


def test_nested_mappings_compare_on_managed_keys_and_nested_defaults():
    desired = dict(DESIRED, session={"secret": "0123456789abcdef"})
    assert compare.holds(dict(desired, session={"secret": "0123456789abcdef"}), desired, "3.18")
    assert not compare.holds(dict(desired, session={"secret": "0123456789abcdeX"}), desired, "3.18")
    assert not compare.holds(dict(desired, session={"secret": "0123456789abcdef", "x": 1}), desired, "3.18")


HAND = {"ssl_verify": True, "introspection_interval": 60, "session": {"secret": "0123456789abcdef"}}


def _unmanaged(stored, desired, version):
    """What the Admin API target does: the shared merge with the release's stored defaults."""
    return unmanaged.merge(stored, desired, oidc.resolve_version(version)[0], True, compare.stored_default(version))


def test_unmanaged_keys_are_found_with_their_paths_and_merged():
    stored = dict(DESIRED, _meta={"priority": 5, "disable": True}, enable=False, **HAND)
    written, paths = _unmanaged(stored, DESIRED, "3.11")
    assert paths == ["_meta.priority", "ssl_verify", "introspection_interval", "session.secret"]
    # _meta.disable and enable are the module's
    assert written == dict(DESIRED, _meta={"priority": 5}, **HAND) and list(written)[: len(DESIRED)] == list(DESIRED)
    assert not compare.holds(stored, written, "3.11")  # enable and _meta.disable go: a change
    assert compare.holds(dict(DESIRED, _meta={"priority": 5}, **HAND), written, "3.11")


@pytest.mark.parametrize(
    "stored, version",
    [
        (dict(DESIRED, audience=["x"], realm="other", client_secret="s", bearer_only=False), "3.18"),  # options
        (dict(DESIRED, enable=False, _meta={"disable": True}), "3.18"),  # enable, the 3.x switch-off flag
        (dict(DESIRED, enable=False, disable=True), "2.15"),  # the 2.x switch-off flag
        (dict(DESIRED, scope="openid", timeout=3, ssl_verify=False, set_id_token_header=True), "3.11"),  # defaults
        (dict(DESIRED, ssl_verify=True, use_jwks=False), "3.18"),  # defaults of 3.16+
        (dict(DESIRED, _meta={}), "3.18"),
    ],
    ids=["options", "flags-3.x", "flags-2.x", "stored-defaults-3.11", "stored-defaults-3.18", "empty-meta"],
)
def test_managed_keys_and_stored_defaults_are_not_unmanaged(stored, version):
    assert _unmanaged(stored, DESIRED, version) == (DESIRED, [])


def test_an_enable_true_the_options_do_not_write_is_left_as_it_is():
    written, paths = _unmanaged(dict(DESIRED, enable=True), DESIRED, "3.18")
    assert written == dict(DESIRED, enable=True) and paths == []


def test_unmanaged_keys_inside_a_mapping_the_module_sets_and_nested_defaults():
    desired = dict(DESIRED, session={"secret": "0123456789abcdef"}, _meta={"disable": True})
    stored = dict(desired, session={"secret": "x" * 16, "storage": "cookie", "cookie": {"lifetime": 60}})
    stored["_meta"] = {"disable": False, "filter": [["arg_a", "==", "1"]]}
    written, paths = _unmanaged(stored, desired, "3.18")
    assert paths == ["session.cookie.lifetime", "_meta.filter"]  # storage: cookie is the nested default
    assert written == dict(
        desired,
        session={"secret": "0123456789abcdef", "cookie": {"lifetime": 60}},
        _meta={"disable": True, "filter": [["arg_a", "==", "1"]]},
    )
    assert _unmanaged(None, desired, "3.18") == (desired, []) and _unmanaged(stored, None, "3.18") == (None, [])


def _api_state(config):
    return PluginState(active=config is not None, config=config)


def test_state_of_route_plugin():
    assert _api_state(None).block((3, 18, 0)) == "absent"
    assert _api_state(DESIRED).block((3, 18, 0)) == "present"
    assert _api_state(dict(DESIRED, _meta={"disable": True})).block((3, 18, 0)) == "disabled"
    assert _api_state(dict(DESIRED, disable=True)).block((2, 15, 0)) == "disabled"
    assert _api_state(dict(DESIRED, disable=True)).block((3, 18, 0)) == "present"  # 2.x flag, ignored by 3.x
    assert PluginState(active=False, config=None, commented=2).block((3, 18, 0)) == "commented"  # route files only


def test_write_method_per_release():
    assert [uses_put(v) for v in ((3, 9, 0), (3, 10, 0), (3, 17, 9), (3, 18, 0), (2, 15, 0))] == [
        False,
        True,
        True,
        False,
        False,
    ]


# --- ownership ----------------------------------------------------------------------------


def test_controller_marks():
    assert ownership.controller_marks(ROUTE) == []
    assert ownership.controller_marks({"labels": {"managed-by": "someone-else"}, "desc": "Created by hand"}) == []
    assert ownership.controller_marks({"labels": {"managed-by": "apisix-ingress-controller"}}) == [
        "labels.managed-by=apisix-ingress-controller"
    ]
    marks = ownership.controller_marks(
        {"labels": {"manager-by": "api7-ingress-controller", "k8s/controller-name": "c"}, "desc": "x"}
    )
    assert marks == ["labels.manager-by=api7-ingress-controller", "labels.k8s/controller-name=c"]
    desc = ownership.controller_marks({"desc": "Created by apisix-ingress-controller, DO NOT modify it manually"})
    assert len(desc) == 1 and desc[0].startswith("desc='Created by apisix-ingress-controller")


# --- client -------------------------------------------------------------------------------


def test_base_url():
    assert api.base_url("http://127.0.0.1:9180") == "http://127.0.0.1:9180/apisix/admin"
    assert api.base_url("https://gw:9180/apisix/admin/") == "https://gw:9180/apisix/admin"
    for wrong in ("127.0.0.1:9180", "ftp://x", "http://user:pw@gw:9180", "http://gw/?api_key=x", ""):
        with pytest.raises(api.AdminApiError) as info:
            api.base_url(wrong)
        assert "pw@" not in info.value.msg


def _client():
    return api.AdminClient("http://gw:9180", admin_key="Adm1n-KEY-x", secrets=["cl1ent-SECRET-y"])


@pytest.mark.parametrize(
    "status, body, words",
    [
        (
            401,
            {"error_msg": "failed to check token", "description": "wrong apikey"},
            ["refused (401", "wrong or missing"],
        ),
        (401, {"error_msg": "failed to check token", "description": "invalid method for role viewer"}, ["viewer role"]),
        (403, None, ["refused (403)", "wrong or missing"]),
        (
            404,
            {"message": "Key not found"},
            ["not found at http://gw:9180/apisix/admin/routes/r1 (404: Key not found)"],
        ),
        (
            400,
            {"error_msg": "bad cl1ent-SECRET-y and Adm1n-KEY-x"},
            ["rejected by APISIX (400: bad ******** and ********)"],
        ),
        (500, {"error_msg": "boom"}, ["failed (500: boom)"]),
    ],
)
def test_failure_messages_name_url_and_mask_secrets(status, body, words):
    client = _client()
    error = client.failure(api.Response(status, body, client.url("/routes/r1")), "GET route 'r1'")
    for word in words:
        assert word in error.msg
    assert "cl1ent-SECRET-y" not in error.msg and "Adm1n-KEY-x" not in error.msg


def test_cas_conflict_is_retried_a_bounded_number_of_times(monkeypatch):
    client = _client()
    answers = [api.Response(503, {"error_msg": "value changed before overwritten"}, "u")] * 2 + [
        api.Response(200, {"key": "k", "value": ROUTE}, "u")
    ]
    calls, pauses = [], []
    monkeypatch.setattr(client, "request", lambda method, path, data=None: calls.append(method) or answers.pop(0))
    assert client.write("PATCH", "/routes/r1", {}, sleep=pauses.append).status == 200
    assert calls == ["PATCH"] * 3 and len(pauses) == 2

    always = api.Response(503, {"error_msg": "value changed before overwritten"}, "http://gw/apisix/admin/routes/r1")
    monkeypatch.setattr(client, "request", lambda method, path, data=None: always)
    with pytest.raises(api.AdminApiError) as info:
        client.write("PATCH", "/routes/r1", {}, sleep=pauses.append)
    assert "changed under every one of 3 attempts" in info.value.msg
    # PUT has no compare-and-swap: one attempt, the 503 is the caller's to report
    other = api.Response(503, {"error_msg": "etcd down"}, "u")
    monkeypatch.setattr(client, "request", lambda method, path, data=None: other)
    assert client.write("PUT", "/routes/r1", {}, sleep=pauses.append) is other


# --- selectors ----------------------------------------------------------------------------

IDS = ["a-secured", "b", "c-secured", "d"]


def test_resolve_union_in_order_once_each():
    assert selectors.resolve(["d", "*-secured", "a-secured"], [], IDS, [], "src") == ["d", "a-secured", "c-secured"]
    assert selectors.resolve(["b"], ["openid_connect_block"], IDS, ["c-secured", "b"], "src") == ["b", "c-secured"]
    assert selectors.resolve(["[ab]*"], [], IDS, [], "src") == ["a-secured", "b"]
    assert selectors.resolve(["A*"], [], IDS + ["A1"], [], "src") == ["A1"]  # case-sensitive


def test_unmatched_pattern_and_empty_selector_fail_naming_them():
    with pytest.raises(ModuleError, match=r"src: the route pattern '\*-securd' matches no route id"):
        selectors.resolve(["b", "*-securd"], [], IDS, [], "src")
    with pytest.raises(ModuleError, match="route_selector=openid_connect_block matches no route"):
        selectors.resolve([], ["openid_connect_block"], IDS, [], "src")


def test_entries_are_checked():
    assert selectors.check_entries({"routes": ["a", "a", "*-x"], "route_selector": None}) == (["a", "*-x"], [])
    with pytest.raises(ModuleError, match="at least one route id or pattern"):
        selectors.check_entries({"routes": [], "route_selector": []})
    with pytest.raises(ModuleError, match=r"'a/b\*': it holds '/'"):
        selectors.check_entries({"routes": ["a/b*"]})
    with pytest.raises(ModuleError, match=r"' a': it starts or ends with a space"):
        selectors.check_entries({"routes": [" a"]})

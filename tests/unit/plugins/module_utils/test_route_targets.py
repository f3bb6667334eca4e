# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one target interface (plugins/module_utils/_apisix/target.py) and the one route selection.

Both targets implement every method of ``RouteTarget`` themselves; a route's plugin state is one value
(``PluginState``) whatever the target; ``apisix_oidc_check`` selects routes through the same targets and
``selectors`` as ``apisix_route_oidc`` (a glob picks the same routes in both, on a route file and on the
Admin API), with the same guards, and no other module builds an Admin API client."""

import dataclasses
import inspect
import os
import re

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import oidc_check as oc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import runner, selectors, targets
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import target as admin_target
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.target import AdminApiTarget
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.file_target import FileTarget
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PluginState, RouteTarget
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

from ..modules.test_apisix_route_oidc import PLUGIN_ARGS
from ..modules.test_apisix_route_oidc import run as run_route_oidc
from .test_oidc_check import CHECK_ARGS, FakeKeycloak, _file
from .test_oidc_check_admin_api import ADMIN_KEY, FakeAdmin, _answers, _routes

TARGETS = [FileTarget, AdminApiTarget]
ABSTRACT = sorted(RouteTarget.__abstractmethods__)
APISIX_DIR = os.path.dirname(inspect.getfile(runner))


def test_the_interface_names_every_method_both_modules_use():
    assert set(ABSTRACT) >= {"route_ids", "plugin_state", "check_routes", "plan", "notes", "diff", "write"}
    with pytest.raises(TypeError):
        RouteTarget()  # pylint: disable=abstract-class-instantiated


@pytest.mark.parametrize("cls", TARGETS, ids=lambda cls: cls.__name__)
def test_each_target_implements_every_abstract_method_itself(cls):
    assert issubclass(cls, RouteTarget) and not cls.__abstractmethods__
    missing = [name for name in ABSTRACT if name not in vars(cls)]
    assert missing == [], "%s inherits %s from the interface" % (cls.__name__, missing)
    for name in ABSTRACT:  # same arguments as the interface, so the runner calls both alike
        base, own = getattr(RouteTarget, name), getattr(cls, name)
        if callable(base):
            assert inspect.signature(own).parameters.keys() == inspect.signature(base).parameters.keys(), name


@pytest.mark.parametrize("cls", TARGETS, ids=lambda cls: cls.__name__)
def test_a_target_missing_one_method_cannot_be_made(cls):
    for name in ABSTRACT:
        partial = type("Partial", (RouteTarget,), {other: getattr(cls, other) for other in ABSTRACT if other != name})
        with pytest.raises(TypeError, match=name):
            partial()  # pylint: disable=abstract-class-instantiated


@pytest.mark.parametrize(
    "params, cls",
    [
        (dict(path="/nonexistent/apisix.yaml"), FileTarget),
        (dict(admin_url="http://gw:9180", validate_certs=True, timeout=10), AdminApiTarget),
    ],
)
def test_make_target_picks_by_the_options_and_reads_nothing_yet(params, cls):
    target = targets.make_target(params, print)
    assert type(target) is cls  # pylint: disable=unidiomatic-typecheck
    if cls is AdminApiTarget:
        assert target.client.sent == [] and target.where == "http://gw:9180/apisix/admin"


def test_plugin_state_is_one_frozen_value_and_its_block_is_derived_there():
    off = {"client_id": "cim", "_meta": {"disable": True}}
    cases = [
        (PluginState(True, {"client_id": "cim"}), "present", True),
        (PluginState(True, off), "disabled", True),
        (PluginState(True, None), "present", True),  # openid-connect: ~ is an active block
        (PluginState(False, None, 2), "commented", True),
        (PluginState(), "absent", False),
    ]
    for state, block, has_block in cases:
        assert (state.block((3, 11, 0)), state.has_block) == (block, has_block), state
    assert PluginState(True, dict(off, disable=True, _meta={})).block((2, 15, 0)) == "disabled"
    with pytest.raises(dataclasses.FrozenInstanceError):
        PluginState().active = True  # pylint: disable=assigning-non-slot
    assert [field.name for field in dataclasses.fields(PluginState)] == ["active", "config", "commented"]


def test_the_admin_api_has_no_commented_block_and_no_missing_text_in_its_state():
    target = AdminApiTarget(dict(admin_url="http://gw:9180"), print, client=FakeAdmin(_answers(_routes(), False)))
    assert target.plugin_state("bare") == PluginState(False, None, 0)
    assert target.plugin_state("secured").active and target.plugin_state("secured").block((3, 11, 0)) == "present"
    assert target.plugin_state("switched-off").block((3, 11, 0)) == "disabled"


# --- the check selects as apisix_route_oidc does ------------------------------------------------------


def _check(**params):
    args = dict(CHECK_ARGS, routes_key=None)
    args.update(params)
    warnings = []
    try:
        result = oc.run(args, True, False, warnings.append, http=FakeKeycloak())
    except ModuleError as exc:
        result = dict(exc.result, msg=exc.msg, failed=True)
    return result, warnings


BUILT = []  # every client the patched AdminClient made, in order


class _Admin(FakeAdmin):
    """The fake Admin API, built as the modules build their client (``AdminClient(**kwargs)``)."""

    def __init__(self, **kwargs):
        kwargs.pop("admin_url")
        kwargs.pop("admin_key")
        super().__init__(_answers(_routes(), False), **kwargs)
        BUILT.append(self)


@pytest.mark.parametrize("patterns", [["s*"], ["*-off", "secured"], ["[sp]*"], ["secured"]])
def test_a_glob_selects_the_same_routes_in_the_check_as_in_apisix_route_oidc_on_a_file(tmp_path, capsys, patterns):
    path = _file(tmp_path)
    changed = run_route_oidc(capsys, check=True, path=path, routes=patterns, **PLUGIN_ARGS)
    assert changed["_rc"] == 0, changed["msg"]
    result, _warnings = _check(path=path, routes=patterns)
    assert [item["route"] for item in result["routes"]] == changed["routes_selected"]
    assert len(changed["routes_selected"]) >= 1


@pytest.mark.parametrize("patterns", [["s*"], ["*-off", "secured"], ["[sp]*"], ["plain", "s*"]])
def test_a_glob_selects_the_same_routes_in_the_check_as_in_apisix_route_oidc_on_the_admin_api(
    capsys, monkeypatch, patterns
):
    monkeypatch.setattr(admin_target, "AdminClient", _Admin)
    del BUILT[:]
    api = dict(admin_url="http://gw:9180", admin_key=ADMIN_KEY)
    changed = run_route_oidc(capsys, check=True, routes=patterns, apisix_version="3.11", **dict(PLUGIN_ARGS, **api))
    assert changed["_rc"] == 0, changed["msg"]
    result, _warnings = _check(routes=patterns, **api)
    assert "failed" not in result, result["msg"]
    assert [item["route"] for item in result["routes"]] == changed["routes_selected"]
    # one construction: the same client class, the check's agent and Admin API options
    assert [client.agent for client in BUILT] == ["cx.api_auth.apisix_route_oidc", oc.AGENT]
    assert {method for client in BUILT for method, _path in client.sent} == {"GET"}


@pytest.mark.parametrize(
    "params, words",
    [
        (dict(routes=["nothing-*"]), "the route pattern 'nothing-*' matches no route id"),
        (dict(routes=["a/b"]), "'a/b': it holds '/'"),
        (dict(routes=["nope"]), "unknown route id 'nope'"),
        (dict(route_selector=["openid_connect_block"], routes_key="nowhere"), "nowhere"),
    ],
)
def test_the_check_fails_on_routes_as_apisix_route_oidc_does(tmp_path, capsys, params, words):
    path = _file(tmp_path)
    result, _warnings = _check(path=path, **params)
    changed = run_route_oidc(capsys, check=True, path=path, **dict(PLUGIN_ARGS, **params))
    assert result["failed"] and changed["_rc"] == 1
    assert words in result["msg"] and words in changed["msg"]


def test_the_check_refuses_route_selector_on_the_admin_api_as_apisix_route_oidc_does(capsys):
    api = dict(admin_url="http://gw:9180", admin_key=ADMIN_KEY)
    result, _warnings = _check(route_selector=["openid_connect_block"], **api)
    changed = run_route_oidc(capsys, check=True, route_selector=["openid_connect_block"], **dict(PLUGIN_ARGS, **api))
    assert result["failed"] and changed["_rc"] == 1
    words = "route_selector=openid_connect_block only applies to route files (path)"
    assert words in result["msg"] and words in changed["msg"]


def test_the_check_with_route_selector_on_a_file_picks_every_block(tmp_path):
    path = _file(tmp_path)
    result, _warnings = _check(path=path, route_selector=["openid_connect_block"], routes=["plain"])
    assert [item["route"] for item in result["routes"]] == ["plain", "secured", "commented", "switched-off"]
    empty = tmp_path / "empty.yaml"
    empty.write_text("routes:\n  - id: a\n    uri: /a\n#END\n")
    result, _warnings = _check(path=str(empty), route_selector=["openid_connect_block"])
    assert result["failed"] and "route_selector=openid_connect_block matches no route" in result["msg"]
    result, warnings = _check(path=str(empty))  # the default selection warns instead
    assert "failed" not in result and result["routes"] == [] and len(warnings) == 1


def test_routes_are_read_and_the_admin_api_client_built_in_one_place():
    """No module of _apisix but the targets reads a route file or builds an Admin API client."""
    readers = {}
    for folder, _dirs, files in os.walk(APISIX_DIR):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
                for what, pattern in (("client", r"\bAdminClient\("), ("file", r"\bRouteFile\(")):
                    if re.search(pattern, text):
                        readers.setdefault(what, []).append(os.path.relpath(os.path.join(folder, name), APISIX_DIR))
    assert readers == {"client": ["admin_api/target.py"], "file": ["file_target.py"]}
    assert oc.make_target is targets.make_target and runner.make_target is targets.make_target
    assert oc.select is selectors and not os.path.exists(os.path.join(APISIX_DIR, "oidc_routes.py"))

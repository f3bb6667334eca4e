# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one-line ``msg`` of every module: what it did or found, with names and counts, in check mode
"would ...", never a secret (issue 21). Each module runs through ``main()`` (or its runner, for the
read-only checks whose fakes live in module_utils tests)."""

import json

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.module_utils._runner import one_line, run_module
from ansible_collections.cx.api_auth.plugins.modules import apisix_live_routes, keycloak_client_secret_info
from ansible_collections.cx.api_auth.plugins.modules import keycloak_audience_mapper as mapper_module
from ansible_collections.cx.api_auth.plugins.modules import keycloak_customer_user as customer_module

from ...fakes import CIM_SECRET
from ..module_utils import test_live_routes as lr
from ..module_utils import test_oidc_check as oc_tests
from ..module_utils.test_audience_mapper import GUIDE_CONFIG_26
from ..module_utils.test_customer_user import OTHER_PASSWORD, PASSWORD
from ._module_harness import run_module_main
from .test_apisix_route_oidc import PLUGIN_ARGS, SECRET, _copy
from .test_apisix_route_oidc import run as run_route_oidc

GUARDED = ["catchall", "files-main", "orders-main-secured", "portal-main"]
OTHERS = "6 other route(s) untouched"  # the sample holds 10 routes


def assert_one_line(result, *secrets):
    """``msg`` is there, one line, and holds none of ``secrets``."""
    msg = result["msg"]
    assert isinstance(msg, str) and msg and "\n" not in msg and "\r" not in msg, msg
    for secret in secrets:
        assert secret not in msg


# --- apisix_route_oidc -------------------------------------------------------------------------

# (state, run first to reach the starting point, check mode, the msg after "<file>: ")
ROUTE_CASES = {
    "enable, check mode": (
        "present",
        None,
        True,
        "openid-connect would be enabled on 3 route(s) ('catchall', 'orders-main-secured', 'portal-main') "
        "and updated on 1 route(s) ('files-main'), " + OTHERS,
    ),
    "enable": (
        "present",
        None,
        False,
        "openid-connect enabled on 3 route(s) ('catchall', 'orders-main-secured', 'portal-main') "
        "and updated on 1 route(s) ('files-main'), " + OTHERS,
    ),
    "enable, no change": (
        "present",
        "present",
        False,
        "openid-connect already enabled on the 4 route(s) selected "
        "('catchall', 'files-main', 'orders-main-secured', 'portal-main'), " + OTHERS,
    ),
    "enable, no change, check mode": (
        "present",
        "present",
        True,
        "openid-connect already enabled on the 4 route(s) selected "
        "('catchall', 'files-main', 'orders-main-secured', 'portal-main'), " + OTHERS,
    ),
    "disable, check mode": (
        "disabled",
        "present",
        True,
        "openid-connect would be disabled on 4 route(s) "
        "('catchall', 'files-main', 'orders-main-secured', 'portal-main'), " + OTHERS,
    ),
    "disable": (
        "disabled",
        "present",
        False,
        "openid-connect disabled on 4 route(s) ('catchall', 'files-main', 'orders-main-secured', 'portal-main'), "
        + OTHERS,
    ),
    "disable, no change": (
        "disabled",
        "disabled",
        False,
        "openid-connect already disabled on the 4 route(s) selected "
        "('catchall', 'files-main', 'orders-main-secured', 'portal-main'), " + OTHERS,
    ),
    "remove, check mode": (
        "absent",
        "present",
        True,
        "openid-connect would be removed from 4 route(s) "
        "('catchall', 'files-main', 'orders-main-secured', 'portal-main'), " + OTHERS,
    ),
    "remove": (
        "absent",
        "present",
        False,
        "openid-connect removed from 4 route(s) ('catchall', 'files-main', 'orders-main-secured', 'portal-main'), "
        + OTHERS,
    ),
    "remove, no change": (
        "absent",
        "absent",
        False,
        "openid-connect already absent from the 4 route(s) selected "
        "('catchall', 'files-main', 'orders-main-secured', 'portal-main'), " + OTHERS,
    ),
}


def _route_args(state):
    return dict(PLUGIN_ARGS, state=state) if state != "absent" else dict(state=state)


@pytest.mark.parametrize("state, first, check, expected", list(ROUTE_CASES.values()), ids=list(ROUTE_CASES))
def test_apisix_route_oidc_msg(tmp_path, capsys, state, first, check, expected):
    path = _copy(tmp_path)
    if first:
        assert run_route_oidc(capsys, path=str(path), routes=GUARDED, **_route_args(first))["_rc"] == 0
    result = run_route_oidc(capsys, check=check, path=str(path), routes=GUARDED, **_route_args(state))
    assert result["_rc"] == 0 and result["msg"] == "%s: %s" % (path, expected)
    assert result["changed"] is ("already" not in expected)
    assert_one_line(result, SECRET)


def test_apisix_route_oidc_msg_counts_the_routes_already_done_and_cuts_long_id_lists(tmp_path, capsys):
    path = _copy(tmp_path)
    run_route_oidc(capsys, path=str(path), routes=GUARDED, **PLUGIN_ARGS)
    result = run_route_oidc(capsys, path=str(path), routes=GUARDED + ["scheduler-main"], **PLUGIN_ARGS)
    assert result["msg"] == "%s: openid-connect enabled on 1 route(s) ('scheduler-main'), 4 already enabled, %s" % (
        path,
        "5 other route(s) untouched",
    )
    every = ["r%02d" % number for number in range(12)]
    many = tmp_path / "apisix.yaml"
    many.write_text("routes:\n%s#END\n" % "".join("  - id: %s\n    uri: /%s\n" % (rid, rid) for rid in every))
    result = run_route_oidc(capsys, check=True, path=str(many), routes=every, **PLUGIN_ARGS)
    shown = ", ".join("'%s'" % rid for rid in every[:10])
    assert result["msg"] == "%s: openid-connect would be enabled on 12 route(s) (%s and 2 more)" % (many, shown)
    assert_one_line(result, SECRET)


def test_apisix_route_oidc_msg_is_one_line_whatever_the_file_name(tmp_path, capsys):
    folder = tmp_path / "two\nlines"
    folder.mkdir()
    path = folder / "apisix.yaml"
    path.write_text("routes:\n  - id: a\n    uri: /a\n#END\n")
    result = run_route_oidc(capsys, check=True, path=str(path), routes=["a"], **PLUGIN_ARGS)
    assert result["_rc"] == 0, result["msg"]
    assert result["msg"] == "%s: openid-connect would be enabled on 1 route(s) ('a')" % str(path).replace("\n", "\\x0a")
    assert_one_line(result, SECRET)


def test_run_module_puts_any_msg_on_one_line():
    class Module:  # pylint: disable=too-few-public-methods
        params, check_mode, _diff = {}, False, False

        def __init__(self):
            self.exited = None

        def warn(self, text):
            raise AssertionError(text)

        def exit_json(self, **result):
            self.exited = result

    module = Module()
    run_module(module, lambda *_args: {"changed": False, "msg": "a\nb\r\tc"}, "x")
    assert module.exited["msg"] == "a\\x0ab\\x0d\\x09c"
    assert one_line("plain text, 'quoted'") == "plain text, 'quoted'"


# --- keycloak_audience_mapper -------------------------------------------------------------------

MAPPER = "mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
MAPPER_CASES = {
    "create, check mode": (False, {}, True, "Would create " + MAPPER),
    "create": (False, {}, False, "Created " + MAPPER),
    "no change": (True, {}, False, "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is up to date"),
    "no change, check mode": (
        True,
        {},
        True,
        "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is up to date",
    ),
    "update, check mode": (
        True,
        dict(add_to_id_token=False, included_client_audience="account"),
        True,
        "Would update %s (change id.token.claim, included.client.audience)" % MAPPER,
    ),
    "update": (True, dict(add_to_access_token=False), False, "Updated %s (changed access.token.claim)" % MAPPER),
    "delete, check mode": (True, dict(state="absent"), True, "Would delete " + MAPPER),
    "delete": (True, dict(state="absent"), False, "Deleted " + MAPPER),
    "absent": (
        False,
        dict(state="absent"),
        False,
        "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is already absent",
    ),
}


@pytest.mark.parametrize("exists, args, check, expected", list(MAPPER_CASES.values()), ids=list(MAPPER_CASES))
def test_keycloak_audience_mapper_msg(keycloak, capsys, exists, args, check, expected):
    if exists:
        keycloak.put_mapper(keycloak.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    result, failed = run_module_main(
        capsys, mapper_module, dict(realm="expertflow", client_id="cim", **args), check=check
    )
    assert not failed and result["msg"] == expected
    assert_one_line(result)


# --- keycloak_customer_user ---------------------------------------------------------------------

USER_CASES = {
    "enable, revoke, check mode": (
        dict(enabled=True, realm_roles=["customer"], roles_mode="exact"),
        True,
        "Would update user 'customer' in realm 'expertflow' (change enabled; revoke role(s) 'offline_access', "
        "'uma_authorization')",
    ),
    "enable, revoke": (
        dict(enabled=True, realm_roles=["customer"], roles_mode="exact"),
        False,
        "Updated user 'customer' in realm 'expertflow' (changed enabled; revoked role(s) 'offline_access', "
        "'uma_authorization')",
    ),
    "password always": (
        dict(update_password="always"),
        False,
        "Updated user 'customer' in realm 'expertflow' (set the password)",
    ),
    "no change": ({}, False, "User 'customer' in realm 'expertflow' is up to date"),
    "no change, check mode": ({}, True, "User 'customer' in realm 'expertflow' is up to date"),
}


@pytest.mark.parametrize("args, check, expected", list(USER_CASES.values()), ids=list(USER_CASES))
def test_keycloak_customer_user_msg(keycloak, capsys, args, check, expected):
    guide = {"realm": "expertflow", "password": PASSWORD}
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    assert run_module_main(capsys, customer_module, guide, (PASSWORD, OTHER_PASSWORD))[0]["changed"] is True
    if args.get("enabled"):
        keycloak.user_named("customer")["enabled"] = False
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    result, failed = run_module_main(capsys, customer_module, dict(guide, **args), (PASSWORD, OTHER_PASSWORD), check)
    assert not failed and result["msg"] == expected
    assert_one_line(result, PASSWORD, OTHER_PASSWORD)


# --- keycloak_client_secret_info ------------------------------------------------------------------

SECRET_INFO_CASES = {
    "read": ({}, "Read the secret of client 'cim' in realm 'expertflow'"),
    "compared": (
        {"client_secret": CIM_SECRET},
        "The given secret of client 'cim' in realm 'expertflow' is the one Keycloak holds",
    ),
    "compare_url right": (
        {"compare_url": "http://keycloak.svc"},
        "Read the secret of client 'cim' in realm 'expertflow'; compare_url has the server's base path",
    ),
    "compare_url wrong": (
        {"compare_url": "http://keycloak.svc/auth"},
        "Read the secret of client 'cim' in realm 'expertflow'; compare_url does not have the server's base path: "
        "use http://keycloak.svc",
    ),
    "compare_url with credentials": (
        {"compare_url": "http://kc-user:Url-pw-77@keycloak.svc/auth"},
        "Read the secret of client 'cim' in realm 'expertflow'; compare_url does not have the server's base path: "
        "use http://kc-user:********@keycloak.svc",
    ),
}


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
@pytest.mark.parametrize("args, expected", list(SECRET_INFO_CASES.values()), ids=list(SECRET_INFO_CASES))
def test_keycloak_client_secret_info_msg(keycloak, capsys, args, expected, check):
    result, failed = run_module_main(
        capsys, keycloak_client_secret_info, dict(realm="expertflow", **args), secrets=(), check=check
    )
    assert not failed and result["changed"] is False and result["msg"] == expected
    assert_one_line(result, CIM_SECRET, "Url-pw-77")
    assert keycloak.writes == []


# --- apisix_oidc_check (read only: what it found) -------------------------------------------------


def test_apisix_oidc_check_msg_counts_and_names_the_open_routes(tmp_path):
    path = oc_tests._file(tmp_path)  # pylint: disable=protected-access
    result, _hidden, _warnings = oc_tests._run(path, oc_tests.FakeKeycloak())  # pylint: disable=protected-access
    assert "failed" not in result
    assert result["msg"] == (
        "%s: 3 route(s) checked as the gateway does (1 ok, 2 open, 0 failed); open: 'commented', 'switched-off'" % path
    )
    assert_one_line(result, oc_tests.SECRET, oc_tests.PASSWORD)


# --- apisix_live_routes (read only: what it found) ------------------------------------------------


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
def test_apisix_live_routes_msg_counts_the_routes(capsys, check):
    args = {
        "rendered": lr.rendered([lr.route("a", lr.BLOCK), lr.route("b", lr.BLOCK), lr.route("c", lr.BLOCK)]),
        "live": [lr.configmap([lr.route("a", lr.BLOCK), lr.route("b", lr._changed(client_secret=lr.OTHER_SECRET))])],  # pylint: disable=protected-access
        "release_name": "apisix",
        "route_selector": ["openid_connect_block"],
        "_ansible_check_mode": check,
    }
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            apisix_live_routes.main()
    result = json.loads(capsys.readouterr().out)
    assert result["msg"] == (
        "ConfigMap ef-external/apisix of release 'apisix': 3 route(s) compared: 1 live, 1 stale, 1 missing; "
        "'b' stale (openid-connect differs at client_secret); 'c' missing"
    )
    assert_one_line(result, lr.SECRET, lr.OTHER_SECRET)


@pytest.mark.parametrize("check", [True, False], ids=["check mode", "run"])
def test_keycloak_customer_user_msg_counts_the_pending_action_dropped_after_the_recheck(make_keycloak, capsys, check):
    """Keycloak 19 checks no password of a disabled user: the module checks it once it enabled the user, and
    its pending UPDATE_PASSWORD goes then (not in the plan's changes): the msg says so too."""
    keycloak = make_keycloak(version="19.0.1")
    keycloak.add_role("customer")
    keycloak.add_user(
        "customer",
        password=PASSWORD,
        roles=["customer", "offline_access", "uma_authorization"],
        enabled=False,
        emailVerified=True,
        email="c@x.y",
        firstName="c",
        lastName="x",
        requiredActions=["UPDATE_PASSWORD"],
    )
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    guide = {"realm": "expertflow", "password": PASSWORD}
    result, failed = run_module_main(capsys, customer_module, guide, (PASSWORD,), check)
    assert not failed and result["msg"] == "%s user 'customer' in realm 'expertflow' (%s enabled, requiredActions)" % (
        ("Would update", "change") if check else ("Updated", "changed")
    )
    assert_one_line(result, PASSWORD)

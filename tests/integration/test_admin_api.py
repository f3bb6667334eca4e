# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""apisix_route_oidc against the Admin API emulator (tests/support), through ``ansible-playbook``.

No Keycloak and no APISIX are needed. Each test starts its own emulator on 127.0.0.1; the
``no_plugins_patch`` fixture fails any test during which ``PATCH .../plugins`` (which replaces
every plugin of a route) reached it.
"""

import copy
import json
import re
import urllib.request

import pytest

from ._admin_api import FOREIGN, PLUGIN_ARGS, ROUTES, SECRET, play, plugins_patches, seeded, without_oidc

TARGETS = ["orders-main-secured", "files-main", "admin-backend-secured"]
# Emulated releases: 3.18 (PATCH, nothing stored by itself), 3.15 (re-encrypts on PATCH: GET + PUT),
# 3.11 (re-encrypts and stores defaults), 3.9 (stores defaults, PATCH), 2.x (envelopes, top-level disable).
VERSIONS = ["3.18", "3.15", "3.11", "3.9", "2.15"]


def _args(emulator, **extra):
    args = dict(
        PLUGIN_ARGS,
        admin_url=emulator.url,
        admin_key=emulator.admin_key,
        apisix_version=emulator.apisix_version if not emulator.v2 else "2.15",
    )
    args.update(extra)
    return args


def _no_secret(emulator, *texts):
    printed = "\n".join(texts)
    for value in [SECRET, emulator.admin_key, *FOREIGN]:
        assert value not in printed, value


@pytest.mark.parametrize("version", VERSIONS)
def test_enable_check_diff_rerun_and_nothing_else_changes(tmp_path, start_emulator, version):
    emulator = start_emulator(version)
    before = {rid: emulator.stored(rid) for rid in TARGETS}
    args = _args(emulator, routes=["*-secured", "files-main"])

    rc, output, result = play(tmp_path, args, check=True, diff=True, verbosity=3)
    assert rc == 0, output[-3000:]
    assert result["changed"] is True and emulator.writes() == []  # check mode: GET only
    assert result["routes_selected"] == ["admin-backend-secured", "orders-main-secured", "files-main"]
    ids = "'admin-backend-secured', 'orders-main-secured', 'files-main'"
    others = len(ROUTES) - 3  # the glob listed every route: the rest are counted as untouched
    assert result["msg"] == "%s: openid-connect would be enabled on 3 route(s) (%s), %d other route(s) untouched" % (
        emulator.url + "/apisix/admin",
        ids,
        others,
    )
    assert [entry["before_header"] for entry in result["diff"]] == [
        "%s/apisix/admin/routes/%s (route %s)" % (emulator.url, rid, rid) for rid in result["routes_selected"]
    ]
    assert all(entry["before"] == "" and '"client_secret": "********"' in entry["after"] for entry in result["diff"])
    assert "openid-connect" in output and '+    "client_secret": "********",' in output
    assert "proxy-rewrite" not in output and "key-auth" not in output and "hmac-auth" not in output
    _no_secret(emulator, output, json.dumps(result))
    assert {rid: emulator.stored(rid) for rid in TARGETS} == before

    rc, output, result = play(tmp_path, args, diff=True, verbosity=3)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    assert [r["changed"] for r in result["routes"]] == [True, True, True]
    assert result["msg"] == "%s: openid-connect enabled on 3 route(s) (%s), %d other route(s) untouched" % (
        emulator.url + "/apisix/admin",
        ids,
        others,
    )
    _no_secret(emulator, output, json.dumps(result))
    for rid in TARGETS:
        after = emulator.stored(rid)
        assert without_oidc(after) == without_oidc(before[rid])  # other plugins and route fields identical
        block = after["plugins"]["openid-connect"]
        assert block["client_secret"] == SECRET and block["realm"] == "tenant-a" and block["bearer_only"] is True
    methods = {method for method, _path in emulator.writes()}
    assert methods == ({"PUT"} if version in ("3.15", "3.11") else {"PATCH"})
    if methods == {"PATCH"}:
        assert all(path.endswith("/plugins/openid-connect") for _m, path in emulator.writes())

    del emulator.requests[:]
    rc, output, result = play(tmp_path, args, check=True, diff=True)
    assert rc == 0 and result["changed"] is False and "diff" not in result and emulator.writes() == []
    rc, output, result = play(tmp_path, args, diff=True)
    assert rc == 0 and result["changed"] is False and emulator.writes() == [], output[-3000:]
    assert "changed=0" in output
    assert result["msg"] == "%s: openid-connect already enabled on the 3 route(s) selected (%s), %d other %s" % (
        emulator.url + "/apisix/admin",
        ids,
        others,
        "route(s) untouched",
    )


@pytest.mark.parametrize("version", ["3.18", "3.11", "2.15"])
def test_disabled_then_absent_keep_everything_else(tmp_path, start_emulator, version):
    emulator = start_emulator(version)
    before = {rid: emulator.stored(rid) for rid in TARGETS}
    args = _args(emulator, routes=TARGETS)
    assert play(tmp_path, args)[0] == 0

    rc, output, result = play(tmp_path, dict(args, state="disabled"), diff=True, verbosity=3)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    assert [(r["before"], r["after"]) for r in result["routes"]] == [("present", "disabled")] * 3
    ids = "'orders-main-secured', 'files-main', 'admin-backend-secured'"
    # no glob: the routes were read one by one, the others are not counted (no GET /routes for a message)
    assert result["msg"] == "%s: openid-connect disabled on 3 route(s) (%s)" % (emulator.url + "/apisix/admin", ids)
    for rid in TARGETS:
        block = emulator.stored(rid)["plugins"]["openid-connect"]
        assert (block["disable"] if emulator.v2 else block["_meta"]["disable"]) is True
        assert block["client_secret"] == SECRET
    _no_secret(emulator, output, json.dumps(result))
    rc, output, result = play(tmp_path, dict(args, state="disabled"))
    assert rc == 0 and result["changed"] is False

    absent = dict(admin_url=args["admin_url"], admin_key=args["admin_key"], routes=TARGETS, state="absent")
    absent["apisix_version"] = args["apisix_version"]
    rc, output, result = play(tmp_path, absent, check=True, diff=True)
    assert rc == 0 and result["changed"] is True
    assert result["msg"] == "%s: openid-connect would be removed from 3 route(s) (%s)" % (
        emulator.url + "/apisix/admin",
        ids,
    )
    assert all(entry["after"] == "" and '"client_secret": "********"' in entry["before"] for entry in result["diff"])
    rc, output, result = play(tmp_path, absent, diff=True, verbosity=3)
    assert rc == 0 and result["changed"] is True
    _no_secret(emulator, output, json.dumps(result))
    for rid in TARGETS:
        assert "openid-connect" not in (emulator.stored(rid).get("plugins") or {})
        assert without_oidc(emulator.stored(rid)) == without_oidc(before[rid])
    del emulator.requests[:]
    rc, output, result = play(tmp_path, absent)
    assert rc == 0 and result["changed"] is False and emulator.writes() == []
    assert [(r["before"], r["after"]) for r in result["routes"]] == [("absent", "absent")] * 3
    assert result["msg"] == "%s: openid-connect already absent from the 3 route(s) selected (%s)" % (
        emulator.url + "/apisix/admin",
        ids,
    )


def test_3_11_path_leaves_client_secret_intact_where_patch_would_corrupt_it(tmp_path, start_emulator):
    emulator = start_emulator("3.11")
    args = _args(emulator, routes=["files-main"])
    assert play(tmp_path, args)[0] == 0
    rc, _output, _result = play(tmp_path, dict(args, state="disabled"))
    assert rc == 0 and emulator.stored("files-main")["plugins"]["openid-connect"]["client_secret"] == SECRET
    assert [m for m, _p in emulator.writes()] == ["PUT", "PUT"]
    # the control: a PATCH on this emulated release corrupts the secret, as APISIX 3.10-3.17 do
    request = urllib.request.Request(
        emulator.url + "/apisix/admin/routes/files-main",
        data=json.dumps({"desc": "touched"}).encode(),
        method="PATCH",
        headers={"X-API-KEY": emulator.admin_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    assert emulator.stored("files-main")["plugins"]["openid-connect"]["client_secret"] != SECRET
    # ... which the module sees as a change and repairs
    rc, _output, result = play(tmp_path, dict(args, state="disabled"))
    assert rc == 0 and result["changed"] is True
    assert emulator.stored("files-main")["plugins"]["openid-connect"]["client_secret"] == SECRET


def test_the_plugins_patch_guard_can_fail():
    """The guard of ``start_emulator`` (conftest) sees a ``PATCH .../plugins`` (sent by hand, not by the module)."""
    emulator = seeded("3.18")
    request = urllib.request.Request(
        emulator.url + "/apisix/admin/routes/files-main/plugins",
        data=json.dumps({"key-auth": {"key": "x"}}).encode(),
        method="PATCH",
        headers={"X-API-KEY": emulator.admin_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    emulator.stop()
    assert plugins_patches(emulator) == [("PATCH", "/apisix/admin/routes/files-main/plugins")]


def test_stored_config_with_other_keys_is_rewritten_and_stored_defaults_are_not_a_change(tmp_path, start_emulator):
    emulator = start_emulator("3.9")
    args = _args(emulator, routes=["files-main"])
    assert play(tmp_path, args)[0] == 0
    block = emulator.stored("files-main")["plugins"]["openid-connect"]
    assert block["scope"] == "openid" and block["timeout"] == 3  # stored defaults (before 3.14)
    rc, output, result = play(tmp_path, args)
    assert result["changed"] is False and "does not manage" not in output  # stored defaults: no hand-added keys
    # a key the module does not write, with a value other than the default: kept, named in a warning
    route = emulator.stored("files-main")
    route["plugins"]["openid-connect"]["timeout"] = 30
    emulator.seed({k: v for k, v in route.items() if k not in ("create_time", "update_time")})
    rc, output, result = play(tmp_path, args, diff=True)
    assert rc == 0 and result["changed"] is False and "keys the module does not manage were kept" in output
    # ... or, with unmanaged_keys=remove, the next run replaces the config
    rc, output, result = play(tmp_path, dict(args, unmanaged_keys="remove"), diff=True)
    assert rc == 0 and result["changed"] is True
    assert '-    "timeout": 30' in output and '"scope"' not in output  # a stored default is not shown as removed
    assert emulator.stored("files-main")["plugins"]["openid-connect"]["timeout"] == 3


@pytest.mark.parametrize("version", ["3.11", "2.15"])
def test_hand_added_keys_are_kept_and_named_without_values(tmp_path, start_emulator, version):
    """ssl_verify, introspection_interval, session.secret, _meta.priority added by hand: kept by default, named in
    one warning (routes and key paths, never values), dropped with unmanaged_keys=remove; the stored defaults of
    the release are none of them."""
    emulator = start_emulator(version)
    hand_secret = "Hand-added-session-secret-4711"
    hand = {"ssl_verify": True, "introspection_interval": 61, "session": {"secret": hand_secret}}
    if not emulator.v2:
        hand["_meta"] = {"priority": 7}
    args = _args(emulator, routes=TARGETS)
    assert play(tmp_path, args)[0] == 0
    for rid in TARGETS[:2]:
        route = emulator.stored(rid)
        route["plugins"]["openid-connect"].update(copy.deepcopy(hand))
        emulator.seed({k: v for k, v in route.items() if k not in ("create_time", "update_time")})

    rc, output, result = play(tmp_path, dict(args, realm="tenant-b"), diff=True, verbosity=3)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    warnings = [line for line in output.splitlines() if "keys the module does not manage" in line]
    assert len(warnings) == 1, warnings
    assert "'orders-main-secured': " in warnings[0] and "'files-main': " in warnings[0]
    assert "'admin-backend-secured'" not in warnings[0]
    for path in ["ssl_verify", "introspection_interval", "session.secret"] + ([] if emulator.v2 else ["_meta"]):
        assert path in warnings[0]
    # no value in the warning (the Admin API's URL aside: its port may hold the digits)
    assert "61" not in re.sub(r"https?://\S+", "", warnings[0]) and hand_secret not in output + json.dumps(result)
    _no_secret(emulator, output, json.dumps(result))
    for rid in TARGETS[:2]:
        block = emulator.stored(rid)["plugins"]["openid-connect"]
        assert block["realm"] == "tenant-b" and all(block[key] == value for key, value in hand.items())

    rc, output, result = play(tmp_path, dict(args, realm="tenant-b", unmanaged_keys="remove"), diff=True)
    assert rc == 0 and [r["changed"] for r in result["routes"]] == [True, True, False], output[-3000:]
    assert "removed (unmanaged_keys=remove)" in output and '-    "introspection_interval": 61' in output
    for rid in TARGETS:
        block = emulator.stored(rid)["plugins"]["openid-connect"]
        assert not set(hand) & set(block) - {"ssl_verify"} and block["ssl_verify"] is False  # the stored default
    rc, output, result = play(tmp_path, dict(args, realm="tenant-b"))
    assert rc == 0 and result["changed"] is False and "does not manage" not in output


def test_route_selectors_on_the_admin_api(tmp_path, start_emulator):
    emulator = start_emulator()
    rc, output, result = play(tmp_path, _args(emulator, routes=["*-unknown"]))
    assert rc != 0 and "'*-unknown'" in output and "matches no route id" in output and emulator.writes() == []
    rc, output, result = play(tmp_path, _args(emulator, route_selector=["openid_connect_block"]))
    assert rc != 0 and "route_selector=openid_connect_block only applies to route files (path)" in output
    assert emulator.writes() == []
    rc, output, result = play(tmp_path, _args(emulator, routes=["orders-*"]), check=True)
    assert rc == 0 and result["routes_selected"] == ["orders-login-public", "orders-main-secured"]


def test_2x_envelope_with_a_3x_version_is_understood_and_a_3x_server_with_a_2x_version_refused(
    tmp_path, start_emulator
):
    v2 = start_emulator("2.15")
    rc, output, result = play(tmp_path, _args(v2, routes=["files-main"], apisix_version="3.18"), check=True)
    assert rc == 0 and result["changed"] is True  # a 3.x server with admin_api_version v2 answers the same way
    v3 = start_emulator("3.18")
    rc, output, result = play(tmp_path, _args(v3, routes=["files-main"], apisix_version="2.15"))
    assert rc != 0 and "answers as APISIX 3.x, but apisix_version is 2.15" in output and v3.writes() == []


def test_emulator_cli_start_and_stop(tmp_path):
    import subprocess
    import sys

    from ._admin_api import EMULATOR_SCRIPT

    seed = tmp_path / "routes.json"
    seed.write_text(json.dumps(ROUTES))
    state = tmp_path / "emulator.json"
    started = subprocess.run(
        [
            sys.executable,
            EMULATOR_SCRIPT,
            "start",
            "--port",
            "0",
            "--version",
            "3.11",
            "--state-file",
            str(state),
            "--routes",
            str(seed),
            "--slow",
            "files-main=0.2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    info = json.loads(started.stdout)
    assert json.loads(state.read_text()) == info and oct(state.stat().st_mode & 0o777) == "0o600"
    try:
        request = urllib.request.Request(
            info["url"] + "/apisix/admin/routes/files-main", headers={"X-API-KEY": info["admin_key"]}
        )
        with urllib.request.urlopen(request) as answer:
            assert json.loads(answer.read())["value"]["uri"] == "/files/*"
        rc, output, result = play(
            tmp_path, dict(PLUGIN_ARGS, admin_url=info["url"], admin_key=info["admin_key"], routes=["files-main"])
        )
        assert rc == 0 and result["changed"] is True, output[-2000:]
    finally:
        subprocess.run([sys.executable, EMULATOR_SCRIPT, "stop", "--state-file", str(state)], check=True, timeout=60)
    assert not state.exists()
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(info["pid"], 0)


@pytest.mark.parametrize("version", ["3.11", "2.15"])
def test_credentials_in_urls_never_printed(tmp_path, start_emulator, version):
    """A proxy URL with user:password@ in the stored block and in extra_config: masked in --diff at -vvv, in
    result.diff and result.config, and in a failure naming a URL."""
    emulator = start_emulator(version)
    stored_url, given_url = "http://old:Url-PASS-1@proxy:3128", "http://new:Url-PASS-2@proxy:3128"
    route = emulator.stored("files-main")
    route["plugins"]["openid-connect"] = {
        "discovery": "http://kc/realms/tenant-a/.well-known/openid-configuration",
        "realm": "old",
        "client_id": "cim",
        "client_secret": SECRET,
        "proxy_opts": {"http_proxy": stored_url},
    }
    emulator.seed({k: v for k, v in route.items() if k not in ("create_time", "update_time")})
    args = _args(emulator, routes=["files-main"], extra_config={"proxy_opts": {"https_proxy": given_url}})
    rc, output, result = play(tmp_path, args, diff=True, verbosity=3)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    printed = output + json.dumps(result)
    assert "Url-PASS" not in printed
    assert "http://old:********@proxy:3128" in printed and "http://new:********@proxy:3128" in printed
    assert emulator.stored("files-main")["plugins"]["openid-connect"]["proxy_opts"]["https_proxy"] == given_url
    rc, output, result = play(tmp_path, dict(args, keycloak_url="ftp://kc:Url-PASS-3@kc"), verbosity=3)
    assert rc != 0 and "ftp://kc:********@kc" in result["msg"] and "Url-PASS" not in output + json.dumps(result)

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What apisix_route_oidc prints, on both targets (a route file and the Admin API emulator, in-process):
a credential-only change is named in the diff, credentials inside URLs are masked, keys the module does
not manage are kept and named (never their values)."""

import copy
import json
import os
import re
import sys

import pytest

from .test_apisix_route_oidc import PLUGIN_ARGS, SECRET, _copy, _warnings, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "support"))
import apisix_admin_emulator

NEW_SECRET = "Zq9-unit-test-other-secret"
PROXY_AUTH = "Basic cHJveHktdXNlcjpwcm94eS1wYXNz"
NEW_PROXY_AUTH = "Basic bmV3LXVzZXI6bmV3LXBhc3M="
ROUTE = {"id": "files-main", "uri": "/files/*", "upstream": {"type": "roundrobin", "nodes": {"files:80": 1}}}

# (credential path, arguments before, arguments after): one change of one credential each
SECRET_CHANGES = [
    ("client_secret", {}, {"client_secret": NEW_SECRET}),
    (
        "proxy_opts.http_proxy_authorization",
        {"secret_config": {"proxy_opts": {"http_proxy_authorization": PROXY_AUTH}}},
        {"secret_config": {"proxy_opts": {"http_proxy_authorization": NEW_PROXY_AUTH}}},
    ),
]
HIDDEN = (SECRET, NEW_SECRET, PROXY_AUTH, NEW_PROXY_AUTH, "cHJveHktdXNlcjpwcm94eS1wYXNz", "bmV3LXVzZXI6bmV3LXBhc3M=")


@pytest.fixture
def emulator():
    """An Admin API emulator (tests/support) in this process, with one route."""
    started = []

    def start(version="3.18", routes=(ROUTE,)):
        emu = apisix_admin_emulator.Emulator(version)
        for route in routes:
            emu.seed(copy.deepcopy(route))
        started.append(emu.start())
        return emu

    yield start
    for emu in started:
        emu.stop()


def _admin(emu, **extra):
    args = dict(PLUGIN_ARGS, admin_url=emu.url, admin_key=emu.admin_key, routes=["files-main"])
    args["apisix_version"] = "2.15" if emu.v2 else emu.apisix_version
    args.update(extra)
    return args


def _file(path, **extra):
    return dict(PLUGIN_ARGS, path=str(path), routes=["catchall"], **extra)


def _no_secret(result, *more):
    for value in HIDDEN + more:
        assert value not in result["_output"], value


# --- a credential-only change ----------------------------------------------------------------------


@pytest.mark.parametrize("path_name, first, second", SECRET_CHANGES, ids=[c[0] for c in SECRET_CHANGES])
def test_file_diff_names_a_changed_credential(tmp_path, capsys, path_name, first, second):
    path = _copy(tmp_path)
    assert run(capsys, **_file(path, **first))["changed"] is True
    result = run(capsys, diff=True, check=True, **_file(path, **dict(first, **second)))
    assert result["changed"] is True and len(result["diff"]) == 1
    entry = result["diff"][0]
    assert entry["before"] != entry["after"]  # masked, the lines are the same: the note tells the change
    assert entry["after"].endswith("# %s changed (values not shown)\n" % path_name)
    assert "changed (values not shown)" not in entry["before"]
    _no_secret(result)
    # no note when no credential changed
    result = run(capsys, diff=True, check=True, **_file(path, **dict(first, realm="tenant-b")))
    assert "changed (values not shown)" not in result["diff"][0]["after"]


@pytest.mark.parametrize("version", ["3.18", "3.11", "2.15"])
@pytest.mark.parametrize("path_name, first, second", SECRET_CHANGES, ids=[c[0] for c in SECRET_CHANGES])
def test_admin_api_diff_names_a_changed_credential(capsys, emulator, version, path_name, first, second):
    emu = emulator(version)
    assert run(capsys, **_admin(emu, **first))["changed"] is True
    result = run(capsys, diff=True, check=True, **_admin(emu, **dict(first, **second)))
    assert result["changed"] is True and len(result["diff"]) == 1
    entry = result["diff"][0]
    assert entry["after"].endswith("# %s changed (values not shown)\n" % path_name)
    assert "changed (values not shown)" not in entry["before"]
    _no_secret(result, emu.admin_key)
    result = run(capsys, diff=True, check=True, **_admin(emu, **dict(first, realm="tenant-b")))
    assert "changed (values not shown)" not in result["diff"][0]["after"]


# --- credentials inside URLs -------------------------------------------------------------------------

URL_PASSWORD = "Pr0xy-PASS-in-url"
URL_TOKEN = "ghp-url-token-4711"
# (key path in the block, a URL with credentials, what is printed instead)
URL_VALUES = [
    ("proxy_opts.http_proxy", "http://puser:%s@proxy:3128" % URL_PASSWORD, "http://puser:********@proxy:3128"),
    ("proxy_opts.https_proxy", "http://puser:%s@proxy:3128" % URL_PASSWORD, "http://puser:********@proxy:3128"),
    ("introspection_endpoint", "https://%s@kc/introspect" % URL_TOKEN, "https://********@kc/introspect"),
    ("redirect_uri", "https://puser:%s@app/cb" % URL_PASSWORD, "https://puser:********@app/cb"),
]
URL_IDS = [case[0] for case in URL_VALUES]


def _nested(path, value):
    node = value
    for part in reversed(path.split(".")):
        node = {part: node}
    return node


def _route_file(tmp_path, block_lines):
    path = tmp_path / "apisix.yaml"
    path.write_text(
        "routes:\n  - id: files-main\n    uri: /files/*\n    plugins:\n      openid-connect:\n"
        + "".join("        %s\n" % line for line in block_lines)
        + "    upstream:\n      nodes:\n        files:80: 1\n#END\n"
    )
    return path


def _no_url_secret(result, shown=None):
    assert URL_PASSWORD not in result["_output"] and URL_TOKEN not in result["_output"]
    if shown:
        assert shown in result["_output"]


@pytest.mark.parametrize("key, url, shown", URL_VALUES, ids=URL_IDS)
def test_file_target_masks_urls_of_the_block_and_of_extra_config(tmp_path, capsys, key, url, shown):
    # in extra_config: the config result and the diff
    path = _route_file(tmp_path, ["realm: old", "client_secret: %s" % SECRET])
    args = dict(PLUGIN_ARGS, path=str(path), routes=["files-main"], extra_config=_nested(key, url))
    result = run(capsys, diff=True, **args)
    assert result["_rc"] == 0 and result["changed"] is True, result["_output"]
    assert url in path.read_text()  # written as given
    _no_url_secret(result, shown)
    assert shown in result["diff"][0]["after"]
    assert json.dumps(result["config"]).count("********@") == 1
    # in the block read from the file: the before side
    path.write_text(path.read_text().replace("realm: tenant-a", "realm: old"))
    args["extra_config"], args["unmanaged_keys"] = {}, "remove"  # the URL's line goes: shown on the before side
    result = run(capsys, diff=True, check=True, **args)
    assert result["changed"] is True
    _no_url_secret(result, shown)
    assert shown in result["diff"][0]["before"]


@pytest.mark.parametrize("key, url, shown", URL_VALUES, ids=URL_IDS)
def test_admin_api_masks_urls_of_the_stored_block_and_of_extra_config(capsys, emulator, key, url, shown):
    emu = emulator("3.18")
    result = run(capsys, diff=True, **_admin(emu, extra_config=_nested(key, url)))
    assert result["_rc"] == 0 and result["changed"] is True, result["_output"]
    assert url in json.dumps(emu.stored("files-main"))
    _no_url_secret(result, shown)
    assert shown in result["diff"][0]["after"] and shown in json.dumps(result["config"])
    result = run(capsys, diff=True, check=True, **_admin(emu, realm="tenant-b"))
    assert result["changed"] is True
    _no_url_secret(result, shown)
    assert shown in result["diff"][0]["before"]


@pytest.mark.parametrize(
    "args, shown",
    [
        (dict(keycloak_url="ftp://kcuser:%s@kc/auth" % URL_PASSWORD), "ftp://kcuser:********@kc/auth"),
        (dict(admin_url="ftp://admin:%s@gw:9180" % URL_PASSWORD), "ftp://admin:********@gw:9180"),
        (dict(admin_url="http://%s@gw:9180" % URL_TOKEN), "admin_url must be a plain URL"),
    ],
    ids=["keycloak_url", "admin_url-scheme", "admin_url-user"],
)
def test_error_messages_naming_a_url_mask_its_credentials(tmp_path, capsys, args, shown):
    base = dict(PLUGIN_ARGS, routes=["files-main"])
    if "admin_url" not in args:
        base["path"] = str(_route_file(tmp_path, ["realm: old"]))
    result = run(capsys, **dict(base, **args))
    assert result["_rc"] != 0 and shown in result["msg"], result["msg"]
    _no_url_secret(result)


# --- keys the module does not manage (Admin API) -----------------------------------------------------

HAND_SECRET = "Hand-added-session-secret-0815"


def _hand_keys(emu):
    """Hand-added keys, none with the release's default (ssl_verify defaults to true from 3.16)."""
    keys = {"ssl_verify": emu.version < (3, 16, 0), "introspection_interval": 60, "session": {"secret": HAND_SECRET}}
    if not emu.v2:
        keys["_meta"] = {"priority": 5}
    return keys


def _seed_block(emu, block):
    route = dict(ROUTE, plugins={"openid-connect": block})
    emu.seed(copy.deepcopy(route))


def _desired(emu):
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc

    params = dict(PLUGIN_ARGS, apisix_version="2.15" if emu.v2 else emu.apisix_version)
    for name, spec in oidc.OIDC_PLUGIN_ARGUMENT_SPEC.items():
        params.setdefault(name, spec.get("default"))
    return oidc.build_config(params)


def _unmanaged_warnings(result):
    return [w for w in _warnings(result) if "keys the module does not manage" in w]


@pytest.mark.parametrize("version", ["3.18", "3.11", "2.15"])
def test_admin_api_keeps_unmanaged_keys_by_default_and_removes_them_on_request(capsys, emulator, version):
    emu = emulator(version)
    hand = _hand_keys(emu)
    _seed_block(emu, dict(_desired(emu), **hand))
    paths = ["ssl_verify", "introspection_interval", "session.secret"] + ([] if emu.v2 else ["_meta.priority"])

    result = run(capsys, diff=True, **_admin(emu))  # the managed keys hold: nothing to write, one warning
    assert result["_rc"] == 0 and result["changed"] is False and emu.writes() == [], result["_output"]
    (warning,) = _unmanaged_warnings(result)
    assert "'files-main': " in warning and "kept as they are (unmanaged_keys=keep" in warning
    # no value in the warning (the Admin API's URL aside: its port may hold the digits)
    assert all(path in warning for path in paths) and "60" not in re.sub(r"https?://\S+", "", warning)
    assert HAND_SECRET not in result["_output"]

    result = run(capsys, diff=True, **_admin(emu, realm="tenant-b"))  # a change keeps them
    assert result["changed"] is True and len(_unmanaged_warnings(result)) == 1
    block = emu.stored("files-main")["plugins"]["openid-connect"]
    assert block["realm"] == "tenant-b" and all(block[key] == value for key, value in hand.items())
    assert '"introspection_interval": 60' in result["diff"][0]["before"]
    assert '"introspection_interval": 60' in result["diff"][0]["after"]
    assert HAND_SECRET not in result["_output"]

    result = run(capsys, diff=True, check=True, **_admin(emu, realm="tenant-b", unmanaged_keys="remove"))
    assert result["changed"] is True and emu.stored("files-main")["plugins"]["openid-connect"]["session"]
    (warning,) = _unmanaged_warnings(result)
    assert "removed (unmanaged_keys=remove)" in warning and all(path in warning for path in paths)
    assert '"introspection_interval": 60' not in result["diff"][0]["after"]
    result = run(capsys, **_admin(emu, realm="tenant-b", unmanaged_keys="remove"))
    block = emu.stored("files-main")["plugins"]["openid-connect"]
    assert result["changed"] is True and not any(key in block for key in ("introspection_interval", "session", "_meta"))
    # stored defaults (3.11, 2.15 store ssl_verify: false, timeout: 3 ...) are no hand-added keys
    for keys in ("keep", "remove"):
        result = run(capsys, **_admin(emu, realm="tenant-b", unmanaged_keys=keys))
        assert result["changed"] is False and _unmanaged_warnings(result) == [], _warnings(result)
    assert HAND_SECRET not in result["_output"]


def test_admin_api_kept_keys_invalid_for_the_release_are_refused(capsys, emulator):
    """use_par: accepted (ignored) by 3.17, rejected by 3.18: kept into a 3.18 config, nothing is written."""
    emu = emulator("3.17")
    _seed_block(emu, dict(_desired(emu), use_par=True))
    result = run(capsys, **_admin(emu, apisix_version="3.18", realm="tenant-b"))
    assert result["_rc"] != 0 and emu.writes() == []
    assert "route 'files-main'" in result["msg"] and "keeps keys the module does not manage (use_par)" in result["msg"]
    assert "use_par: is rejected by APISIX 3.18" in result["msg"] and "unmanaged_keys=remove" in result["msg"]
    result = run(capsys, **_admin(emu, apisix_version="3.18", realm="tenant-b", unmanaged_keys="remove"))
    assert result["_rc"] == 0 and "use_par" not in emu.stored("files-main")["plugins"]["openid-connect"]

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What apisix_route_oidc prints, on both targets (a route file and the Admin API emulator, in-process):
a credential-only change is named in the diff, credentials inside URLs are masked, keys the module does
not manage are kept and named (never their values)."""

import copy
import os
import sys

import pytest

from .test_apisix_route_oidc import PLUGIN_ARGS, SECRET, _copy, run

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

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the apisix_route_oidc module, run in-process on files in tmp dirs."""

import errno
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.modules import apisix_route_oidc as module

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "apisix")
SECRET = "Zq9-unit-test-client-secret"
OLD_SECRET = "00000000-0000-0000-0000-000000000000"  # in the helm sample
PLUGIN_ARGS = dict(keycloak_url="http://keycloak.ef-external.svc/auth", realm="tenant-a", client_secret=SECRET)


def _copy(tmp_path, name="helm-values-standalone.yaml.sample"):
    path = tmp_path / name
    shutil.copyfile(os.path.join(FIXTURES, name), path)
    path.chmod(0o640)
    return path


def run(capsys, check=False, diff=False, **args):
    # AnsibleModule keeps warnings in a process-wide table: each run here starts with none
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as info:
            module.main()
    output = capsys.readouterr().out
    result = json.loads(output)
    result["_rc"] = info.value.code
    result["_output"] = output
    return result


def _warnings(result):
    """Warning texts (ansible-core 2.19+ returns them as structured summaries)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def _route_block(path, route_id):
    data = yaml.safe_load(path.read_text())
    routes = data["apisixStandalone"]["routes"] if "apisixStandalone" in data else data["routes"]
    route = [r for r in routes if str(r["id"]) == route_id][0]
    return (route.get("plugins") or {}).get("openid-connect")


def test_present_then_idempotent(tmp_path, capsys):
    path = _copy(tmp_path)
    result = run(capsys, path=str(path), routes=["catchall", "files-main", "orders-main-secured"], **PLUGIN_ARGS)
    assert result["_rc"] == 0 and result["changed"] is True
    assert [{key: r[key] for key in ("id", "before", "after", "changed")} for r in result["routes"]] == [
        {"id": "catchall", "before": "absent", "after": "present", "changed": True},
        {"id": "files-main", "before": "present", "after": "present", "changed": True},
        {"id": "orders-main-secured", "before": "commented", "after": "present", "changed": True},
    ]
    # where each route matches requests, as the report shows it: read from the route, never from a plugin
    data = yaml.safe_load(path.read_text())["apisixStandalone"]["routes"]
    for entry in result["routes"]:
        route = [r for r in data if str(r["id"]) == entry["id"]][0]
        uris = [route["uri"]] if "uri" in route else route.get("uris", [])
        hosts = [route["host"]] if "host" in route else route.get("hosts", [])
        assert (entry["uris"], entry["hosts"]) == (uris, hosts), entry
    assert result["routes"][0]["uris"] == ["/*"]
    assert result["routes_key"] == "apisixStandalone.routes"
    assert result["config"]["client_secret"] == "********" and result["config"]["realm"] == "tenant-a"
    assert any("audience is not enforced by stock APISIX" in w for w in _warnings(result))
    assert any(
        "route(s) 'files-main' had an openid-connect block with enable: false" in w and "ACTIVE" in w
        for w in _warnings(result)
    )
    block = _route_block(path, "catchall")
    assert block["client_secret"] == SECRET
    assert block["discovery"] == "http://keycloak.ef-external.svc/auth/realms/tenant-a/.well-known/openid-configuration"
    assert "config_notes" not in result
    again = run(capsys, path=str(path), routes=["catchall", "files-main", "orders-main-secured"], **PLUGIN_ARGS)
    assert again["changed"] is False and all(not r["changed"] for r in again["routes"])
    assert SECRET not in result["_output"] and SECRET not in again["_output"]
    # nothing written: what cannot be acted on every night is reported, not warned
    assert not _warnings(again)
    assert [note for note in again["config_notes"] if "audience is not enforced" in note and "'catchall'" in note]


def test_check_mode_predicts_and_writes_nothing(tmp_path, capsys):
    path = _copy(tmp_path)
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    result = run(capsys, check=True, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert result["changed"] is True and path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert sorted(os.listdir(tmp_path)) == [path.name]
    run(capsys, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert run(capsys, check=True, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)["changed"] is False


def test_diff_is_one_entry_per_changed_route_with_secrets_masked(tmp_path, capsys):
    path = _copy(tmp_path)
    original = path.read_text()
    result = run(
        capsys,
        check=True,
        diff=True,
        path=str(path),
        routes=["portal-main", "files-main", "portal-assets"],
        **dict(PLUGIN_ARGS, write_enable_key=True),
    )
    diff = result["diff"]
    # file order, only routes whose text changes (portal-assets is before files-main in the file)
    assert [entry["before_header"] for entry in diff] == [
        "%s (route %s)" % (path, name) for name in ("portal-main", "portal-assets", "files-main")
    ]
    assert all(entry["after_header"] == entry["before_header"] for entry in diff)
    files_main = diff[2]
    # only what the module owns: the plugins: line, the block's key line and the lines it changes
    assert files_main["before"].startswith("       plugins:\n         openid-connect:\n           enable: false")
    assert 'client_secret: "********"' in files_main["before"] and "proxy-rewrite" not in files_main["before"]
    assert "- id: files-main" not in files_main["before"] and "uris:" not in files_main["before"]
    assert diff[0]["before"] == "       plugins:\n"
    assert diff[0]["after"].startswith(
        "       plugins:\n         openid-connect:\n           enable: true\n"
        '           discovery: "http://keycloak.ef-external.svc/auth/realms/tenant-a'
    )
    assert 'client_secret: "********"' in files_main["after"] and "proxy-rewrite" not in files_main["after"]
    for entry in diff:
        assert len(entry["before"]) < len(original) / 5
    for text in [entry[side] for entry in diff for side in ("before", "after")] + [result["_output"]]:
        assert SECRET not in text and OLD_SECRET not in text


UNKNOWN = (
    "Unkn0wn-key-auth-S1",
    "Unkn0wn-hmac-S2",
    "Unkn0wn-commented-S3",
    "Unkn0wn-quoted-S4",
    "Unkn0wn-admin-S5",
    "Unkn0wn-flow-S6",
    "Unkn0wn-block-S7",
)


def test_secrets_unknown_to_the_module_never_leave_it(tmp_path, capsys):
    """Credentials of other plugins and of the chart: not no_log values, so only the module can hide them."""
    path = _copy(tmp_path)
    text = path.read_text()
    text = text.replace("apisixStandalone:\n", "adminCredentials:\n  admin: %s\n\napisixStandalone:\n" % UNKNOWN[4], 1)
    anchor = "           config: { max_body_size: 6291456 }\n"
    assert text.count(anchor) == 1
    text = text.replace(
        anchor,
        anchor
        + (
            "         key-auth:\n"
            "           key: %s\n"
            "         hmac-auth: {access_key: ak, secret_key: %s, algorithms: [hmac-sha256]}\n"
            "#         jwt-auth:\n"
            "#           client_secret: %s\n"
            "         basic-auth:\n"
            "           \"password\": '%s'\n"
            '         wolf-rbac: {secret: "%s"}\n'
            "         jwt-auth:\n"
            "           secret: |\n"
            "             %s\n"
        )
        % (UNKNOWN[0], UNKNOWN[1], UNKNOWN[2], UNKNOWN[3], UNKNOWN[5], UNKNOWN[6]),
    )
    path.write_text(text)
    for check in (True, False):
        result = run(capsys, check=check, diff=True, path=str(path), routes=["portal-main", "catchall"], **PLUGIN_ARGS)
        assert result["_rc"] == 0 and result["changed"] is True
        assert len(result["diff"]) == 2 and "openid-connect:" in result["diff"][0]["after"]
        assert not any(name in json.dumps(result["diff"]) for name in ("key-auth", "hmac-auth", "basic-auth", "jwt"))
        shown = json.dumps(result) + result["_output"]
        for secret in UNKNOWN:
            assert secret not in shown, secret
    assert path.read_text().count(UNKNOWN[0]) == 1  # the file itself keeps them


def test_no_diff_key_without_diff_mode(tmp_path, capsys):
    result = run(capsys, check=True, path=str(_copy(tmp_path)), routes=["portal-main"], **PLUGIN_ARGS)
    assert "diff" not in result


def test_backup_mode_and_symlink(tmp_path, capsys):
    path = _copy(tmp_path)
    original = path.read_bytes()
    os.chmod(path, 0o604)
    link = tmp_path / "values-link.yaml"
    link.symlink_to(path.name)
    result = run(capsys, path=str(link), routes=["portal-main"], backup=True, **PLUGIN_ARGS)
    assert result["changed"] is True
    backup = result["backup_file"]
    assert os.path.exists(backup) and open(backup, "rb").read() == original
    assert link.is_symlink() and os.readlink(link) == path.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o604
    assert path.read_bytes() != original
    leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert leftovers == []
    unchanged = run(capsys, path=str(link), routes=["portal-main"], backup=True, **PLUGIN_ARGS)
    assert "backup_file" not in unchanged


def test_disabled_then_absent_styles(tmp_path, capsys):
    path = _copy(tmp_path, "apisix-standalone.yaml.sample")
    original = path.read_text()
    result = run(capsys, path=str(path), routes=["orders-health", "reports"], state="disabled", **PLUGIN_ARGS)
    assert [r["before"] for r in result["routes"]] == ["absent", "disabled"]
    assert [r["after"] for r in result["routes"]] == ["disabled", "disabled"]
    assert _route_block(path, "orders-health")["_meta"] == {"disable": True}
    assert path.read_text().endswith("#END\n")
    result = run(capsys, path=str(path), routes=["orders-health"], state="absent", absent_style="comment")
    assert [{key: r[key] for key in ("id", "before", "after", "changed")} for r in result["routes"]] == [
        {"id": "orders-health", "before": "disabled", "after": "commented", "changed": True}
    ]
    assert "config" not in result
    assert _route_block(path, "orders-health") is None and "#      openid-connect:" in path.read_text()
    result = run(capsys, path=str(path), routes=["orders-health", "reports"], state="absent")
    assert [r["changed"] for r in result["routes"]] == [False, True]
    assert result["routes"][0]["after"] == "commented"
    back = run(capsys, path=str(path), routes=["orders-health"], **PLUGIN_ARGS)
    assert back["routes"][0]["before"] == "commented"
    run(capsys, path=str(path), routes=["orders-health"], state="absent")
    reports_block = original[
        original.index('    plugins:\n      openid-connect:\n        discovery: "https://sso') : original.rindex("#END")
    ]
    assert path.read_text() == original.replace(reports_block, "")


def test_write_enable_key_and_version_2(tmp_path, capsys):
    path = _copy(tmp_path)
    run(capsys, path=str(path), routes=["portal-main"], write_enable_key=True, **PLUGIN_ARGS)
    assert list(_route_block(path, "portal-main"))[0] == "enable"
    run(
        capsys,
        path=str(path),
        routes=["portal-main"],
        write_enable_key=True,
        state="disabled",
        apisix_version="2.15",
        **PLUGIN_ARGS,
    )
    block = _route_block(path, "portal-main")
    assert block["enable"] is False and block["disable"] is True and "_meta" not in block


def test_guide_sample_round_trip_through_the_module(tmp_path, capsys):
    path = _copy(tmp_path)
    original = path.read_bytes()
    args = dict(
        PLUGIN_ARGS, path=str(path), routes=["orders-main-secured", "catchall", "scheduler-main"], write_enable_key=True
    )
    args.update(keycloak_url="http://keycloak.identity.svc/auth", client_secret=OLD_SECRET)
    run(capsys, **args)
    run(capsys, path=str(path), routes=["orders-main-secured"], state="absent", absent_style="comment")
    run(capsys, path=str(path), routes=["catchall", "scheduler-main"], state="absent")
    assert path.read_bytes() == original


def test_other_routes_with_enable_false_warn(tmp_path, capsys):
    path = _copy(tmp_path)
    result = run(capsys, check=True, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert any(
        w.startswith("route(s) 'files-main' in %s have an openid-connect block with enable: false" % path)
        and "IS ACTIVE" in w
        for w in _warnings(result)
    )


def test_missing_end_marker_and_duplicates_warn(tmp_path, capsys):
    path = tmp_path / "apisix.yaml"
    path.write_text("routes:\n- id: a\n- id: b\n- id: b\n")
    result = run(capsys, path=str(path), routes=["a"], **PLUGIN_ARGS)
    assert result["changed"] is True
    assert any("does not end with #END" in w for w in _warnings(result))
    assert any("duplicate route ids under routes: 'b'" in w for w in _warnings(result))


def test_bom_and_crlf_preserved(tmp_path, capsys):
    path = tmp_path / "values.yaml"
    original = "\ufeffapisixStandalone:\r\n  routes:\r\n  - id: a\r\n    uri: /a\r\n"
    path.write_bytes(original.encode("utf-8"))
    run(capsys, path=str(path), routes=["a"], **PLUGIN_ARGS)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
    run(capsys, path=str(path), routes=["a"], state="absent")
    assert path.read_bytes() == original.encode("utf-8")


@pytest.mark.parametrize(
    "content, args, pattern",
    [
        (None, {}, r"path .*/missing.yaml does not exist"),
        (b"routes:\n  - id: a\n    uri: [/a\n", {}, r"values.yaml is not valid YAML: .* at line 4, column 1"),
        (b"\xff\xfe", {}, r"values.yaml is not UTF-8 text \(byte 0\)"),
        (b"{{- if .Values.x }}\nroutes: []\n", {}, r"looks like a Helm template, not a values file: line 1"),
        (
            b"routes:\n- id: a\n",
            {"routes_key": "apisixStandalone.routes"},
            r"routes_key apisixStandalone.routes not found",
        ),
        (
            b"routes:\n- id: a\n- id: b\n",
            {"routes": ["a", "c"]},
            r"unknown route id 'c' under routes; route ids in the file: a, b",
        ),
        (b"routes:\n- id: a\n- id: a\n", {}, r"duplicate route id under routes: 'a' \(lines 2, 3\)"),
        (b"routes:\n- {id: a}\n", {}, r"route 'a' is written as a flow mapping"),
        (
            b"routes:\n- id: a\n",
            {"client_secret": None},
            r"invalid openid-connect config for APISIX 3.11 on route\(s\) 'a': client_secret: is required",
        ),
        (
            b"routes:\n- id: a\n",
            {"extra_config": {"timeout": "3"}},
            r"on route\(s\) 'a': timeout: must be of type integer, got str",
        ),
        (b"routes:\n- id: a\n", {"apisix_version": "1.0"}, r"older than the oldest release"),
        (
            b"routes:\n- id: a\n",
            {"extra_config": {"client_id": "x"}},
            r"openid-connect config for route\(s\) 'a': extra_config sets client_id",
        ),
        (b"routes:\n- id: a\n", {"routes": []}, r"routes must name at least one route id"),
    ],
)
def test_bad_input_fails_and_leaves_the_file(tmp_path, capsys, content, args, pattern):
    path = tmp_path / ("missing.yaml" if content is None else "values.yaml")
    if content is not None:
        path.write_bytes(content)
    call = dict(PLUGIN_ARGS, path=str(path), routes=["a"])
    call.update(args)
    result = run(capsys, **call)
    assert result["_rc"] == 1 and result["failed"] is True
    assert __import__("re").search(pattern, result["msg"]), result["msg"]
    assert SECRET not in result["_output"]
    if content is not None:
        assert path.read_bytes() == content
        assert os.listdir(tmp_path) == ["values.yaml"]


def test_directory_and_required_options(tmp_path, capsys):
    result = run(capsys, path=str(tmp_path), routes=["a"], **PLUGIN_ARGS)
    assert result["failed"] and "is a directory" in result["msg"]
    path = tmp_path / "v.yaml"
    path.write_text("routes:\n- id: a\n")
    result = run(capsys, path=str(path), routes=["a"], client_secret=SECRET)
    assert result["failed"] and "state is present but all of the following are missing: realm" in result["msg"]
    result = run(capsys, path=str(path), routes=["a"], realm="r", client_secret=SECRET)
    assert result["failed"] and "discovery, keycloak_url" in result["msg"]
    assert run(capsys, path=str(path), routes=["a"], state="absent")["changed"] is False


def test_write_failure_reports_and_keeps_the_file(tmp_path, capsys):
    # a real failure, even for root: the temporary file's name (".<name>.XXXXXXXX.tmp") exceeds NAME_MAX
    name = "v" * 240 + ".yaml"
    path = tmp_path / name
    shutil.copyfile(os.path.join(FIXTURES, "helm-values-standalone.yaml.sample"), path)
    before = path.read_bytes()
    result = run(capsys, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert (
        result["failed"]
        and result["msg"].startswith("cannot write %s: " % path)
        and "File name too long" in result["msg"]
    )
    assert path.read_bytes() == before and os.listdir(tmp_path) == [name]


def test_file_changed_between_read_and_write_is_not_overwritten(tmp_path, capsys, monkeypatch):
    path = _copy(tmp_path)
    real_mkstemp = _io.tempfile.mkstemp

    def racing_mkstemp(*args, **kwargs):
        with open(str(path), "a") as handle:  # another writer, after the read, before the rename
            handle.write("# edited meanwhile\n")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(_io.tempfile, "mkstemp", racing_mkstemp)
    result = run(capsys, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert result["failed"] and str(path) in result["msg"] and "changed on disk" in result["msg"]
    assert "nothing was written" in result["msg"]
    assert path.read_text().endswith("# edited meanwhile\n") and "keycloak.ef-external" not in path.read_text()
    assert os.listdir(tmp_path) == [path.name] and not result.get("changed")


def test_owner_and_group_kept_on_write(tmp_path, capsys, monkeypatch):
    path = _copy(tmp_path)
    try:
        os.chown(str(path), 4321, 4322)
    except PermissionError:
        pass  # not root: the file keeps our own ids
    owner = (path.stat().st_uid, path.stat().st_gid)
    calls = []
    real_chown = os.chown

    def recording_chown(target, uid, gid, *args, **kwargs):
        calls.append((uid, gid))
        return real_chown(target, uid, gid, *args, **kwargs)

    monkeypatch.setattr(os, "chown", recording_chown)
    result = run(capsys, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert result["changed"] is True and "keycloak.ef-external" in path.read_text()
    assert (path.stat().st_uid, path.stat().st_gid) == owner and owner in calls


@pytest.mark.parametrize(
    "args",
    [
        dict(state="absent"),
        dict(state="absent", absent_style="comment"),
        dict(PLUGIN_ARGS, state="disabled"),
        dict(PLUGIN_ARGS, backup=True),
    ],
    ids=["remove", "comment", "disabled", "backup"],
)
def test_check_mode_other_states_and_backup(tmp_path, capsys, args):
    path = _copy(tmp_path)
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    routes = ["files-main", "portal-main"] if args.get("state") != "absent" else ["files-main"]
    result = run(capsys, check=True, path=str(path), routes=routes, **args)
    assert result["_rc"] == 0 and result["changed"] is True and "backup_file" not in result
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no backup, no temporary file
    predicted = result["routes"]
    result = run(capsys, path=str(path), routes=routes, **args)
    assert result["changed"] is True and result["routes"] == predicted and path.read_bytes() != before
    assert ("backup_file" in result) is bool(args.get("backup"))
    assert run(capsys, check=True, path=str(path), routes=routes, **args)["changed"] is False


def test_many_routes_one_write_and_short_messages(tmp_path, capsys, monkeypatch):
    path = tmp_path / "values.yaml"
    path.write_text(
        "apisixStandalone:\n  routes:\n" + "".join("  - id: r%02d\n    uri: /r%d\n" % (n, n) for n in range(12))
    )
    writes = []
    real = _io.write_file

    def counting(target, *args, **kwargs):
        writes.append(target)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(_io, "write_file", counting)
    result = run(capsys, path=str(path), routes=["r%02d" % n for n in range(12)], **PLUGIN_ARGS)
    assert result["changed"] is True and len(writes) == 1
    assert all(r["changed"] for r in result["routes"])
    assert any(
        w.startswith(
            "openid-connect on route(s) 'r00', 'r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r07', 'r08', 'r09' and 2 more: audience"
        )
        for w in _warnings(result)
    )


def test_a_temporary_file_left_by_a_killed_run_is_removed_by_the_next_run(tmp_path, capsys):
    path = _copy(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = tmp_path / (".%s.%s.abc123.cx-api-auth.tmp" % (path.name, proc.stdout.strip()))
    stale.write_text("client_secret: %s\n" % SECRET)
    result = run(capsys, check=True, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert stale.exists()  # check mode writes and removes nothing
    result = run(capsys, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)
    assert result["changed"] is True and not stale.exists() and sorted(os.listdir(tmp_path)) == [path.name]
    assert any(str(stale) in warning and "interrupted run" in warning for warning in _warnings(result))
    stale.write_text("client_secret: %s\n" % SECRET)
    result = run(capsys, path=str(path), routes=["portal-main"], **PLUGIN_ARGS)  # a no-op run removes it too
    assert result["changed"] is False and not stale.exists()
    assert any(str(stale) in warning for warning in _warnings(result))


@pytest.mark.parametrize(
    "routes, facts",
    [
        (["portal-main", " files-main"], ["' files-main'", "space", "YAML list"]),
        (["portal main"], ["'portal main'", "' '"]),
        (["x" * 65], ["longer than 64"]),
        (["a/b", "c:d"], ["'a/b'", "'/'", "'c:d'", "':'", "ids"]),
        ([""], ["empty"]),
    ],
)
def test_route_ids_apisix_cannot_have_are_refused_before_the_file_is_read(tmp_path, capsys, routes, facts):
    path = _copy(tmp_path)
    before = path.read_bytes()
    result = run(capsys, path=str(path), routes=routes, **PLUGIN_ARGS)
    assert result["failed"] and not result.get("changed")
    for fact in facts:
        assert fact in result["msg"], (fact, result["msg"])
    assert path.read_bytes() == before


def test_a_route_named_unsecured_warns(tmp_path, capsys):
    path = tmp_path / "values.yaml"
    path.write_text("routes:\n- id: orders-unsecured\n  uri: /o\n- id: orders-secured\n  uri: /s\n#END\n")
    result = run(capsys, check=True, path=str(path), routes=["orders-unsecured", "orders-secured"], **PLUGIN_ARGS)
    named = [w for w in _warnings(result) if "in their id" in w]
    assert len(named) == 1 and "'orders-unsecured'" in named[0] and "'orders-secured'" not in named[0]
    result = run(capsys, check=True, path=str(path), routes=["orders-unsecured"], state="absent")
    assert not [w for w in _warnings(result) if "in their id" in w]


@pytest.mark.parametrize(
    "args, facts",
    [
        (dict(PLUGIN_ARGS, apisix_version=3.1), ["apisix_version", "number", "quote it", "3.10"]),
        (dict(PLUGIN_ARGS, apisix_version=3), ["apisix_version", "quote it"]),
        (dict(PLUGIN_ARGS, client_secret=260874), ["client_secret", "int", "quote it"]),
        (dict(PLUGIN_ARGS, client_secret=True), ["client_secret", "boolean", "quote it"]),
    ],
)
def test_numbers_where_text_belongs_are_refused_not_converted(tmp_path, capsys, args, facts):
    path = _copy(tmp_path)
    before = path.read_bytes()
    result = run(capsys, path=str(path), routes=["portal-main"], **args)
    assert result["failed"] and not result.get("changed") and path.read_bytes() == before
    for fact in facts:
        assert fact in result["msg"], (fact, result["msg"])
    assert "260874" not in result["_output"].replace('"client_secret": "********"', "")


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EXDEV], ids=["EBUSY", "EXDEV"])
def test_a_bind_mounted_file_that_cannot_be_renamed_over_fails_with_errno_and_hint(tmp_path, capsys, monkeypatch, code):
    path = _copy(tmp_path)
    original = path.read_bytes()
    real_rename = os.rename

    def rename(src, dest, *args, **kwargs):
        if os.fsdecode(dest) == str(path):
            raise OSError(code, os.strerror(code))
        return real_rename(src, dest, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "replace", rename)
    monkeypatch.setattr(_io, "is_mount_point", lambda real: real == str(path))
    result = run(capsys, path=str(path), routes=["catchall"], **PLUGIN_ARGS)
    assert result["_rc"] == 1, result
    assert "cannot write %s: %s (%s)" % (path, os.strerror(code), errno.errorcode[code]) in result["msg"]
    assert "is a mount point" in result["msg"] and "edit the source of the mount" in result["msg"]
    assert SECRET not in result["_output"]
    assert path.read_bytes() == original and os.listdir(tmp_path) == [path.name]


def test_an_alias_bomb_under_routes_is_refused_before_any_work(tmp_path, capsys):
    laughs = ['      - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += ["      - &l%d [%s]" % (level, ", ".join(["*l%d" % (level - 1)] * 9)) for level in range(1, 9)]
    path = tmp_path / "apisix.yaml"
    path.write_text(
        "routes:\n  - id: a\n    uri: /a\n  - id: b\n    uri: /b\n    vars:\n" + "\n".join(laughs) + "\n#END\n"
    )
    original = path.read_bytes()
    result = run(capsys, path=str(path), routes=["a"], **PLUGIN_ARGS)
    assert result["_rc"] == 1
    assert "%s: route 'b' (line 4), under vars (line 7): its YAML aliases expand to more than" % path in result["msg"]
    assert path.read_bytes() == original


HAND_ADDED = """\
routes:
  - id: active
    uri: /a
    plugins:
      openid-connect:
        client_id: cim
        client_secret: old
        ssl_verify: false # self-signed in the lab
        introspection_interval: 30
        session:
          secret: Hand-Added-Session-Secret-123
        _meta:
          priority: 5
          disable: true
  - id: commented
    uri: /c
    plugins:
#      openid-connect:
#        client_id: cim
#        ssl_verify: false
#        _meta:
#          filter: [["arg_x", "==", "1"]]
      cors: {}
  - id: plain
    uri: /p
#END
"""
HAND_SECRET = "Hand-Added-Session-Secret-123"


def _hand_added(tmp_path):
    path = tmp_path / "apisix.yaml"
    path.write_text(HAND_ADDED)
    return path


def test_unmanaged_keys_are_kept_by_default_and_named_in_one_warning(tmp_path, capsys):
    path = _hand_added(tmp_path)
    args = dict(PLUGIN_ARGS, path=str(path), routes=["active", "commented", "plain"])
    result = run(capsys, diff=True, **args)
    assert result["_rc"] == 0 and result["changed"] is True
    unmanaged = [w for w in _warnings(result) if "does not manage" in w]
    assert unmanaged == [
        "openid-connect keys the module does not manage were kept as they are (unmanaged_keys=keep): "
        "route 'active': ssl_verify, introspection_interval, session.secret, _meta.priority; "
        "route 'commented': ssl_verify, _meta.filter; set unmanaged_keys=remove to drop them, or set them "
        "through extra_config/secret_config"
    ]
    assert HAND_SECRET not in result["_output"] and SECRET not in result["_output"]
    active, commented = _route_block(path, "active"), _route_block(path, "commented")
    assert active["ssl_verify"] is False and active["introspection_interval"] == 30
    assert active["session"] == {"secret": HAND_SECRET} and active["_meta"] == {"priority": 5}  # disable is managed
    assert active["client_secret"] == SECRET and active["realm"] == "tenant-a"
    assert commented["ssl_verify"] is False and commented["_meta"] == {"filter": [["arg_x", "==", "1"]]}
    assert "ssl_verify: false # self-signed in the lab\n" in path.read_text()  # the line itself, untouched
    again = run(capsys, **args)
    assert again["changed"] is False and any("does not manage" in w for w in _warnings(again))


def test_unmanaged_keys_remove_drops_them_and_says_so(tmp_path, capsys):
    path = _hand_added(tmp_path)
    args = dict(PLUGIN_ARGS, path=str(path), routes=["active", "commented"], unmanaged_keys="remove")
    result = run(capsys, **args)
    assert result["_rc"] == 0 and result["changed"] is True
    assert [w for w in _warnings(result) if "does not manage" in w] == [
        "openid-connect keys the module does not manage were removed (unmanaged_keys=remove): "
        "route 'active': ssl_verify, introspection_interval, session.secret, _meta.priority; "
        "route 'commented': ssl_verify, _meta.filter"
    ]
    assert HAND_SECRET not in result["_output"] and HAND_SECRET not in path.read_text()
    for route_id in ("active", "commented"):
        block = _route_block(path, route_id)
        assert not set(block) & {"ssl_verify", "introspection_interval", "session", "_meta"}, block
    again = run(capsys, **args)
    assert again["changed"] is False and not [w for w in _warnings(again) if "does not manage" in w]


def test_no_unmanaged_warning_for_the_charts_own_keys(tmp_path, capsys):
    path = _copy(tmp_path)
    result = run(capsys, path=str(path), route_selector=["openid_connect_block"], **PLUGIN_ARGS)
    assert result["_rc"] == 0 and not [w for w in _warnings(result) if "does not manage" in w]


def test_unmanaged_keys_option_is_checked(tmp_path, capsys):
    path = _hand_added(tmp_path)
    result = run(capsys, path=str(path), routes=["active"], unmanaged_keys="drop", **PLUGIN_ARGS)
    assert result["_rc"] == 1 and "unmanaged_keys" in result["msg"] and "keep, remove" in result["msg"]


# --- enable -> disable gives back the chart's file --------------------------------------

CHART = "cx-chart-values.yaml.sample"
CHART_SECRET = "00000000-0000-0000-0000-000000000000"  # the chart's own value
CHART_ARGS = dict(keycloak_url="http://keycloak.ef-external.svc/auth", realm="expertflow", client_secret=CHART_SECRET)
COMMENTED = ["orders-main", "files-main", "portal-main"]
NO_BLOCK = ["orders-assets", "files-upload", "portal-health", "catchall"]  # plugins: {}, plugins:, none, {} # ...


def _changed_lines(before, after):
    return [(old, new) for old, new in zip(before.splitlines(), after.splitlines()) if old != new]


def test_chart_file_enable_then_comment_out_gives_back_the_original_bytes(tmp_path, capsys):
    path = _copy(tmp_path, CHART)
    original = path.read_bytes()
    args = dict(CHART_ARGS, path=str(path))
    result = run(capsys, route_selector=["openid_connect_block"], **args)
    assert result["_rc"] == 0 and result["routes_selected"] == COMMENTED
    assert [r["before"] for r in result["routes"]] == ["commented"] * 3
    assert not [w for w in _warnings(result) if "does not manage" in w or "cannot be read" in w]
    enabled = path.read_text()
    for route_id in COMMENTED:
        assert _route_block(path, route_id)["client_secret"] == CHART_SECRET
    # the lines the module does not write stay in the active block, in their place
    assert "           enable: true # set to false (or comment the block out) to switch authentication off\n" in enabled
    assert '           client_secret: "%s" # from the cim client\'s Credentials tab\n' % CHART_SECRET in enabled
    assert "           # authz-keycloak:\n           #   enable: true\n" in enabled
    assert "       plugins: #\n         openid-connect:\n" in enabled  # portal-main's bare plugins:
    assert run(capsys, route_selector=["openid_connect_block"], **args)["changed"] is False
    result = run(capsys, route_selector=["openid_connect_block"], state="absent", absent_style="comment", **args)
    assert result["_rc"] == 0 and [r["after"] for r in result["routes"]] == ["commented"] * 3
    assert path.read_bytes() == original


def test_chart_file_with_another_secret_only_the_managed_lines_differ(tmp_path, capsys):
    path = _copy(tmp_path, CHART)
    original = path.read_text()
    args = dict(CHART_ARGS)
    args.update(path=str(path), client_secret=SECRET)  # another secret than the chart's
    result = run(capsys, routes=COMMENTED, diff=True, **args)
    assert result["_rc"] == 0 and SECRET not in result["_output"] and CHART_SECRET not in result["_output"]
    result = run(capsys, routes=COMMENTED, state="absent", absent_style="comment", **args)
    assert result["_rc"] == 0
    back = path.read_text()
    changed = _changed_lines(original, back)
    assert len(original.splitlines()) == len(back.splitlines()) and len(changed) == 3
    for old, new in changed:
        assert old.replace(CHART_SECRET, SECRET) == new and "client_secret" in old


def test_chart_file_enable_then_remove_on_routes_without_a_block_gives_back_the_original_bytes(tmp_path, capsys):
    path = _copy(tmp_path, CHART)
    original = path.read_bytes()
    args = dict(CHART_ARGS, path=str(path), routes=NO_BLOCK)
    result = run(capsys, **args)
    assert result["_rc"] == 0 and [r["before"] for r in result["routes"]] == ["absent"] * 4
    assert all(_route_block(path, route_id)["realm"] == "expertflow" for route_id in NO_BLOCK)
    assert run(capsys, **args)["changed"] is False
    result = run(capsys, state="absent", **args)
    assert result["_rc"] == 0 and result["changed"] is True
    assert path.read_bytes() == original


def test_a_commented_copy_that_cannot_be_read_is_kept_and_named(tmp_path, capsys):
    path = tmp_path / "apisix.yaml"
    copy = "#    openid-connect:\n#      client_id: cim\n#      audience: [cim, account\n"
    path.write_text("routes:\n- id: a\n  plugins:\n" + copy + "    cors: {}\n#END\n")
    result = run(capsys, path=str(path), routes=["a"], **PLUGIN_ARGS)
    assert result["_rc"] == 0 and result["changed"] is True
    assert [w for w in _warnings(result) if "cannot be read" in w] == [
        "%s: route 'a': the commented-out openid-connect block at lines 4-6 cannot be read as YAML once "
        "uncommented (or repeats a key); it is kept as it is beside the new block: merge or delete it by hand" % path
    ]
    assert copy in path.read_text() and _route_block(path, "a")["realm"] == "tenant-a"


def test_a_commented_copy_with_a_repeated_key_is_kept_and_named(tmp_path, capsys):
    path = tmp_path / "apisix.yaml"
    copy = "#    openid-connect:\n#      client_id: cim\n#      client_id: other\n"
    path.write_text("routes:\n- id: a\n  plugins:\n" + copy + "    cors: {}\n#END\n")
    result = run(capsys, path=str(path), routes=["a"], **PLUGIN_ARGS)
    assert result["_rc"] == 0 and copy in path.read_text()
    assert any("route 'a': the commented-out openid-connect block at lines 4-6" in w for w in _warnings(result))

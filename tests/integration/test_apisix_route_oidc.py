# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""apisix_route_oidc through the real ``ansible`` CLI on copies of the shared samples.

No Keycloak is needed: the module only edits files. Every run checks that neither the
client secret passed in nor the one already in the file shows up in what Ansible
prints, at -vvv.
"""

import os
import re
import shutil
import stat
import subprocess
import sys

import yaml

from ._runner import run_module
from .helpers import assert_mentions, warnings_in

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "apisix")
SECRET = "Int-3gr4tion-cim-secret-value"
OLD_SECRET = "00000000-0000-0000-0000-000000000000"  # in the helm sample
ARGS = dict(keycloak_url="http://keycloak.ef-external.svc/auth", realm="tenant-a", client_secret=SECRET)


def _copy(tmp_path, name, mode):
    path = tmp_path / name
    shutil.copyfile(os.path.join(FIXTURES, name), path)
    os.chmod(path, mode)
    return path


def _no_secret(output, result):
    text = output + repr(result)
    assert SECRET not in text
    assert OLD_SECRET not in text


def _block(path, route_id):
    data = yaml.safe_load(path.read_text())
    routes = data["apisixStandalone"]["routes"] if "apisixStandalone" in data else data["routes"]
    route = next(r for r in routes if r["id"] == route_id)
    return (route.get("plugins") or {}).get("openid-connect")


def test_helm_values_check_diff_backup_idempotence(tmp_path):
    path = _copy(tmp_path, "helm-values-standalone.yaml.sample", 0o640)
    original = path.read_bytes()
    args = dict(ARGS, path=str(path), routes=["catchall", "files-main", "portal-main"])

    session = dict(args, secret_config={"session": {"secret": "Sess1on-secret-0123456789"}}, bearer_only=False)
    result, output = run_module("apisix_route_oidc", session, check=True, diff=True, verbosity=3)
    assert result["changed"] is True and "FAILED" not in output
    assert "Sess1on-secret-0123456789" not in output + repr(result)
    assert result["config"]["session"] == {"secret": "********"}
    _no_secret(output, result)

    result, output = run_module("apisix_route_oidc", args, check=True, diff=True, verbosity=3)
    assert result["changed"] is True and "FAILED" not in output
    assert path.read_bytes() == original and sorted(os.listdir(tmp_path)) == [path.name]
    assert [entry["before_header"] for entry in result["diff"]] == [
        "%s (route %s)" % (path, name) for name in ("portal-main", "files-main", "catchall")
    ]
    assert all('client_secret: "********"' in entry["after"] for entry in result["diff"])
    assert "+         openid-connect:" in output  # the default callback shows the diff
    # the callback shows only real changes: no untouched line is shown removed and added again
    removed = [line[1:] for line in output.splitlines() if line.startswith("-") and not line.startswith("--- ")]
    added = [line[1:] for line in output.splitlines() if line.startswith("+") and not line.startswith("+++ ")]
    assert removed and not set(removed) & set(added)
    assert all(line.startswith("           ") for line in removed)  # lines of files-main's openid-connect block
    _no_secret(output, result)

    result, output = run_module("apisix_route_oidc", dict(args, backup=True), diff=True, verbosity=3)
    assert result["changed"] is True
    assert open(result["backup_file"], "rb").read() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert _block(path, "catchall")["client_secret"] == SECRET
    assert _block(path, "files-main")["realm"] == "tenant-a" and "enable" not in _block(path, "files-main")
    assert "audience is not enforced by stock APISIX" in output
    assert_mentions(" ".join(warnings_in(output)), "files-main", "openid-connect", "enable: false")
    _no_secret(output, result)

    result, output = run_module("apisix_route_oidc", args, diff=True, verbosity=3)
    assert result["changed"] is False and [r["changed"] for r in result["routes"]] == [False, False, False]
    _no_secret(output, result)


def test_helm_values_enable_then_disable_restores_the_file(tmp_path):
    path = _copy(tmp_path, "helm-values-standalone.yaml.sample", 0o600)
    original = path.read_bytes()
    args = dict(
        ARGS,
        keycloak_url="http://keycloak.identity.svc/auth",
        client_secret=OLD_SECRET,
        write_enable_key=True,
        path=str(path),
    )
    result, output = run_module("apisix_route_oidc", dict(args, routes=["orders-main-secured", "scheduler-main"]))
    assert [r["before"] for r in result["routes"]] == ["commented", "absent"]
    assert "#         openid-connect:" not in path.read_text()
    _no_secret(output, result)
    comment = dict(path=str(path), routes=["orders-main-secured"], state="absent", absent_style="comment")
    result, output = run_module("apisix_route_oidc", comment, diff=True)
    assert [{key: r[key] for key in ("id", "before", "after", "changed")} for r in result["routes"]] == [
        {"id": "orders-main-secured", "before": "present", "after": "commented", "changed": True}
    ]
    assert result["routes"][0]["uris"] and "hosts" in result["routes"][0]
    _no_secret(output, result)
    result, _output = run_module("apisix_route_oidc", dict(path=str(path), routes=["scheduler-main"], state="absent"))
    assert result["changed"] is True
    assert path.read_bytes() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_standalone_file_disabled_keeps_end_marker(tmp_path):
    path = _copy(tmp_path, "apisix-standalone.yaml.sample", 0o644)
    args = dict(ARGS, path=str(path), routes=["orders-health", "reports"], state="disabled", apisix_version="3.13.0")
    result, output = run_module("apisix_route_oidc", args, diff=True, verbosity=3)
    assert result["changed"] is True
    text = path.read_text()
    assert text.endswith("#END\n")
    assert _block(path, "orders-health")["_meta"] == {"disable": True}
    assert "${{CIM_CLIENT_SECRET}}" not in text  # reports now carries the secret passed in
    assert "${{CIM_CLIENT_SECRET}}" not in output  # shown masked in the diff
    _no_secret(output, result)


def test_bad_input_fails_before_writing(tmp_path):
    path = _copy(tmp_path, "helm-values-standalone.yaml.sample", 0o644)
    original = path.read_bytes()
    result, output = run_module("apisix_route_oidc", dict(ARGS, path=str(path), routes=["files-mian"]), verbosity=3)
    assert "localhost | FAILED!" in output and result["changed"] is False
    assert_mentions(
        result["msg"], "unknown route id", "files-mian", "apisixStandalone.routes", "orders-login-unsecured"
    )
    assert re.search(r"did you mean\W*files-main\b", result["msg"]), result["msg"]
    _no_secret(output, result)
    invalid = dict(ARGS, path=str(path), routes=["catchall"], apisix_version="3.14", bearer_only=False)
    result, output = run_module("apisix_route_oidc", invalid, verbosity=3)
    assert "localhost | FAILED!" in output
    assert_mentions(
        result["msg"], "invalid openid-connect config", "APISIX 3.14", "catchall", "session.secret", "required"
    )
    _no_secret(output, result)
    assert path.read_bytes() == original and os.listdir(tmp_path) == [path.name]


def test_action_group_defaults_and_env_reference(tmp_path):
    path = _copy(tmp_path, "apisix-standalone.yaml.sample", 0o644)
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        """\
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/cx.api_auth.apisix:
      path: %(path)s
      keycloak_url: http://keycloak.ef-external.svc/auth
      realm: tenant-a
  tasks:
    - name: Defaults from the apisix action group
      cx.api_auth.apisix_route_oidc:
        routes: [orders-secured]
        client_secret: %(secret)s
    - name: Secret from the gateway's environment, not templated by Ansible
      cx.api_auth.apisix_route_oidc:
        routes: [orders-health]
        client_secret: !unsafe "${{CIM_CLIENT_SECRET}}"
"""
        % dict(path=path, secret=SECRET)
    )
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    proc = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            "ansible_python_interpreter=%s" % sys.executable,
            str(playbook),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed=2" in proc.stdout
    assert _block(path, "orders-secured")["client_secret"] == SECRET
    assert _block(path, "orders-health")["client_secret"] == "${{CIM_CLIENT_SECRET}}"
    assert _block(path, "orders-health")["realm"] == "tenant-a"
    assert SECRET not in proc.stdout + proc.stderr


def test_secrets_the_module_does_not_know_stay_hidden_at_vvv(tmp_path):
    """Credentials of other plugins and of the chart are not no_log values: only the module can hide them."""
    path = _copy(tmp_path, "helm-values-standalone.yaml.sample", 0o640)
    unknown = ["Unkn0wn-admin-key-1", "Unkn0wn-key-auth-2", "Unkn0wn-hmac-3", "Unkn0wn-commented-4", "Unkn0wn-quoted-5"]
    text = path.read_text().replace(
        "apisixStandalone:\n", "admin:\n  credentials:\n    admin: %s\n\napisixStandalone:\n" % unknown[0], 1
    )
    anchor = "           config: { max_body_size: 6291456 }\n"
    assert text.count(anchor) == 1
    path.write_text(
        text.replace(
            anchor,
            anchor
            + (
                "         key-auth:\n           key: %s\n"
                "         hmac-auth: {access_key: ak, secret_key: %s}\n"
                "#         jwt-auth:\n#           secret: %s\n"
                '         basic-auth:\n           password: "%s"\n'
            )
            % tuple(unknown[1:]),
        )
    )
    args = dict(ARGS, path=str(path), routes=["portal-main", "catchall"])
    for check in (True, False):
        result, output = run_module("apisix_route_oidc", args, check=check, diff=True, verbosity=3)
        assert result["changed"] is True and "FAILED" not in output
        # the diff shows the block the module writes and nothing of the other plugins
        assert "+         openid-connect:" in output
        assert not any(name in output for name in ("key-auth", "hmac-auth", "jwt-auth", "basic-auth"))
        for secret in unknown:
            assert secret not in output + repr(result), secret
        _no_secret(output, result)
    assert path.read_text().count(unknown[1]) == 1

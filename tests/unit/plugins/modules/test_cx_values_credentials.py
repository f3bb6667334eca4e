# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/cx_values_credentials.py through ``main()`` (AnsibleModule, atomic_move)."""

import os
import pathlib
import stat

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._cx.places import PUBLISHED_CIM_SECRET
from ansible_collections.cx.api_auth.plugins.modules import cx_values_credentials as module

from . import _module_harness as harness

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "cx"
NAMES = ("ef-cx-values.yaml", "qm-values.yaml", "gateway-values.yaml")
NEW_SECRET = "Kc-rotated-cim-secret-m0d"
VAULT_PASSWORD = "Vault-customer-pass-m0d"


def files_in(tmp_path):
    paths = []
    for name in NAMES:
        target = tmp_path / name
        target.write_bytes((FIXTURES / name).read_bytes())
        paths.append(str(target))
    return paths


def run_main(capsys, args, check=False, diff=False):
    return harness.run_main(capsys, module, args, (NEW_SECRET, VAULT_PASSWORD, PUBLISHED_CIM_SECRET), check, diff)


def args_for(files, **extra):
    args = dict(
        files=files,
        customer_username="customer",
        customer_password=VAULT_PASSWORD,
        cim_secret=NEW_SECRET,
        previous_cim_secret=PUBLISHED_CIM_SECRET,
    )
    args.update(extra)
    return args


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_main_rewrites_with_a_masked_diff_and_prints_no_value(capsys, tmp_path, check):
    files = files_in(tmp_path)
    os.chmod(files[0], 0o600)
    before = {path: pathlib.Path(path).read_bytes() for path in files}
    result, failed = run_main(capsys, args_for(files), check=check, diff=True)
    assert not failed and result["changed"] is True
    assert result["msg"] == "7 places %s in 3 files, 1 of unknown role left" % (
        "would be rewritten" if check else "rewritten"
    )
    assert len(result["diff"]) == 3 and all("changed (values not shown)" in d["after"] for d in result["diff"])
    after = {path: pathlib.Path(path).read_bytes() for path in files}
    assert (after == before) is check
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600  # atomic_move keeps the mode

    if not check:
        again, failed = run_main(capsys, args_for(files), diff=True)
        assert not failed and again["changed"] is False and again["diff"] == []


def test_main_fails_on_a_read_only_file_with_the_generations_and_no_value(capsys, tmp_path):
    files = files_in(tmp_path)
    os.chmod(files[2], 0o444)
    result, failed = run_main(capsys, args_for(files))
    assert failed and result["msg"].startswith("cannot rewrite the values file %s: it is read-only" % files[2])
    assert "previous" in result["msg"] and result["files_changed"] == []
    assert all(e["after"] == e["before"] for e in result["places"])


def test_the_module_is_in_the_cx_action_group():
    import yaml  # pylint: disable=import-outside-toplevel

    runtime = yaml.safe_load((FIXTURES.parents[3] / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert "cx_values_credentials" in runtime["action_groups"]["cx"]
    assert "keycloak_client_secret" in runtime["action_groups"]["keycloak"]

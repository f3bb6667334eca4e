# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/cx_values_credentials_info.py through ``main()`` (no connection options)."""

import json
import pathlib

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.module_utils._cx.places import PUBLISHED_CIM_SECRET
from ansible_collections.cx.api_auth.plugins.modules import cx_values_credentials_info as module

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "cx"
FILES = [str(FIXTURES / name) for name in ("ef-cx-values.yaml", "qm-values.yaml", "cisco-sync-values.yaml")]
KC_SECRET = "Kc-held-cim-secret-0a9z"
VAULT_PASSWORD = "Vault-customer-pass-k2"


def run_main(capsys, args, check=False):
    module_args = dict(args)
    if check:
        module_args["_ansible_check_mode"] = True
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    out = capsys.readouterr().out
    return out, json.loads(out), exit_info.value.code != 0


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("secret", [KC_SECRET, PUBLISHED_CIM_SECRET])
def test_main_reports_places_and_prints_no_value(capsys, check, secret):
    out, result, failed = run_main(
        capsys,
        dict(files=FILES, customer_username="customer", customer_password=VAULT_PASSWORD, cim_secret=secret),
        check=check,
    )
    assert not failed and result["changed"] is False
    assert result["published_default"] is (secret == PUBLISHED_CIM_SECRET)
    assert any(e["status"] == "differs" and e["role"] == "customer_password" for e in result["places"])
    for value in (KC_SECRET, VAULT_PASSWORD, PUBLISHED_CIM_SECRET):
        assert value not in out
    assert "places in 3 values files" in result["msg"]


def test_main_fails_naming_the_missing_file(capsys, tmp_path):
    missing = str(tmp_path / "nope.yaml")
    out, result, failed = run_main(capsys, dict(files=[missing], cim_secret=KC_SECRET))
    assert failed and missing in result["msg"] and KC_SECRET not in out


def test_the_module_is_in_the_cx_action_group():
    runtime = yaml.safe_load((FIXTURES.parents[3] / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert runtime["action_groups"]["cx"] == ["cx_values_credentials_info", "cx_values_credentials"]

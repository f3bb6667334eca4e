# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cx_values_credentials_info through ``ansible-playbook`` at -vvv (no server needed: it reads files only).

The CX-shaped values files carry secrets of their own (never given to the module) next to the places that
are in step; nothing Ansible prints holds any of them, nor the inventory's password or secret, in normal and
in check mode; the published default raises the warning.
"""

import json
import pathlib
import sys

import pytest

from ._runner import run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "cx"
PUBLISHED = "ef61df80-061c-4c29-b9ac-387e6bf67052"
KC_SECRET = "Kc-cim-secret-integ-4b7e2d"
VAULT_PASSWORD = "Vault-cust-pass-integ-9q"
FILE_SECRET = "File-only-cim-secret-integ-1c"
FILE_PASSWORD = "File-only-cust-pass-integ-8w"

PLAYBOOK = """
- name: Check the CX values files
  hosts: tenant
  gather_facts: false
  tasks:
    - name: Check
      cx.api_auth.cx_values_credentials_info:
        files: "{{ cx_values_files }}"
        customer_username: customer
        customer_password: "{{ vault_customer_password }}"
        cim_secret: "{{ cim_secret }}"
      register: values_check

    - name: Show the result
      ansible.builtin.debug:
        var: values_check
"""


def _files(tmp_path):
    core = (FIXTURES / "ef-cx-values.yaml").read_text(encoding="utf-8")
    core = core.replace(PUBLISHED, KC_SECRET).replace(
        "value: customer\n      - name: PORT", "value: %s\n      - name: PORT" % FILE_PASSWORD
    )
    qm = (FIXTURES / "qm-values.yaml").read_text(encoding="utf-8").replace(PUBLISHED, FILE_SECRET)
    gateway = (FIXTURES / "gateway-values.yaml").read_text(encoding="utf-8").replace(PUBLISHED, KC_SECRET)
    paths = []
    for name, text in (("ef-cx-values.yaml", core), ("qm-values.yaml", qm), ("gateway-values.yaml", gateway)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("secret", [KC_SECRET, PUBLISHED], ids=["keycloak", "published"])
def test_playbook_prints_no_secret_at_vvv(tmp_path, check, secret):
    files = _files(tmp_path)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        json.dumps(
            {
                "tenant": {
                    "hosts": {
                        "t1": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            "cx_values_files": files,
                            "vault_customer_password": VAULT_PASSWORD,
                            "cim_secret": secret,
                        }
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    rc, output = run_playbook(str(playbook), inventory, check=check, verbosity=3)
    assert rc == 0, output
    for value in (KC_SECRET, VAULT_PASSWORD, FILE_SECRET, FILE_PASSWORD, PUBLISHED):
        assert value not in output
    assert "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value" in output
    assert '"status": "differs"' in output and '"status": "unknown"' in output
    assert ("publish" in output and "[WARNING]" in output) is (secret == PUBLISHED)

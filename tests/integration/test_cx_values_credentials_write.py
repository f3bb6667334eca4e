# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cx_values_credentials through ``ansible-playbook`` at -vvv with --diff on temporary CX-shaped values files (no
server needed: it reads and writes files only).

Check mode lists the places and writes nothing; the run rewrites them (the unknown-role place left), the rerun
says changed=0; a read-only file stops the run before any file is written, with the generation of each place;
once it is writable again the rerun converges. Nothing Ansible prints holds a secret given or read.
"""

import json
import os
import pathlib
import sys

from ._runner import run_playbook
from .test_cx_values_credentials import FIXTURES, PUBLISHED

NEW_SECRET = "Kc-new-cim-secret-integ-7w2"
VAULT_PASSWORD = "Vault-cust-pass-integ-3k"
FILE_PASSWORD = "File-only-cust-pass-integ-5j"
NAMES = ("ef-cx-values.yaml", "qm-values.yaml", "gateway-values.yaml")

PLAYBOOK = """
- name: Keep the CX values files in step
  hosts: tenant
  gather_facts: false
  tasks:
    - name: Rewrite
      cx.api_auth.cx_values_credentials:
        files: "{{ cx_values_files }}"
        customer_username: customer
        customer_password: "{{ vault_customer_password }}"
        cim_secret: "{{ cim_secret }}"
        previous_cim_secret: "{{ previous_cim_secret }}"
      register: values_sync

    - name: Show the result
      ansible.builtin.debug:
        var: values_sync
"""


def _setup(tmp_path):
    paths = []
    for name in NAMES:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        text = text.replace("value: customer\n      - name: PORT", "value: %s\n      - name: PORT" % FILE_PASSWORD)
        target = tmp_path / name
        target.write_text(text, encoding="utf-8")
        paths.append(str(target))
    inventory = tmp_path / "inventory.yml"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "cx_values_files": paths,
        "vault_customer_password": VAULT_PASSWORD,
        "cim_secret": NEW_SECRET,
        "previous_cim_secret": PUBLISHED,
    }
    inventory.write_text(json.dumps({"tenant": {"hosts": {"t1": host}}}), encoding="utf-8")
    playbook = tmp_path / "sync.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    return paths, str(playbook), str(inventory)


def _no_secret(output):
    for value in (PUBLISHED, NEW_SECRET, VAULT_PASSWORD, FILE_PASSWORD):
        assert value not in output


def _read(paths):
    return {path: pathlib.Path(path).read_bytes() for path in paths}


def test_check_run_rerun_print_no_secret_and_converge(tmp_path):
    paths, playbook, inventory = _setup(tmp_path)
    before = _read(paths)

    rc, output = run_playbook(playbook, inventory, check=True, diff=True, verbosity=3)
    assert rc == 0, output
    _no_secret(output)
    assert _read(paths) == before
    assert "7 places would be rewritten in 3 files, 1 of unknown role left" in output
    assert "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value (line 43) changed" in output

    rc, output = run_playbook(playbook, inventory, diff=True, verbosity=3)
    assert rc == 0, output
    _no_secret(output)
    assert "7 places rewritten in 3 files, 1 of unknown role left" in output and "changed=1" in output
    core = pathlib.Path(paths[0]).read_text(encoding="utf-8")
    assert 'KEYCLOAK_CREDENTIALS: \'{"secret": "%s"}\'' % NEW_SECRET in core
    assert "value: %s\n" % VAULT_PASSWORD in core
    assert pathlib.Path(paths[1]).read_text(encoding="utf-8").count(PUBLISHED) == 1  # KEYCLOAK_CLIENT_DB_ID, unknown

    rc, output = run_playbook(playbook, inventory, diff=True, verbosity=3)
    assert rc == 0 and "changed=0" in output, output
    _no_secret(output)


def test_a_read_only_file_stops_the_run_with_the_generations_and_a_rerun_converges(tmp_path):
    paths, playbook, inventory = _setup(tmp_path)
    os.chmod(paths[1], 0o444)
    before = _read(paths)

    rc, output = run_playbook(playbook, inventory, verbosity=3)
    assert rc == 2, output
    _no_secret(output)
    assert _read(paths) == before
    assert "cannot rewrite the values file %s: it is read-only (mode 0444)" % paths[1] in output
    assert "%s as it was: efConnectionVars.KEYCLOAK_CLIENT_DB_ID (line 9) previous" % paths[0] in output

    os.chmod(paths[1], 0o644)
    rc, output = run_playbook(playbook, inventory, verbosity=3)
    assert rc == 0 and "changed=1" in output, output
    rc, output = run_playbook(playbook, inventory)
    assert rc == 0 and "changed=0" in output, output
    _no_secret(output)

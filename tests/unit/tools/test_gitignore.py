# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tenant inventory made inside the clone as the README shows, and its vault, are never committed by accident."""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _ignored(path):
    proc = subprocess.run(
        ["git", "-C", ROOT, "check-ignore", "--no-index", "-q", path], capture_output=True, check=False
    )
    if proc.returncode not in (0, 1):
        pytest.fail("git check-ignore failed: %s" % proc.stderr.decode())
    return proc.returncode == 0


@pytest.mark.parametrize(
    "path",
    [
        "inventories/acme/hosts.yml",
        "inventories/acme/group_vars/all/tenant.yml",
        "inventories/acme/group_vars/all/vault.yml",
        "inventories/expertflow/group_vars/all/vault.yml",
        "inventories/tenants/host_vars/acme/vault.yml",
    ],
)
def test_tenant_inventories_and_vaults_are_ignored(path):
    assert _ignored(path)


def test_shipped_inventories_are_not_ignored():
    shipped = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "inventories"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert shipped, "no inventories tracked"
    assert [path for path in shipped if _ignored(path)] == []

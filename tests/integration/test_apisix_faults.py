# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults during the write of a route file: the module is killed (SIGKILL) or the file changes under it.

The module runs for real in a child process; the test holds it at the fsync of its temporary file
(the moment a killed run leaves a temporary file with the client secret in it), then kills it or
changes the file. The rerun goes through ``ansible-playbook``.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from ._runner import run_playbook
from .helpers import warnings_in

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "apisix")
SECRET = "Fault-cim-secret-value"
ARGS = dict(
    keycloak_url="http://keycloak.ef-external.svc/auth",
    realm="tenant-a",
    client_secret=SECRET,
    routes=["files-main", "portal-main"],
)
# The module's main() with os.fsync held: at the first fsync the marker file appears, then the
# process either sleeps (to be killed) or appends to the route file (another writer).
CHILD = """
import json, os, sys, time
sys.path.insert(0, os.environ["ANSIBLE_COLLECTIONS_PATH"].split(":")[0])
from ansible.module_utils.testing import patch_module_args
from ansible_collections.cx.api_auth.plugins.modules import apisix_route_oidc
args, marker, mode = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
real_fsync = os.fsync
def held(fd):
    real_fsync(fd)
    os.fsync = real_fsync
    if mode == "sleep":
        open(marker, "w").close()
        time.sleep(120)
    else:
        with open(args["path"], "a") as handle:
            handle.write("# another writer\\n")
os.fsync = held
with patch_module_args(args):
    apisix_route_oidc.main()
"""
PLAYBOOK = """---
- name: The same edit through a playbook
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Openid-connect on the routes
      cx.api_auth.apisix_route_oidc: "{{ module_args }}"
"""


def _child(path, marker, mode):
    args = dict(ARGS, path=str(path))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args), str(marker), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _copy(tmp_path):
    tree = tmp_path / "gateway"
    tree.mkdir()
    path = tree / "values.yaml"
    shutil.copyfile(os.path.join(FIXTURES, "helm-values-standalone.yaml.sample"), path)
    return path


def _rerun(tmp_path, path, backup=True):
    playbook = tmp_path / "rerun.yml"
    playbook.write_text(PLAYBOOK)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: %s\n" % sys.executable
    )
    return run_playbook(
        str(playbook),
        inventory,
        diff=True,
        verbosity=3,
        extra_vars={"module_args": dict(ARGS, path=str(path), backup=backup)},
    )


def test_sigkill_during_the_write_leaves_the_file_intact_and_the_rerun_converges(tmp_path):
    path = _copy(tmp_path)
    original = path.read_bytes()
    marker = tmp_path / "held"
    child = _child(path, marker, "sleep")
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), child.communicate()[0]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    left = [name for name in os.listdir(path.parent) if name != path.name]
    assert path.read_bytes() == original and len(left) == 1 and left[0].endswith(".cx-api-auth.tmp")

    rc, output = _rerun(tmp_path, path)
    assert rc == 0 and "changed=1" in output, output[-3000:]
    assert [w for w in warnings_in(output) if left[0] in w and "interrupted run" in w]
    names = sorted(os.listdir(path.parent))
    assert left[0] not in names and len(names) == 2 and names[1].startswith(path.name + ".")  # the file, its backup
    assert (path.parent / names[1]).read_bytes() == original and b"openid-connect" in path.read_bytes()
    assert SECRET not in output
    rc, output = _rerun(tmp_path, path)
    assert rc == 0 and "changed=0" in output and sorted(os.listdir(path.parent)) == names


def test_a_file_changed_during_the_write_is_not_overwritten_and_nothing_is_reported_changed(tmp_path):
    path = _copy(tmp_path)
    original = path.read_bytes()
    child = _child(path, tmp_path / "unused", "append")
    out, _err = child.communicate(timeout=120)
    result = json.loads(out[out.index("{") :])
    assert result["failed"] is True and result.get("changed") is not True
    assert str(path) in result["msg"] and "changed on disk" in result["msg"]
    assert path.read_bytes() == original + b"# another writer\n"
    assert os.listdir(path.parent) == [path.name]


def test_a_full_disk_during_the_backup_leaves_no_backup_and_no_temporary_file(tmp_path):
    """A file system with room for the file and the new text but not for the backup as well (tmpfs)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    size = os.path.getsize(os.path.join(FIXTURES, "helm-values-standalone.yaml.sample"))
    pages = -(-size // 4096) + -(-(size + 1024) // 4096)  # the file, and the new text beside it; no more
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % (pages * 4), "tmpfs", str(mount)], check=True)
    try:
        path = mount / "values.yaml"
        shutil.copyfile(os.path.join(FIXTURES, "helm-values-standalone.yaml.sample"), path)
        original = path.read_bytes()
        rc, output = _rerun(tmp_path, path)  # backup=True
        assert rc != 0 and "cannot write %s" % path in output and "No space left on device" in output
        assert path.read_bytes() == original and os.listdir(mount) == [path.name]
        assert SECRET not in output
        # there was room for the new text: it was the backup that did not fit, and without one the run converges
        rc, output = _rerun(tmp_path, path, backup=False)
        assert rc == 0 and "changed=1" in output and os.listdir(mount) == [path.name]
    finally:
        subprocess.run(["umount", str(mount)], check=False)

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module of this collection the way a user does: through the ``ansible`` CLI.

Integration tests call :func:`run_module` so that argument parsing, ``no_log``,
check mode, diff and the JSON result all go through real Ansible. The raw text
that Ansible printed is returned too, so tests can assert that no secret leaks.
"""

import json
import os
import subprocess
import sys
import tempfile

_BIN = os.path.dirname(sys.executable)
_CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")


def _flags(check, diff, verbosity):
    return (
        (["--check"] if check else []) + (["--diff"] if diff else []) + (["-" + "v" * verbosity] if verbosity else [])
    )


def run_module(module, args, check=False, diff=False, verbosity=0, env=None, timeout=300):
    """Run ``cx.api_auth.<module>`` on localhost and return ``(result, output)``.

    ``result`` is the module's result dict as written by the test-only
    ``result_file`` callback beside this file;
    ``output`` is everything Ansible printed (stdout and stderr) with the default
    callback, which is what a user sees.
    """
    cmd = [
        os.path.join(_BIN, "ansible"),
        "localhost",
        "-c",
        "local",
        "-i",
        "localhost,",
        "-e",
        "ansible_python_interpreter=%s" % sys.executable,
        "-m",
        module if "." in module else "cx.api_auth." + module,
        "-a",
        json.dumps(args),
        *_flags(check, diff, verbosity),
    ]
    with tempfile.TemporaryDirectory(prefix="cx-api-auth-result-") as tree:
        run_env = dict(os.environ)
        run_env.update(
            {
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                "ANSIBLE_CALLBACK_PLUGINS": _CALLBACKS,
                "ANSIBLE_CALLBACKS_ENABLED": "result_file",
                "CX_RESULT_FILE": os.path.join(tree, "result.json"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_LOCALHOST_WARNING": "0",
            }
        )
        run_env.update(env or {})
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
        output = proc.stdout + proc.stderr
        path = os.path.join(tree, "result.json")
        if not os.path.exists(path):
            raise AssertionError("ansible wrote no result (rc=%s):\n%s" % (proc.returncode, output))
        with open(path, encoding="utf-8") as handle:
            result = json.loads(handle.read().splitlines()[-1])
    return result, output


def run_playbook(playbook, inventory, check=False, diff=False, verbosity=0, extra_vars=None, env=None, timeout=600):
    """Run ``ansible-playbook`` (a path or a collection playbook such as ``cx.api_auth.site``) with
    ``inventory`` (a path); return ``(rc, output)``, everything Ansible printed."""
    cmd = [os.path.join(_BIN, "ansible-playbook"), "-i", str(inventory), playbook, *_flags(check, diff, verbosity)]
    if extra_vars:
        cmd.extend(["-e", json.dumps(extra_vars)])
    run_env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
    run_env.update(env or {})
    proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr

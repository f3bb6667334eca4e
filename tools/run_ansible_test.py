# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run ``ansible-test`` on this checkout, offline-capable.

ansible-test must run from a directory ending in ``ansible_collections/cx/api_auth``
and bootstraps pip in each virtual environment it creates with a "get-pip" script
downloaded from a CI file server this machine cannot reach. This wrapper:

1. copies the files git knows (tracked, plus untracked but not ignored) into a
   fresh ``<tmp>/ansible_collections/cx/api_auth`` tree, so leftovers in
   ``tests/output`` or build artefacts never reach the tests;
2. writes a stand-in for the bootstrap script into ansible-test's cache: it
   bootstraps pip with the standard library's ``ensurepip`` and then installs the
   requested packages from the package index (dropping the two options only the
   real script understands);
3. runs ``ansible-test <args>`` there and returns its exit code.

Usage: tools/run_ansible_test.py sanity --venv --python 3.12 [more ansible-test args]
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STAND_IN = '''"""Offline stand-in for pip's get-pip.py, written by cx.api_auth tools/run_ansible_test.py."""
import ensurepip
import os
import subprocess
import sys

ARGS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
ensurepip.bootstrap(upgrade=True)
ENV = dict(os.environ)
ENV.pop("GET_PIP", None)
if os.path.exists("/etc/ssl/certs/ca-certificates.crt"):
    ENV.setdefault("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + ARGS, env=ENV))
'''


def pip_versions():
    """The pip versions ansible-test bootstraps, read from its own source."""
    import ansible_test  # pylint: disable=import-outside-toplevel

    source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(source, encoding="utf-8") as handle:
        return sorted(set(re.findall(r"pip='([0-9.]+)'", handle.read())))


def write_stand_ins():
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    for version in pip_versions():
        path = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(STAND_IN)


def git_files():
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    return [name for name in out.split("\0") if name and os.path.lexists(os.path.join(ROOT, name))]


def lay_out(base):
    dest = os.path.join(base, "ansible_collections", "cx", "api_auth")
    for name in git_files():
        src = os.path.join(ROOT, name)
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), target)
        else:
            shutil.copy2(src, target)
    return dest


def interpreters(base):
    """A directory of ``python3.N`` links to the pyenv installs, for ``PATH``: pyenv's shims of the versions
    not selected fail (exit 127), so sanity would stop at them instead of testing each Python the modules
    support (tests/config.yml). Without pyenv, None (the interpreters on ``PATH`` serve as they are)."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = {}
    for version in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3.*"))):
        name = os.path.basename(version)
        if re.fullmatch(r"python3\.\d+", name) and os.access(version, os.X_OK):
            found[name] = version
    if not found:
        return None
    directory = os.path.join(base, "interpreters")
    os.makedirs(directory)
    for name, target in found.items():
        os.symlink(target, os.path.join(directory, name))
    return directory


def main(argv):
    write_stand_ins()
    base = tempfile.mkdtemp(prefix="cx-api-auth-ansible-test-")
    try:
        dest = lay_out(base)
        binary = os.path.join(os.path.dirname(sys.executable), "ansible-test")
        env = dict(os.environ)
        extra = interpreters(base)
        if extra:
            env["PATH"] = extra + os.pathsep + env.get("PATH", "")
        return subprocess.call([binary] + argv, cwd=dest, env=env)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

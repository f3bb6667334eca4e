# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Put the collections the tests need beside ``cx.api_auth``, taken from the ``ansible`` package.

The apply step of the APISIX role uses ``kubernetes.core`` (``helm``, ``helm_template``, ``k8s_info``).
There is no Galaxy here: the ``ansible`` package on PyPI bundles it. Its pin is the one the benchmark's
community way uses (``benchmarks/requirements-community.txt``, one pin for both). The wheel is downloaded
once into ``${CX_API_AUTH_CACHE:-~/.cache/cx-api-auth}/pip`` with pip and only the collections listed in
``COLLECTIONS`` are extracted into the collections root of ``tools/collection_link.py``, so that
``ANSIBLE_COLLECTIONS_PATH`` finds them beside this checkout. Idempotent and cheap when done.

CLI: ``python tools/ext_collections.py`` (run with the virtual environment's Python: it uses its pip);
prints the collections root.
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import collection_link

ROOT = collection_link.ROOT
PIN_FILE = os.path.join(ROOT, "benchmarks", "requirements-community.txt")
COLLECTIONS = ("kubernetes/core",)


def ansible_version(pin_file=PIN_FILE):
    """The version of the ``ansible`` package pinned in ``pin_file`` (``ansible==X.Y.Z``)."""
    with open(pin_file, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"\s*ansible==([0-9][0-9A-Za-z.]*)\s*$", line)
            if match:
                return match.group(1)
    raise SystemExit("%s pins no ansible==<version>" % pin_file)


def _wheel(version):
    cache = os.path.join(
        os.environ.get("CX_API_AUTH_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "cx-api-auth"), "pip"
    )
    os.makedirs(cache, exist_ok=True)
    name = "ansible-%s-py3-none-any.whl" % version
    path = os.path.join(cache, name)
    if not os.path.exists(path):
        sys.stderr.write("[collections] downloading the ansible %s package (once, ~50 MB)\n" % version)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps"]
            + ["--only-binary", ":all:", "-d", cache, "ansible==%s" % version],
            check=True,
        )
    return path


def ensure(base=None):
    """Extract every collection of ``COLLECTIONS`` into the collections root (once); return the root.

    Concurrent callers (pytest-xdist workers) wait for each other on a lock beside the collections.
    """
    base = base or collection_link.ensure()
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".ext_collections.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _extract(base)
    return base


def _extract(base):
    version = ansible_version()
    for collection in COLLECTIONS:
        target = os.path.join(base, "ansible_collections", collection)
        marker = os.path.join(target, ".from-ansible-%s" % version)
        if os.path.exists(marker):
            continue
        prefix = "ansible_collections/%s/" % collection
        os.makedirs(os.path.dirname(target), exist_ok=True)
        staging = tempfile.mkdtemp(dir=base)  # same file system: the rename below is atomic
        try:
            with zipfile.ZipFile(_wheel(version)) as wheel:
                members = [name for name in wheel.namelist() if name.startswith(prefix)]
                if not members:
                    raise SystemExit("the ansible %s package holds no %s" % (version, collection))
                wheel.extractall(staging, members)
            with open(os.path.join(staging, prefix, os.path.basename(marker)), "w", encoding="utf-8"):
                pass
            if os.path.isdir(target):
                shutil.rmtree(target)
            os.replace(os.path.join(staging, prefix), target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    sys.stdout.write(ensure() + "\n")

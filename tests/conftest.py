# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest set-up shared by unit and integration tests.

Puts the checkout on ``sys.path`` as ``ansible_collections.cx.api_auth`` (through
``tools/collection_link.py``; ``tools/`` itself is on pytest's ``pythonpath``, see
pytest.ini) and on ``ANSIBLE_COLLECTIONS_PATH`` for the ``ansible``/``ansible-playbook``
processes that integration tests start. This is the one bootstrap, like ansible-test's.

Also the fixtures both kinds of test use: :func:`self_signed_certificate`.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import collection_link
import pytest

COLLECTIONS_ROOT = collection_link.ensure(collection_link.ROOT)
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_ROOT
# The report of every site/verify run a test starts (playbooks/report.yml) goes to a directory of this process's
# own, not into the checkout (each xdist worker has its own)
os.environ["CX_API_AUTH_REPORT_DIR"] = tempfile.mkdtemp(prefix="cx-api-auth-report-")


@pytest.fixture(scope="session")
def self_signed_certificate(tmp_path_factory):
    """``(certificate file, key file)``: a throwaway self-signed certificate for 127.0.0.1 (its own CA)."""
    assert shutil.which("openssl"), "this test needs the openssl command (Debian package openssl)"
    tree = tmp_path_factory.mktemp("tls")
    cert, key = str(tree / "cert.pem"), str(tree / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key, "-out", cert]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key

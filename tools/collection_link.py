# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Expose this checkout as ``ansible_collections/cx/api_auth`` for tests and tools.

Ansible finds a collection only under an ``ansible_collections/<namespace>/<name>``
directory. The checkout lives wherever it was cloned, so this helper keeps a symlink
to it in a per-checkout directory outside the tree (outside, so that nothing that
walks the checkout loops through it). Printing the collections root lets the
Makefile put it on ``ANSIBLE_COLLECTIONS_PATH``; tests import :func:`ensure`.
"""

import hashlib
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure(root=ROOT):
    """Create (or repair) the symlink and return the collections root directory."""
    digest = hashlib.sha1(root.encode("utf-8")).hexdigest()[:10]
    base = os.environ.get("CX_API_AUTH_COLLECTIONS") or os.path.join(tempfile.gettempdir(), "cx-api-auth-%s" % digest)
    parent = os.path.join(base, "ansible_collections", "cx")
    link = os.path.join(parent, "api_auth")
    os.makedirs(parent, exist_ok=True)
    if os.path.islink(link) and os.readlink(link) != root:
        os.unlink(link)
    if not os.path.lexists(link):
        try:
            os.symlink(root, link)
        except FileExistsError:  # another process (a parallel test worker) made it meanwhile
            pass
    return base


if __name__ == "__main__":
    sys.stdout.write(ensure() + "\n")

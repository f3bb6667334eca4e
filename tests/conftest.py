# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest set-up shared by unit and integration tests.

Puts the checkout on ``sys.path`` as ``ansible_collections.cx.api_auth`` (through
``tools/collection_link.py``; ``tools/`` itself is on pytest's ``pythonpath``, see
pytest.ini) and on ``ANSIBLE_COLLECTIONS_PATH`` for the ``ansible``/``ansible-playbook``
processes that integration tests start. This is the one bootstrap, like ansible-test's.
"""

import os
import sys

import collection_link

COLLECTIONS_ROOT = collection_link.ensure(collection_link.ROOT)
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_ROOT

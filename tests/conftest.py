"""Pytest set-up shared by unit and integration tests.

Puts the checkout on ``sys.path`` as ``ansible_collections.cx.api_auth`` (through
``tools/collection_link.py``) and on ``ANSIBLE_COLLECTIONS_PATH`` for the
``ansible``/``ansible-playbook`` processes that integration tests start.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, "tools"))

import collection_link  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS_ROOT = collection_link.ensure(_ROOT)
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_ROOT

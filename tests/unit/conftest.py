# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by the unit tests (the fakes themselves live in ``fakes.py``)."""

import pytest

from . import fakes


@pytest.fixture
def make_keycloak(monkeypatch):
    """``make_keycloak(**options)``: a :class:`fakes.FakeAdmin` that the Keycloak modules talk to."""
    return lambda **options: fakes.install(monkeypatch, fakes.FakeAdmin(**options))


@pytest.fixture
def keycloak(make_keycloak):
    """The fake Keycloak 26 that the Keycloak modules talk to."""
    return make_keycloak()

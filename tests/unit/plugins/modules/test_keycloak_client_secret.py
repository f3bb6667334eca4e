# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/keycloak_client_secret.py through ``main()`` on the fake Keycloak: what the real
servers cannot show (a regeneration whose answer is lost, an admin without manage-clients)."""

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._cx.places import PUBLISHED_CIM_SECRET
from ansible_collections.cx.api_auth.plugins.modules import keycloak_client_secret as module

from ...fakes import CIM_SECRET
from ._module_harness import run_module_main


@pytest.fixture
def published(keycloak):
    keycloak.secrets[keycloak.uuid_of("cim")] = PUBLISHED_CIM_SECRET
    return keycloak


def run_main(capsys, args=None, check=False, printed=(PUBLISHED_CIM_SECRET,)):
    return run_module_main(capsys, module, dict({"realm": "expertflow"}, **(args or {})), secrets=printed, check=check)


def regenerations(keycloak):
    return [write for write in keycloak.writes if write[0] == "generate_client_secrets"]


def test_check_mode_predicts_and_sends_no_write(published, capsys):
    result, failed = run_main(capsys, {"return_secret": True}, check=True)
    assert not failed and result["changed"] is True and "client_secret" not in result
    assert result["msg"] == "Would regenerate the secret of client 'cim' in realm 'expertflow'"
    assert published.writes == []


def test_a_lost_answer_that_was_applied_is_read_back_never_sent_twice(published, capsys):
    published.time_out("generate_client_secrets", applied=True)
    result, failed = run_main(capsys, {"return_secret": True}, printed=())  # asked for: the result holds both
    assert not failed and result["changed"] is True and result["previous_client_secret"] == PUBLISHED_CIM_SECRET
    assert "client_secret" not in result["msg"] and PUBLISHED_CIM_SECRET not in result["msg"]
    assert result["client_secret"] == published.secrets[published.uuid_of("cim")] != PUBLISHED_CIM_SECRET
    assert len(regenerations(published)) == 1


def test_a_lost_answer_that_was_not_applied_fails_as_unknown_and_says_so(published, capsys):
    published.time_out("generate_client_secrets", applied=False)
    result, failed = run_main(capsys)
    assert failed and result["changed"] is True
    assert "gave no answer" in result["msg"] and "read back: the secret as it was" in result["msg"]
    assert published.secrets[published.uuid_of("cim")] == PUBLISHED_CIM_SECRET
    assert len(regenerations(published)) == 1


def test_an_admin_without_manage_clients_is_told_the_role(published, capsys):
    published.fail["generate_client_secrets"] = (403, {"error": "HTTP 403 Forbidden"})
    result, failed = run_main(capsys)
    assert failed and "manage-clients role of realm-management" in result["msg"]
    assert published.secrets[published.uuid_of("cim")] == PUBLISHED_CIM_SECRET


def test_a_secret_that_is_not_the_default_is_kept_and_not_returned(keycloak, capsys):
    result, failed = run_module_main(capsys, module, {"realm": "expertflow"}, secrets=(CIM_SECRET,))
    assert not failed and result["changed"] is False and keycloak.writes == []
    assert result["published_default"] is False and "client_secret" not in result

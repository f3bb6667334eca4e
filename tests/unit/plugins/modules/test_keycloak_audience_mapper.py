# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/keycloak_audience_mapper.py (the thin module layer).

``main()`` runs for real through AnsibleModule on the fake Keycloak of ``fakes``, so option
parsing, messages, check mode, diff and warnings are what a user gets.
"""

import os

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import audience_mapper as am
from ansible_collections.cx.api_auth.plugins.modules import keycloak_audience_mapper as module

from ..module_utils.test_audience_mapper import GUIDE_CONFIG_26
from ._module_harness import run_module_main, warnings_of

GUIDE = {"realm": "expertflow", "client_id": "cim"}


def run_main(capsys, args, check=False, diff=False):
    """Run main() with ``args`` (plus the connection options); return (result, failed)."""
    return run_module_main(capsys, module, args, check=check, diff=diff)


def test_create_check_mode_then_create_then_up_to_date(keycloak, capsys):
    cim = keycloak.uuid_of("cim")
    result, failed = run_main(capsys, GUIDE, check=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["msg"] == "Would create mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert result["mapper"]["config"] == dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true"})
    assert result["diff"] == {"before": {}, "after": result["mapper"]}
    assert result["client_uuid"] == cim and result["client_scope_id"] is None
    assert keycloak.writes == [] and len(keycloak.logins) == 1
    predicted = result["diff"]

    result, failed = run_main(capsys, GUIDE, diff=True)
    assert not failed and result["changed"] is True
    assert result["msg"] == "Created mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert result["diff"] == predicted
    assert result["mapper"] == keycloak.mappers[cim][0]
    keycloak.mappers[cim] = []

    result, failed = run_main(capsys, GUIDE)
    assert not failed and result["changed"] is True and "diff" not in result

    result, failed = run_main(capsys, GUIDE, diff=True)
    assert not failed and result["changed"] is False
    assert result["msg"] == "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is up to date"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert len(keycloak.writes) == 2


def test_update_and_delete_messages(keycloak, capsys):
    keycloak.put_mapper(keycloak.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    args = dict(GUIDE, add_to_id_token=False)
    assert run_main(capsys, args, check=True)[0]["msg"].startswith("Would update mapper 'fix-audience'")
    result = run_main(capsys, args)[0]
    assert (
        result["msg"] == "Updated mapper 'fix-audience' on client 'cim' in realm 'expertflow' (changed id.token.claim)"
    )
    assert result["mapper"]["config"]["id.token.claim"] == "false"
    absent = dict(GUIDE, state="absent")
    assert run_main(capsys, absent, check=True)[0]["msg"].startswith("Would delete mapper 'fix-audience'")
    result = run_main(capsys, absent)[0]
    assert result["msg"] == "Deleted mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert result["mapper"] is None
    result = run_main(capsys, absent)[0]
    assert result["changed"] is False
    assert result["msg"] == "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is already absent"


def test_client_scope_messages(keycloak, capsys):
    args = {"realm": "expertflow", "client_scope": "api-audience", "included_custom_audience": "urn:cx"}
    result, failed = run_main(capsys, args)
    assert not failed
    assert result["msg"] == "Created mapper 'fix-audience' on client scope 'api-audience' in realm 'expertflow'"
    assert result["client_scope_id"] == keycloak.scope_uuid("api-audience") and result["client_uuid"] is None


def test_warnings_reach_the_user(make_keycloak, capsys):
    make_keycloak(version="19.0.1")
    result, failed = run_main(capsys, dict(GUIDE, add_to_introspection=True))
    assert not failed
    assert [w for w in warnings_of(result) if "add_to_introspection=true" in w and "'fix-audience'" in w]


@pytest.mark.parametrize(
    "args, facts",
    [
        ({"realm": "expertflow"}, ["one of the following is required", "client_id", "client_scope"]),
        (
            {"realm": "expertflow", "client_id": "cim", "client_scope": "x"},
            ["mutually exclusive", "client_id|client_scope"],
        ),
        (
            dict(GUIDE, included_client_audience="a", included_custom_audience="b"),
            ["mutually exclusive", "included_client_audience|included_custom_audience"],
        ),
        (
            {"realm": "expertflow", "client_scope": "api-audience"},
            ["client scope 'api-audience'", "included_client_audience", "included_custom_audience"],
        ),
        (dict(GUIDE, name=""), ["name", "empty"]),
        (dict(GUIDE, state="gone"), ["state", "present, absent", "gone"]),
    ],
)
def test_bad_input_fails_before_connecting(keycloak, capsys, args, facts):
    result, failed = run_main(capsys, args)
    assert failed
    for fact in facts:
        assert fact in result["msg"]
    assert keycloak.logins == [] and keycloak.writes == []


def test_connection_errors_name_mapper_client_and_realm(keycloak, capsys):
    result, failed = run_main(capsys, {"realm": "nope", "client_id": "cim"})
    assert failed
    for fact in ("mapper 'fix-audience'", "client 'cim'", "Realm 'nope' does not exist", "http://kc.example"):
        assert fact in result["msg"]
    result, failed = run_main(capsys, dict(GUIDE, auth_password="Wr0ng-pw"))
    assert failed and "rejected the credentials of user 'admin' in realm 'master'" in result["msg"]
    assert "Wr0ng-pw" not in result["msg"]


def test_errors_of_the_logic_are_reported_once(keycloak, capsys):
    result, failed = run_main(capsys, {"realm": "expertflow", "client_id": "nope"})
    assert failed and result["msg"] == "client 'nope' does not exist in realm 'expertflow'"
    assert keycloak.writes == []


def test_unexpected_errors_fail_cleanly_without_secrets_or_traceback(keycloak, capsys, monkeypatch):
    """An unforeseen exception becomes a failed result naming the work; secrets, tokens included, masked."""
    from ansible.module_utils._internal import _traceback  # ansible-core 2.19+, as in the venv

    monkeypatch.setattr(_traceback, "_module_tracebacks_enabled_events", frozenset(_traceback.TracebackEvent))

    def broken(connection, params):
        token = connection.admin.connection.token["access_token"]
        raise ValueError("cannot parse answer for admin:%s with %s" % (params["auth_password"], token))

    monkeypatch.setattr(am, "resolve_owner", broken)
    result, failed = run_main(capsys, GUIDE)
    assert failed
    assert result["msg"] == (
        "Managing mapper 'fix-audience' on client 'cim' in realm 'expertflow' failed:"
        " ValueError: cannot parse answer for admin:******** with ********"
    )
    assert "exception" not in result
    assert keycloak.writes == []


def test_no_permission_in_check_mode(make_keycloak, capsys):
    keycloak = make_keycloak(configure=False)
    result, failed = run_main(capsys, GUIDE, check=True)
    assert failed
    for fact in ("no permission to create", "mapper 'fix-audience'", "client 'cim'", "realm 'expertflow'"):
        assert fact in result["msg"]
    assert keycloak.writes == []


def test_module_is_in_the_keycloak_action_group():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))
    with open(os.path.join(root, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    assert "keycloak_audience_mapper" in runtime["action_groups"]["keycloak"]


@pytest.mark.parametrize(
    "option, value",
    [("auth_password", 260810), ("auth_password", 4711), ("auth_client_secret", 260810), ("token", 260810)],
)
@pytest.mark.parametrize("check", [False, True])
def test_a_number_where_a_secret_belongs_is_refused_before_connecting(keycloak, capsys, option, value, check):
    args = dict(GUIDE, **{option: value})
    if option != "auth_password":
        args.update(auth_username=None, auth_password=None)
    result, failed = run_module_main(capsys, module, args, ("260810", "0775312"), check=check, diff=True)
    assert failed and not result.get("changed")
    for fact in ("mapper 'fix-audience' on client 'cim' in realm 'expertflow'", option + " must be text", "quote it"):
        assert fact in result["msg"]
    assert keycloak.logins == [] and keycloak.calls == [] and keycloak.writes == []


@pytest.mark.parametrize("check", [False, True])
def test_public_client_is_refused_before_any_write(keycloak, capsys, check):
    keycloak.clients[keycloak.uuid_of("cim")]["publicClient"] = True
    result, failed = run_main(capsys, GUIDE, check=check, diff=True)
    assert failed and not result.get("changed")
    for fact in (
        "mapper 'fix-audience' on client 'cim' in realm 'expertflow'",
        "public",
        "Client authentication' ON for client 'cim' in realm 'expertflow'",
        "confidential",
        "publicClient: false",
        "require_confidential: false",
        "this task changed nothing",
    ):
        assert fact in result["msg"]
    assert keycloak.writes == [] and keycloak.mappers[keycloak.uuid_of("cim")] == []


def test_public_client_allowed_on_request_and_for_deleting(keycloak, capsys):
    cim = keycloak.uuid_of("cim")
    keycloak.clients[cim]["publicClient"] = True
    result, failed = run_main(capsys, dict(GUIDE, require_confidential=False))
    assert not failed and result["changed"] is True and len(keycloak.mappers[cim]) == 1
    result, failed = run_main(capsys, dict(GUIDE, state="absent"))
    assert not failed and result["changed"] is True and keycloak.mappers[cim] == []

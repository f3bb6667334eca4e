# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/keycloak_client_secret_info.py through ``main()`` on the fake Keycloak."""

import pytest

from ansible_collections.cx.api_auth.plugins.modules import keycloak_client_secret_info as module

from ...fakes import CIM_SECRET, URL
from ._module_harness import run_module_main

GIVEN = "Given-but-stale-secret-42"


def run_main(capsys, args, check=False, printed_secrets=(CIM_SECRET, GIVEN)):
    return run_module_main(capsys, module, dict({"realm": "expertflow"}, **args), secrets=printed_secrets, check=check)


def test_reads_the_secret_and_the_realms_base_path(keycloak, capsys):
    result, failed = run_module_main(capsys, module, {"realm": "expertflow", "compare_url": URL + "/auth"}, check=True)
    assert not failed and result["changed"] is False
    assert result["client_secret"] == CIM_SECRET  # returned for the caller's no_log task
    assert result["client_secret_source"] == "keycloak" and result["client_uuid"] == keycloak.uuid_of("cim")
    assert result["base_path"] == "" and result["issuer"] == URL + "/realms/expertflow"
    assert result["realm_url"] == URL + "/realms/expertflow"
    assert result["compare_url_path_ok"] is False and result["compare_url_fixed"] == URL
    assert keycloak.writes == []


def test_a_given_secret_is_compared_and_never_returned(keycloak, capsys):
    result, failed = run_main(capsys, {"client_secret": CIM_SECRET}, printed_secrets=())
    assert not failed and result["client_secret_source"] == "compared" and "client_secret" not in result
    assert CIM_SECRET not in repr(result)
    result, failed = run_main(capsys, {"client_secret": GIVEN})
    assert failed
    assert "client 'cim' in realm 'expertflow'" in result["msg"] and "neither secret is shown" in result["msg"]


def test_refusals_name_client_and_realm(keycloak, capsys):
    result, failed = run_main(capsys, {"client_id": "account"})
    assert failed and "client 'account' in realm 'expertflow' is public" in result["msg"]
    result, failed = run_main(capsys, {"client_id": "nope"})
    assert failed and "Client 'nope' does not exist in realm 'expertflow'" in result["msg"]
    logins = len(keycloak.logins)
    result, failed = run_main(capsys, {"client_secret": 775312})
    assert failed and "client_secret must be text" in result["msg"] and "quote it" in result["msg"]
    result, failed = run_main(capsys, {"compare_url": "keycloak.svc/auth"})
    assert failed and "compare_url must be an http:// or https:// URL" in result["msg"]
    assert len(keycloak.logins) == logins  # these two are refused before anything is sent


def test_a_server_under_auth(make_keycloak, capsys):
    make_keycloak(version="19.0.1")
    args = {"realm": "expertflow", "auth_keycloak_url": URL + "/auth", "compare_url": "http://keycloak.svc/auth/"}
    result, failed = run_module_main(capsys, module, args)
    assert not failed and result["base_path"] == "/auth" and result["compare_url_path_ok"] is True
    assert result["issuer"] == URL + "/auth/realms/expertflow"


@pytest.mark.parametrize(
    "version, fail, expected",
    [
        ("26.7.3", None, "26.7.3"),
        ("19.0.1", None, "19.0.1"),
        ("26.7.3", (403, {"error": "HTTP 403 Forbidden"}), None),  # an admin who may not read the server info
        ("26.7.3", (500, {"error": "unknown_error"}), None),
        ("", None, None),  # a server info without the version (Keycloak leaves it out for a realm's admin)
    ],
)
def test_the_server_s_version_for_the_report_never_fails_the_module(make_keycloak, capsys, version, fail, expected):
    keycloak = make_keycloak(version=version)
    if fail:
        keycloak.fail["get_server_info"] = fail
    result, failed = run_main(capsys, {}, printed_secrets=())  # the secret read is returned (the caller's no_log)
    assert not failed and result["server_version"] == expected
    assert result["client_secret"] == CIM_SECRET
    assert len([call for call in keycloak.calls if call[0] == "get_server_info"]) == 1  # read once


def test_a_disabled_client_is_refused_and_its_secret_not_read(keycloak, capsys):
    keycloak.clients[keycloak.uuid_of("cim")]["enabled"] = False
    result, failed = run_main(capsys, {})
    assert failed and "client 'cim' in realm 'expertflow' is disabled" in result["msg"]
    assert not [c for c in keycloak.calls if c[0] == "get_client_secrets"]

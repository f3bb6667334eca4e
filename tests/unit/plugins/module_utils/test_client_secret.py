# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the pure parts of plugins/module_utils/_keycloak/client_secret.py."""

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import client_secret as cs


@pytest.mark.parametrize(
    "url, path",
    [
        ("http://kc:8080", ""),
        ("http://kc:8080/", ""),
        ("https://kc.example/auth", "/auth"),
        ("https://kc.example/auth/", "/auth"),
        ("https://kc.example/sso/auth//", "/sso/auth"),
    ],
)
def test_base_path(url, path):
    assert cs.base_path(url) == path


@pytest.mark.parametrize(
    "compare_url, server_path, expected",
    [
        # Keycloak 26 at / and a gateway URL under /auth: the dead discovery URL of issue 10
        ("http://keycloak.ef-external.svc/auth", "", (False, "http://keycloak.ef-external.svc")),
        # Keycloak 19 under /auth and a gateway URL without it
        ("http://keycloak.ef-external.svc", "/auth", (False, "http://keycloak.ef-external.svc/auth")),
        ("http://keycloak.ef-external.svc/", "/auth", (False, "http://keycloak.ef-external.svc/auth")),
        ("http://keycloak.ef-external.svc/auth/", "/auth", (True, "http://keycloak.ef-external.svc/auth")),
        ("https://other-host:8443", "", (True, "https://other-host:8443")),
        ("http://kc/auth?x=1", "/auth", (False, "http://kc/auth")),
    ],
)
def test_path_check_compares_paths_only_and_names_the_fix(compare_url, server_path, expected):
    assert cs.path_check(compare_url, server_path) == expected


@pytest.mark.parametrize("url", ["keycloak.svc/auth", "ftp://kc/auth", "http://", "", None])
def test_path_check_refuses_what_is_no_http_url(url):
    assert cs.path_check(url, "") is None


def test_refusal_names_client_realm_and_the_setting():
    assert cs.refusal({"clientId": "cim", "publicClient": False}, "r") is None
    assert cs.refusal({"clientId": "cim", "clientAuthenticatorType": "client-secret-jwt"}, "r") is None
    public = cs.refusal({"clientId": "cim", "publicClient": True}, "r")
    assert "client 'cim' in realm 'r' is public" in public and "Client authentication" in public
    jwt = cs.refusal({"clientId": "cim", "clientAuthenticatorType": "client-jwt"}, "r")
    assert "'client-jwt'" in jwt and "Client Id and Secret" in jwt


def test_same_secret_and_the_mismatch_message_shows_neither():
    assert cs.same_secret("abc", "abc")
    assert not cs.same_secret("abc", "abd")
    assert not cs.same_secret("abc", "abc ")
    message = cs.mismatch_message("cim", "tenant-a", "https://kc.example")
    assert "client 'cim'" in message and "realm 'tenant-a'" in message and "https://kc.example" in message
    assert "neither secret is shown" in message


def test_target():
    assert cs.target({"client_id": "cim", "realm": "x"}) == "the secret of client 'cim' in realm 'x'"


def test_a_disabled_client_is_refused_like_a_public_one():
    disabled = cs.refusal({"clientId": "cim", "publicClient": False, "enabled": False}, "r")
    assert "client 'cim' in realm 'r' is disabled" in disabled and "Enabled" in disabled
    assert cs.refusal({"clientId": "cim", "publicClient": False, "enabled": True}, "r") is None

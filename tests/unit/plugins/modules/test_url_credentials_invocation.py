# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials inside a URL option never reach the module's echo of its arguments (``invocation``, which
ansible-core adds up to 2.20 always and from 2.21 with ``inject_invocation``) nor any other output."""

import pytest
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking

from .test_apisix_route_oidc import PLUGIN_ARGS, _copy, run

PASSWORD = "Url-pw-0815-in-args"
TOKEN = "ghp-token-in-url-4711"
# ansible-core 2.21+ echoes the arguments when asked to (inject_invocation); older releases always do
ECHO = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}

# (URL options, with credentials inside): the URL options of apisix_route_oidc, one credential each
URL_ARGS = [
    {"keycloak_url": "http://kcuser:%s@keycloak.ef-external.svc/auth" % PASSWORD},
    {"discovery": "https://%s@kc/realms/tenant-a/.well-known/openid-configuration" % TOKEN},
    {"extra_config": {"proxy_opts": {"https_proxy": "http://puser:%s@proxy:3128" % PASSWORD}}},
    {"extra_config": {"introspection_endpoint": "https://%s@kc/introspect" % TOKEN}},
    {"admin_url": "http://admin:%s@gw:9180" % PASSWORD},  # refused (no user in admin_url): the failure too
]


@pytest.mark.parametrize("url_args", URL_ARGS, ids="-".join)
@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
def test_url_credentials_are_masked_in_the_invocation(tmp_path, capsys, url_args, check):
    args = dict(PLUGIN_ARGS, routes=["files-main"], **ECHO, **url_args)
    if "admin_url" not in url_args:
        args["path"] = str(_copy(tmp_path))
    result = run(capsys, check=check, **args)
    assert "invocation" in result  # the echo is there ...
    assert PASSWORD not in result["_output"] and TOKEN not in result["_output"]  # ... without the credentials


@pytest.mark.parametrize(
    "value, found",
    [
        ("http://user:pw1@host/x", {"pw1"}),
        ("https://tok2@host", {"tok2"}),
        ({"a": ["x http://u:pw3@h y", {"k": "https://tok4@h"}]}, {"pw3", "tok4"}),
        ("http://user:********@host and mail@example.org", set()),
        (("no url", 5, None, True), set()),
    ],
)
def test_url_credentials(value, found):
    assert masking.url_credentials(value) == found

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""apisix_live_routes through main(): the documents never come back (not in the result, not as the invocation)."""

import json

import pytest
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.modules import apisix_live_routes

from ..module_utils.test_live_routes import BLOCK, OTHER_SECRET, SECRET, _changed, configmap, rendered, route

# ansible-core 2.21+ echoes the arguments when asked to (inject_invocation); older releases always do
ECHO = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}


def run_main(capsys, args):
    with patch_module_args(dict(args, **ECHO)):
        with pytest.raises(SystemExit) as exit_info:
            apisix_live_routes.main()
    out = capsys.readouterr().out
    return out, json.loads(out), exit_info.value.code != 0


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
@pytest.mark.parametrize("require_live", [False, True], ids=["report", "require_live"])
def test_documents_and_secrets_never_in_the_output(capsys, check, require_live):
    args = {
        "rendered": rendered([route("a", BLOCK), route("b", BLOCK)]),
        "live": [configmap([route("a", _changed(client_secret=OTHER_SECRET))])],
        "release_name": "apisix",
        "route_selector": ["openid_connect_block"],
        "require_live": require_live,
        "_ansible_check_mode": check,
    }
    out, result, failed = run_main(capsys, args)
    assert failed is require_live and result["changed"] is False
    assert result["not_live"] == ["a", "b"] and result["configmap"] == "ef-external/apisix"
    assert SECRET not in out and OTHER_SECRET not in out and "routes:" not in out
    shown = result["invocation"]["module_args"]
    assert shown["rendered"] == shown["live"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert shown["release_name"] == "apisix"  # the other options stay readable (live is not no_log)


def test_routes_or_selector_required(capsys):
    args = {"rendered": rendered([route("a")]), "live": [], "release_name": "apisix"}
    _out, result, failed = run_main(capsys, args)
    assert failed and "one of the following is required: routes, route_selector" in result["msg"]

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the unmanaged keys of an existing openid-connect block (plugins/module_utils/_apisix/unmanaged.py)."""

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import unmanaged

DESIRED = {"discovery": "http://kc/realms/r/.well-known/openid-configuration", "realm": "r", "client_id": "cim"}


@pytest.mark.parametrize(
    ("existing", "version", "kept", "paths"),
    [
        ({"ssl_verify": False}, (3, 11, 0), {"ssl_verify": False}, ["ssl_verify"]),
        ({"introspection_interval": 30}, (3, 11, 0), {"introspection_interval": 30}, ["introspection_interval"]),
        ({"session": {"secret": "x" * 16}}, (3, 11, 0), {"session": {"secret": "x" * 16}}, ["session.secret"]),
        ({"_meta": {"priority": 5, "disable": True}}, (3, 11, 0), {"_meta": {"priority": 5}}, ["_meta.priority"]),
        ({"_meta": {"disable": True}}, (3, 11, 0), {}, []),  # the 3.x switch-off flag is the module's
        ({"disable": True}, (2, 15, 0), {}, []),  # the 2.x one too
        ({"disable": True}, (3, 11, 0), {"disable": True}, ["disable"]),  # not a flag in 3.x
        ({"enable": True}, (3, 11, 0), {"enable": True}, []),  # the chart's enable: true stays, unnamed
        ({"enable": False}, (3, 11, 0), {}, []),  # enable: false goes (APISIX would run the plugin anyway)
        ({"realm": "old", "client_secret": "old", "audience": ["x"]}, (3, 11, 0), {}, []),  # managed keys
    ],
)
def test_merge_keeps_or_removes_what_the_module_does_not_manage(existing, version, kept, paths):
    config, found = unmanaged.merge(existing, DESIRED, version, keep=True)
    assert config == dict(DESIRED, **kept) and found == paths
    config, found = unmanaged.merge(existing, DESIRED, version, keep=False)
    assert config == dict(DESIRED, **({"enable": True} if existing.get("enable") is True else {}))
    assert found == paths


def test_merge_inside_a_mapping_that_extra_config_sets():
    desired = dict(DESIRED, session={"cookie": {"lifetime": 60}})
    existing = {"session": {"cookie": {"lifetime": 10, "renew": 5}, "secret": "s" * 16}}
    config, found = unmanaged.merge(existing, desired, (3, 11, 0))
    assert config["session"] == {"cookie": {"lifetime": 60, "renew": 5}, "secret": "s" * 16}
    assert found == ["session.cookie.renew", "session.secret"]


def test_the_warning_names_routes_and_paths_never_values():
    message = unmanaged.warning({"a": ["session.secret"], "b": [], "c": ["ssl_verify"]}, keep=True)
    assert "route 'a': session.secret; route 'c': ssl_verify" in message and "unmanaged_keys=keep" in message
    assert unmanaged.warning({"a": []}, keep=True) is None
    assert "were removed (unmanaged_keys=remove)" in unmanaged.warning({"a": ["x"]}, keep=False)

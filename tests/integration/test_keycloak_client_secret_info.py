# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cx.api_auth.keycloak_client_secret_info against the real servers: what it reads, and its one-line ``msg``.

Runs once per server of the ``keycloak`` fixture (26.x at ``/``, 19.x under ``/auth``), in a tenant realm
of its own; the secret it returns is compared with the one the fixture seeded, and never shows in the
``msg`` nor, for a given secret, anywhere in the output.
"""

from urllib.parse import urlsplit

import pytest

from ._runner import run_module

pytestmark = pytest.mark.keycloak

MODULE = "keycloak_client_secret_info"


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
def test_read_compare_and_compare_url_are_said_in_one_line(tenant, check):
    where = "client 'cim' in realm '%s'" % tenant.realm
    base = urlsplit(tenant.kc.url).path.rstrip("/")  # "" on 26, "/auth" on 19

    result, output = run_module(MODULE, tenant.args(client_id="cim"), check=check)
    assert result["failed"] is False and result["changed"] is False, output
    assert result["client_secret"] == tenant.client_secret
    assert result["msg"] == "Read the secret of %s" % where

    result, output = run_module(MODULE, tenant.args(client_id="cim", client_secret=tenant.client_secret), check=check)
    assert result["failed"] is False and "client_secret" not in result, output
    assert result["msg"] == "The given secret of %s is the one Keycloak holds" % where
    assert tenant.client_secret not in output

    right = "http://keycloak.ef-external.svc" + base
    result, output = run_module(MODULE, tenant.args(client_id="cim", compare_url=right), check=check)
    assert result["failed"] is False and result["compare_url_path_ok"] is True, output
    assert result["msg"] == "Read the secret of %s; compare_url has the server's base path" % where

    wrong = "http://keycloak.ef-external.svc" + ("" if base else "/auth")
    result, output = run_module(MODULE, tenant.args(client_id="cim", compare_url=wrong), check=check)
    assert result["failed"] is False and result["compare_url_path_ok"] is False, output
    assert result["msg"] == "Read the secret of %s; compare_url does not have the server's base path: use %s" % (
        where,
        right,
    )
    assert tenant.client_secret not in result["msg"] and "\n" not in result["msg"]


def test_the_server_s_version_is_returned_for_the_run_s_report(tenant):
    """The admin of master reads the server info once: its version is the one the report shows."""
    result, output = run_module(MODULE, tenant.args(client_id="cim"))
    assert result["failed"] is False, output
    assert result["server_version"] == tenant.kc.version

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a tenant costs Keycloak, counted by a reverse proxy (``counting_proxy``, tools/kc/proxy.py).

Through ``ansible-playbook`` with the role ``cx.api_auth.keycloak_api_auth``, two tenants (one host
each) on each server of the ``keycloak`` fixture (26.7.3 at ``/``, 19.0.1 under ``/auth``): a first
converge, then a no-op rerun whose requests are compared with the budget (at most
:data:`NO_OP_BUDGET` requests per tenant, the customer's password check aside), exactly one admin
token grant per tenant, nothing read twice and exactly the reads :data:`NO_OP_READS` the decision
needs. No time is measured; a regression shows as a request more.

And the refresh: a token that has expired when a module uses it costs one new login (the module has
the credentials too) and never the run; an expired token without credentials is refused, unmasked
nowhere.
"""

import json
import re
import sys
import time

import pytest

from ._runner import run_module, run_playbook
from .helpers import claims

pytestmark = pytest.mark.keycloak

CUSTOMER_PASSWORD = "Cust-pw-budget-4711"
# Requests of one tenant's no-op rerun, the customer's password check not counted (issue 11).
NO_OP_BUDGET = 8
# Tasks of one tenant's run (the PLAY RECAP's ok): each costs the tenant a worker process on the controller,
# a controller-only task about 0.06 s of CPU (benchmarks/README.md): the role's argument spec, its input
# checks (two tasks), the admin token, the two modules and the tenant's line.
TASK_BUDGET = 7
# Exactly what a no-op rerun of one tenant sends, ids as {id}, the realm as {realm}.
NO_OP_READS = [
    "POST /realms/master/protocol/openid-connect/token",  # the one admin token (the role's)
    "GET /admin/realms/{realm}/clients?clientId=cim",  # the client
    "GET /admin/realms/{realm}/clients/{id}/protocol-mappers/models",  # its mappers, as the server shows them
    "GET /admin/realms/{realm}/users?username=customer&exact=True&max=100&first=0",  # the user
    "GET /admin/realms/{realm}/users/{id}/role-mappings/realm",  # its direct realm roles
    "GET /admin/realms/{realm}/attack-detection/brute-force/users/{id}",  # not locked: may check
    "POST /realms/{realm}/protocol/openid-connect/token",  # the password check itself
]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _inventory(tmp_path, hosts):
    """An inventory of one local host per tenant: ``hosts`` maps host name to its variables."""
    lines = ["all:", "  hosts:"]
    for name, variables in hosts.items():
        lines.append("    %s:" % name)
        variables = dict(variables, ansible_connection="local", ansible_python_interpreter=sys.executable)
        for key, value in variables.items():
            lines.append("      %s: %s" % (key, json.dumps(value)))
    path = tmp_path / "hosts.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _play(tmp_path):
    path = tmp_path / "play.yml"
    path.write_text(
        "---\n- name: Keycloak part of the guide\n  hosts: all\n  gather_facts: false\n"
        "  roles:\n    - role: cx.api_auth.keycloak_api_auth\n"
    )
    return path


def _recap(output):
    """``{host: (ok, changed, failed)}`` from the PLAY RECAP."""
    found = {}
    for host, ok, changed, failed in re.findall(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+).*?failed=(\d+)", output, re.M):
        found[host] = (int(ok), int(changed), int(failed))
    return found


def _lines(requests, realm):
    return [_UUID.sub("{id}", r.line).replace("/realms/%s/" % realm, "/realms/{realm}/") for r in requests]


def _of_tenant(requests, realm):
    """The requests of one tenant: its admin API and its token endpoint (the admin token is the master's)."""
    mine = []
    for request in requests:
        if "/realms/%s/" % realm in request.path:
            mine.append(request)
    return mine


def test_a_no_op_rerun_stays_within_the_request_budget(tmp_path, make_tenant, counting_proxy):
    tenants = [make_tenant(), make_tenant()]
    hosts = {
        "tenant%d" % index: {
            "keycloak_api_auth_url": counting_proxy.url,
            "keycloak_api_auth_admin_password": tenant.kc.admin_password,
            "keycloak_api_auth_realm": tenant.realm,
            "keycloak_api_auth_customer_password": CUSTOMER_PASSWORD,
        }
        for index, tenant in enumerate(tenants)
    }
    inventory, play = _inventory(tmp_path, hosts), _play(tmp_path)

    rc, output = run_playbook(str(play), inventory)
    assert rc == 0, output
    assert all(changed == 2 for _ok, changed, _failed in _recap(output).values()), output
    first = counting_proxy.snapshot()
    assert len([r for r in first if r.grant == "password" and r.realm == "master"]) == len(tenants)
    assert not [r for r in first if r.status >= 500], [r.line for r in first if r.status >= 500]

    counting_proxy.reset()
    rc, output = run_playbook(str(play), inventory)
    assert rc == 0, output
    recap = _recap(output)
    assert sorted(recap) == sorted(hosts) and all(changed == 0 for _ok, changed, _f in recap.values()), output
    assert all(ok <= TASK_BUDGET for ok, _changed, _failed in recap.values()), recap
    requests = counting_proxy.snapshot()
    assert all(r.status < 400 for r in requests), [(r.line, r.status) for r in requests if r.status >= 400]
    admin_tokens = [r for r in requests if r.realm == "master"]
    assert len(admin_tokens) == len(tenants), [r.line for r in admin_tokens]  # one per tenant, none else
    # every admin token is used by exactly one tenant: the tenant's own requests, in order
    for tenant in tenants:
        lines = _lines(_of_tenant(requests, tenant.realm), tenant.realm)
        assert len(lines) == len(set(lines)), "read twice: %s" % lines
        checks = [r for r in _of_tenant(requests, tenant.realm) if r.grant is not None]
        assert len(checks) == 1 and checks[0].username == "customer"
        assert len(lines) - len(checks) + 1 <= NO_OP_BUDGET, lines  # + 1: the tenant's admin token
        assert ["POST /realms/master/protocol/openid-connect/token"] + lines == NO_OP_READS
    assert len(requests) == len(tenants) * len(NO_OP_READS)


def _short_lived_admin(tenant):
    """A realm admin of the tenant realm itself (realm-admin of realm-management) whose tokens live 1 s."""
    tenant.update(accessTokenLifespan=1)
    password = "Adm-pw-short-%s" % tenant.realm
    user_id = tenant.add_login_user("tenant-admin", password)
    tenant.grant_client_roles(user_id, "realm-management", ["realm-admin"])
    return password


def _expired_token(tenant, password):
    token = tenant.access_token("tenant-admin", password)
    # the token's own expiry, not a timing of the code: Keycloak counts whole seconds and takes a token for
    # expired once its clock is past exp (currentTime > exp), so a token is refused from exp + 1 on
    while claims(token)["exp"] + 1 > time.time():
        time.sleep(0.2)
    return token


def test_an_expired_token_with_credentials_costs_one_login_not_the_run(make_tenant, counting_proxy):
    tenant = make_tenant()
    password = _short_lived_admin(tenant)
    args = dict(
        auth_keycloak_url=counting_proxy.url,
        auth_realm=tenant.realm,
        auth_username="tenant-admin",
        auth_password=password,
        realm=tenant.realm,
        client_id="cim",
        connection_timeout=30,
    )
    result, output = run_module("keycloak_audience_mapper", dict(args, token=_expired_token(tenant, password)))
    assert result.get("failed") is not True and result["changed"] is True, output
    requests = counting_proxy.snapshot()
    logins = counting_proxy.tokens(realm=tenant.realm, username="tenant-admin")
    assert len(logins) >= 1, [r.line for r in requests]
    # the first admin call went out with the expired token (401) or python-keycloak saw its expiry first
    assert requests[0].status == 401 or requests[0].grant == "password", [(r.line, r.status) for r in requests]
    assert [r for r in requests if r.status == 401] in ([], requests[:1])
    assert password not in output


def test_an_expired_token_alone_is_refused_and_not_shown(make_tenant, counting_proxy):
    tenant = make_tenant()
    password = _short_lived_admin(tenant)
    token = _expired_token(tenant, password)
    args = dict(auth_keycloak_url=counting_proxy.url, auth_realm=tenant.realm, token=token, realm=tenant.realm)
    result, output = run_module("keycloak_customer_user", dict(args, password=CUSTOMER_PASSWORD), verbosity=3)
    assert result.get("failed") is True, output
    assert "rejected the given token" in result["msg"] and "401" in result["msg"]
    assert token not in output and CUSTOMER_PASSWORD not in output
    assert not counting_proxy.tokens(), "no login without credentials"
    assert {r.status for r in counting_proxy.snapshot()} == {401}

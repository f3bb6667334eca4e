# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an installer hits on a live tenant, through ``ansible-playbook`` against the real Keycloak servers.

Each test writes a small playbook and inventory to ``tmp_path`` and runs the Keycloak modules with the
tenant's connection options (``module_defaults`` of the action group), once per server of the
``keycloak`` fixture (26.7.3 at ``/``, 19.0.1 under ``/auth``), in a realm of its own. What Keycloak holds
afterwards is read back with the test server's own admin REST client (``helpers``), independent of the
code under test:

* a number where a password or secret belongs (YAML reads an unquoted ``0775312`` as 260810) is
  refused, naming the option and saying "quote it", and nothing changes (the password still is the old one);
* a public client ``cim`` is refused by the audience mapper before any write, naming realm and client and
  what to set; ``require_confidential: false`` still allows it;
* a disabled customer user is enabled again with a warning, and the diff says so, in check mode too;
* check mode predicts the real run: the same ``changed`` and the same diff (as returned and as printed)
  for creating, updating and deleting the mapper and the user.
"""

import json
import os
import re
import sys

import pytest

from ._runner import run_playbook
from .helpers import Tenant, assert_mentions, warnings_in

pytestmark = pytest.mark.keycloak

CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")
PASSWORD = "Cust-pw-4711-hostile"
NUMBER = "0775312"  # unquoted in the playbook: YAML makes it the number 260810
CONVERTED = str(0o775312)  # the text a conversion would have made of it: "260810"


class HostileTenant(Tenant):
    """A tenant realm, plus playbooks against it and what the tests read back."""

    def play(self, tmp_path, task, check=False, verbosity=0):
        """Run one module task (YAML text, indented for a task list) through ``ansible-playbook``.

        Returns ``(rc, output, result)``: what Ansible printed and the task's result as the test-only
        ``result_file`` callback wrote it.
        """
        tmp_path.mkdir(parents=True, exist_ok=True)
        defaults = dict(self.auth(), connection_timeout=30)
        (tmp_path / "hosts.yml").write_text(
            "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
            "      ansible_python_interpreter: %s\n" % json.dumps(sys.executable)
        )
        (tmp_path / "play.yml").write_text(
            "---\n- name: Hostile trial\n  hosts: all\n  gather_facts: false\n  module_defaults:\n"
            "    group/cx.api_auth.keycloak: %s\n  tasks:\n%s" % (json.dumps(defaults), task)
        )
        results = tmp_path / "results.jsonl"
        if results.exists():
            results.unlink()
        env = {
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACKS_ENABLED": "result_file",
            "CX_RESULT_FILE": str(results),
        }
        rc, output = run_playbook(
            str(tmp_path / "play.yml"), tmp_path / "hosts.yml", check=check, diff=True, verbosity=verbosity, env=env
        )
        lines = results.read_text().splitlines() if results.exists() else []
        assert len(lines) == 1, output
        return rc, output, json.loads(lines[0])

    # ---- read back

    def mappers(self):
        return self.kc.rest("GET", "realms/%s/clients/%s/protocol-mappers/models" % (self.realm, self.client_uuid))

    def client_rep(self):
        return self.kc.rest("GET", "realms/%s/clients/%s" % (self.realm, self.client_uuid))

    def set_public(self, public):
        client = self.client_rep()
        client["publicClient"] = public
        self.kc.rest("PUT", "realms/%s/clients/%s" % (self.realm, self.client_uuid), json=client)

    def snapshot(self, username="customer"):
        """Everything the modules may write: mappers of cim, the user, its credentials and roles, realm roles."""
        roles = sorted(r["name"] for r in self.kc.rest("GET", "realms/%s/roles" % self.realm))
        state = {"mappers": sorted(self.mappers(), key=lambda m: m["id"]), "roles": roles, "user": None}
        user = self.user(username)
        if user is not None:
            uid = user["id"]
            state.update(
                user=self.kc.rest("GET", "realms/%s/users/%s" % (self.realm, uid)),
                credentials=self.kc.rest("GET", "realms/%s/users/%s/credentials" % (self.realm, uid)),
                mappings=self.mappings(uid),
            )
        return state


@pytest.fixture
def tenant(make_tenant):
    return make_tenant(kind=HostileTenant)


def task(module, **args):
    """A task of ``module`` with ``args`` (JSON values, so every string is quoted) and raw YAML lines."""
    raw = args.pop("raw", {})
    lines = ["    - name: %s\n      cx.api_auth.%s:\n" % (module, module)]
    lines += ["        %s: %s\n" % (key, json.dumps(value)) for key, value in args.items()]
    lines += ["        %s: %s\n" % item for item in raw.items()]
    return "".join(lines)


def printed_diff(output):
    """The diff Ansible printed for the one task (``--- before`` ... up to the task's status line)."""
    found = re.search(r"^--- before.*?(?=^(?:changed|ok|fatal): \[)", output, re.S | re.M)
    return found.group(0) if found else ""


def add_customer(tenant, password=PASSWORD, **fields):
    """A customer user that can log in on 19 and 26, with the guide's roles; its id."""
    if "customer" not in tenant.snapshot()["roles"]:
        tenant.kc.rest("POST", "realms/%s/roles" % tenant.realm, json={"name": "customer"})
    uid = tenant.add_login_user("customer", password, **fields)
    tenant.map_roles(uid, "customer", "offline_access", "uma_authorization")
    return uid


# --------------------------------------------------------------------------- 1. numbers where secrets belong


@pytest.mark.parametrize(
    "module, option",
    [
        ("keycloak_customer_user", "password"),
        ("keycloak_customer_user", "password_check_client_secret"),
        ("keycloak_customer_user", "auth_password"),
        ("keycloak_audience_mapper", "auth_password"),
        ("keycloak_audience_mapper", "auth_client_secret"),
        ("keycloak_audience_mapper", "token"),
    ],
)
@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_number_where_a_secret_belongs_is_refused_and_nothing_changes(tmp_path, tenant, module, option, check):
    uid = add_customer(tenant)
    before = tenant.snapshot()
    args = {"realm": tenant.realm, "raw": {option: NUMBER}}  # the other options as strings
    if module == "keycloak_customer_user":
        where = ["user 'customer'", "realm '%s'" % tenant.realm]
        if option != "password":
            args["password"] = PASSWORD
    else:
        where = ["mapper 'fix-audience'", "client 'cim'", "realm '%s'" % tenant.realm]
        args["client_id"] = "cim"
    rc, output, result = tenant.play(tmp_path, task(module, **args), check=check, verbosity=3)
    assert rc != 0 and result["failed"] is True and not result.get("changed"), output
    assert_mentions(result["msg"], option + " must be text", "quote it", "never converted", *where)
    assert NUMBER not in output and CONVERTED not in output
    assert tenant.snapshot() == before  # nothing was written
    # the password is still the one it was: neither the number nor its converted text was set
    assert tenant.grant("customer", PASSWORD)[0] == 200
    assert tenant.grant("customer", CONVERTED)[0] != 200 and tenant.grant("customer", NUMBER)[0] != 200
    assert tenant.user("customer")["id"] == uid


# --------------------------------------------------------------------------- 2. a public client cim


def test_a_public_client_is_refused_before_any_write(tmp_path, tenant):
    tenant.set_public(True)
    before = tenant.snapshot()
    mapper = task("keycloak_audience_mapper", realm=tenant.realm, client_id="cim")
    for check in (True, False):
        rc, output, result = tenant.play(tmp_path / str(check), mapper, check=check)
        assert rc != 0 and result["failed"] is True and not result.get("changed"), output
        assert_mentions(
            result["msg"],
            "client 'cim'",
            "realm '%s'" % tenant.realm,
            "public",
            "Client authentication' ON",
            "confidential",
            "publicClient: false",
            "require_confidential: false",
            "this task changed nothing",
        )
    assert tenant.snapshot() == before
    assert not [m for m in tenant.mappers() if m["name"] == "fix-audience"]

    # on request, the mapper goes on a public client anyway; deleting it needs no such request
    allowed = task("keycloak_audience_mapper", realm=tenant.realm, client_id="cim", require_confidential=False)
    rc, output, result = tenant.play(tmp_path / "allowed", allowed)
    assert rc == 0 and result["changed"] is True, output
    assert [m["name"] for m in tenant.mappers() if m["name"] == "fix-audience"] == ["fix-audience"]
    rc, output, result = tenant.play(
        tmp_path / "absent", task("keycloak_audience_mapper", realm=tenant.realm, client_id="cim", state="absent")
    )
    assert rc == 0 and result["changed"] is True, output
    assert not [m for m in tenant.mappers() if m["name"] == "fix-audience"]

    # confidential again (Client authentication ON): the default works
    tenant.set_public(False)
    rc, output, result = tenant.play(tmp_path / "confidential", mapper)
    assert rc == 0 and result["changed"] is True, output


# --------------------------------------------------------------------------- 3. a disabled customer user


def test_a_disabled_user_is_enabled_with_a_warning_and_the_diff_says_so(tmp_path, tenant):
    uid = add_customer(tenant, enabled=False)
    before = tenant.snapshot()
    user = task("keycloak_customer_user", realm=tenant.realm, password=PASSWORD)
    results = {}
    for check in (True, False):
        rc, output, result = tenant.play(tmp_path / str(check), user, check=check)
        assert rc == 0 and result["changed"] is True, output
        wording = "would be enabled" if check else "is enabled by this run"
        assert_mentions(
            " ".join(w for w in warnings_in(output) if wording in w),
            "user 'customer'",
            "realm '%s'" % tenant.realm,
            "disabled",
            wording,
            "enabled: false",
        )
        assert result["diff"]["before"]["enabled"] is False and result["diff"]["after"]["enabled"] is True
        diff = printed_diff(output)
        assert re.search(r'^-\s+"enabled": false,?$', diff, re.M), diff
        assert re.search(r'^\+\s+"enabled": true,?$', diff, re.M), diff
        if check:
            assert tenant.snapshot() == before, "check mode wrote to the server"
        results[check] = (result, diff)
    after = tenant.snapshot()
    assert after["user"]["enabled"] is True and after["credentials"] == before["credentials"]
    assert after["user"]["id"] == uid
    if tenant.kc.version.startswith("26"):
        # 26.7.3 says "Account disabled" only to the right password: check mode knew it works
        assert results[True][0]["diff"] == results[False][0]["diff"]
        assert results[True][1] == results[False][1]
    else:
        # 19 refuses a disabled account before looking at the password: known only once it is enabled
        assert results[True][0]["diff"]["after"]["password"] == "checked once the user is enabled"
        assert "password" not in results[False][0]["diff"]["after"]
    assert tenant.grant("customer", PASSWORD)[0] == 200

    # kept disabled on request: no change, no warning
    tenant.kc.rest("PUT", "realms/%s/users/%s" % (tenant.realm, uid), json=dict(after["user"], enabled=False))
    kept = task("keycloak_customer_user", realm=tenant.realm, password=PASSWORD, enabled=False)
    rc, output, result = tenant.play(tmp_path / "kept", kept)
    assert rc == 0 and result["changed"] is False, output
    assert not [w for w in warnings_in(output) if "enabled by this run" in w]


# --------------------------------------------------------------------------- 4. check mode predicts the real run


def _check_then_run(tenant, tmp_path, step, module_task):
    """Check mode, then the real run, of one task: both results and printed diffs; asserts they agree."""
    before = tenant.snapshot()
    rc, check_output, check = tenant.play(tmp_path / (step + "-check"), module_task, check=True)
    assert rc == 0, check_output
    assert tenant.snapshot() == before, "check mode wrote to the server"
    rc, output, real = tenant.play(tmp_path / step, module_task)
    assert rc == 0, output
    assert check["changed"] == real["changed"], step
    assert check["diff"] == real["diff"], step
    assert printed_diff(check_output) == printed_diff(output), step
    return check, real


def test_check_mode_predicts_the_mapper_diff_exactly(tmp_path, tenant):
    def mapper(**args):
        return task("keycloak_audience_mapper", realm=tenant.realm, client_id="cim", **args)

    check, real = _check_then_run(tenant, tmp_path, "create", mapper())
    assert real["changed"] is True and check["diff"]["before"] == {}
    [stored] = [m for m in tenant.mappers() if m["name"] == "fix-audience"]
    assert real["diff"]["after"] == {k: v for k, v in stored.items() if k != "id"}  # what the server holds
    if tenant.kc.version.startswith("26"):
        # 26 adds these by itself; check mode must have predicted them
        assert check["diff"]["after"]["config"]["userinfo.token.claim"] == "true"
        assert check["diff"]["after"]["config"]["introspection.token.claim"] == "true"
    else:
        assert set(stored["config"]) == {"included.client.audience", "id.token.claim", "access.token.claim"}

    real = _check_then_run(tenant, tmp_path, "update", mapper(add_to_id_token=False, add_to_access_token=False))[1]
    assert real["changed"] is True
    assert real["diff"]["before"]["config"]["id.token.claim"] == "true"
    assert real["diff"]["after"]["config"]["id.token.claim"] == "false"
    [updated] = [m for m in tenant.mappers() if m["name"] == "fix-audience"]
    assert updated["id"] == stored["id"] and real["diff"]["after"] == {k: v for k, v in updated.items() if k != "id"}

    real = _check_then_run(tenant, tmp_path, "unchanged", mapper(add_to_id_token=False, add_to_access_token=False))[1]
    assert real["changed"] is False and real["diff"]["before"] == real["diff"]["after"]

    real = _check_then_run(tenant, tmp_path, "delete", mapper(state="absent"))[1]
    assert real["changed"] is True and real["diff"]["after"] == {}
    assert not [m for m in tenant.mappers() if m["name"] == "fix-audience"]

    # a mapper stored without the keys 26 fills (as 19 and older tools store it): the update adds them
    tenant.kc.rest(
        "POST",
        "realms/%s/clients/%s/protocol-mappers/models" % (tenant.realm, tenant.client_uuid),
        json={
            "name": "fix-audience",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-audience-mapper",
            "config": {"included.client.audience": "cim", "access.token.claim": "true"},
        },
    )
    real = _check_then_run(tenant, tmp_path, "update-bare", mapper())[1]
    assert real["changed"] is True


def test_check_mode_predicts_the_customer_user_diff_exactly(tmp_path, tenant):
    def user(**args):
        return task("keycloak_customer_user", realm=tenant.realm, password=PASSWORD, **args)

    real = _check_then_run(tenant, tmp_path, "create", user())[1]
    assert real["changed"] is True and real["diff"]["before"] == {} and real["diff"]["after"]["password"] == "set"
    real = _check_then_run(
        tenant,
        tmp_path,
        "update",
        user(
            email="Customer.Care@Example.com",
            email_verified=False,
            roles_mode="exact",
            realm_roles=["customer", "offline_access"],
        ),
    )[1]
    assert real["changed"] is True
    assert real["diff"]["after"]["email"] == "customer.care@example.com"
    assert tenant.mappings(tenant.user("customer")["id"]) == [
        "customer",
        "default-roles-%s" % tenant.realm,
        "offline_access",
    ]
    real = _check_then_run(tenant, tmp_path, "password", user(update_password="always"))[1]
    assert real["diff"]["after"]["password"] == "changed"
    absent = task("keycloak_customer_user", realm=tenant.realm, state="absent")
    real = _check_then_run(tenant, tmp_path, "delete", absent)[1]
    assert real["changed"] is True and real["diff"]["after"] == {} and tenant.user("customer") is None

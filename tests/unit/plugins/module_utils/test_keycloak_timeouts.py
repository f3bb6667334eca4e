# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A write whose answer never came is read back before the run decides (issue 18), on the fake Keycloak.

python-keycloak resent a POST whose answer was slow, got 409, and the module said "the user was not
created" while it was. Now no write is resent (only reads are retried), and every create and update
the Keycloak modules make (user, password, realm role, role mapping, mapper) that gets no answer,
or a create answered 409, is read back: what Keycloak holds decides; when it cannot tell, the run
fails with "unknown, read back: ..." and ``changed`` (it may have been written). A run that applied
part of its plan and then fails reports ``changed=True``.
"""

from __future__ import annotations

import pytest
import requests
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.cx.api_auth.plugins.module_utils import _http_errors
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import audience_mapper as am
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import customer_user as cu
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.modules import keycloak_audience_mapper, keycloak_customer_user

from ...fakes import CONNECTION, REALM, StubKeycloak

PASSWORD = "Cust0mer-Pa55word"
OTHER = "An0ther-Pa55word"
PROFILE = dict(email="c@x.y", firstName="c", lastName="x")


def _params(module, **overrides):
    args = dict(CONNECTION, realm=REALM)
    args.update(overrides)
    result = ArgumentSpecValidator(module.argument_spec()).validate(args)
    assert result.error_messages == []
    return result.validated_parameters


def run_user(**overrides):
    given = _params(keycloak_customer_user, password=PASSWORD, **overrides)
    return cu.run(KeycloakConnection(given, REALM, cu.target(given)), given, False, True, [].append)


def run_mapper(**overrides):
    given = _params(keycloak_audience_mapper, client_id="cim", **overrides)
    return am.run(KeycloakConnection(given, REALM, am.target(given)), given, False, True, [].append)


def failure(runner, **overrides):
    with pytest.raises(KeycloakModuleError) as info:
        runner(**overrides)
    assert PASSWORD not in info.value.msg
    return info.value


# (the call that gets no answer, how the user is before the run)
USER_WRITES = [
    ("create_realm_role", "new"),
    ("create_user", "new"),
    ("assign_realm_roles", "new"),
    ("set_user_password", "wrong password"),
    ("update_user", "disabled"),
    ("delete_realm_roles_of_user", "extra role"),
]


def _user_before(keycloak, how):
    if how == "new":
        return None
    keycloak.add_role("customer")
    keycloak.add_role("extra")
    roles = ["customer", "offline_access", "uma_authorization"] + (["extra"] if how == "extra role" else [])
    return keycloak.add_user(
        "customer",
        password=OTHER if how == "wrong password" else PASSWORD,
        emailVerified=True,
        enabled=how != "disabled",
        roles=roles,
        **PROFILE,
    )


@pytest.mark.parametrize("name, how", USER_WRITES, ids=[w[0] for w in USER_WRITES])
def test_a_user_write_without_answer_that_was_applied_is_a_change(keycloak, name, how):
    _user_before(keycloak, how)
    keycloak.time_out(name)
    mode = "exact" if how == "extra role" else "add"
    result = run_user(roles_mode=mode)
    assert result["changed"] is True
    assert result["msg"].startswith(("Created", "Updated")), result["msg"]
    assert sum(1 for write in keycloak.writes if write[0] == name) == 1  # never sent twice
    assert run_user(roles_mode=mode)["changed"] is False
    uid = keycloak.user_named("customer")["id"]
    assert keycloak.passwords[uid] == PASSWORD and keycloak.users[uid]["enabled"] is True


@pytest.mark.parametrize("name, how", USER_WRITES, ids=[w[0] for w in USER_WRITES])
def test_a_user_write_without_answer_that_cannot_be_read_back_is_unknown(keycloak, name, how):
    _user_before(keycloak, how)
    keycloak.time_out(name, applied=False)
    error = failure(run_user, roles_mode="exact" if how == "extra role" else "add")
    assert "no answer within connection_timeout (10s)" in error.msg
    assert "unknown, read back: " in error.msg and "realm 'expertflow'" in error.msg
    assert error.result["changed"] is True  # it may have been written
    if name != "create_realm_role" and how == "new":
        assert "already applied: created realm role 'customer'" in error.msg


def test_a_create_answered_409_after_it_was_done_is_a_creation(keycloak):
    """The issue's case: the POST was sent twice (a proxy or a library resent it), the second got 409."""
    keycloak.time_out("create_user", then_409=True)
    result = run_user()
    assert result["changed"] is True and result["msg"].startswith("Created user 'customer'")
    assert keycloak.passwords[keycloak.user_named("customer")["id"]] == PASSWORD


def test_a_409_for_another_reason_still_says_not_created(keycloak):
    # another user took the e-mail between the check and the create: Keycloak answers 409, no user 'customer'
    keycloak.fail["create_user"] = (409, {"errorMessage": "User exists with same email"})
    error = failure(run_user, email="d@x.y")
    assert "the user was not created" in error.msg and "unknown" not in error.msg
    assert error.result.get("changed") is True  # the realm role was created before
    assert "already applied: created realm role 'customer'" in error.msg


def test_a_failure_after_part_of_the_plan_reports_changed(keycloak):
    keycloak.fail["assign_realm_roles"] = (403, {"error": "HTTP 403 Forbidden"})
    error = failure(run_user)
    assert error.result["changed"] is True
    assert "already applied: created realm role 'customer', created the user with its password" in error.msg


def test_a_failure_before_any_write_reports_no_change(keycloak):
    keycloak.fail["create_realm_role"] = (403, {"error": "HTTP 403 Forbidden"})
    error = failure(run_user)
    assert error.result["changed"] is False and "this task changed nothing" in error.msg


# --------------------------------------------------------------------------- the mapper


@pytest.mark.parametrize("action", ["create", "update", "delete"])
def test_a_mapper_write_without_answer_that_was_applied_is_a_change(keycloak, action):
    cim = keycloak.uuid_of("cim")
    if action != "create":
        keycloak.put_mapper(cim, "fix-audience", {"included.client.audience": "cim", "id.token.claim": "false"})
    name = {"create": "add_mapper_to_client", "update": "update_client_mapper", "delete": "remove_client_mapper"}
    keycloak.time_out(name[action])
    state = "absent" if action == "delete" else "present"
    result = run_mapper(state=state)
    assert result["changed"] is True and result["msg"].startswith(("Created", "Updated", "Deleted"))
    assert run_mapper(state=state)["changed"] is False
    assert sum(1 for write in keycloak.writes if write[0] == name[action]) == 1


@pytest.mark.parametrize("action", ["create", "update"])
def test_a_mapper_write_without_answer_that_cannot_be_read_back_is_unknown(keycloak, action):
    cim = keycloak.uuid_of("cim")
    if action == "update":
        keycloak.put_mapper(cim, "fix-audience", {"included.client.audience": "cim", "id.token.claim": "false"})
    keycloak.time_out("add_mapper_to_client" if action == "create" else "update_client_mapper", applied=False)
    error = failure(run_mapper)
    assert "mapper 'fix-audience' on client 'cim' in realm 'expertflow'" in error.msg
    assert "unknown, read back: " in error.msg and error.result["changed"] is True
    assert ("no mapper 'fix-audience'" if action == "create" else "'id.token.claim': 'false'") in error.msg


def test_a_mapper_create_answered_409_after_it_was_done_is_a_creation(keycloak):
    keycloak.time_out("add_mapper_to_client", then_409=True)
    result = run_mapper()
    assert result["changed"] is True and result["msg"].startswith("Created mapper 'fix-audience'")


# --------------------------------------------------------------------------- no answer, and never resent


def _wrapped_read_timeout():
    from urllib3.exceptions import MaxRetryError, ReadTimeoutError

    reason = ReadTimeoutError(None, "/admin/realms/x/users", "Read timed out. (read timeout=10)")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/admin/realms/x/users", reason))


@pytest.mark.parametrize(
    "make, sent",
    [
        (lambda: requests.exceptions.ReadTimeout("Read timed out. (read timeout=10)"), True),
        (_wrapped_read_timeout, True),
        (lambda: requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('x'))"), True),
        (lambda: requests.exceptions.ConnectTimeout("Max retries exceeded (ConnectTimeoutError)"), False),
        (lambda: requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused")), False),
        (lambda: requests.exceptions.SSLError("certificate verify failed"), False),
    ],
    ids=["read timeout", "read timeout after retries", "dropped", "connect timeout", "refused", "tls"],
)
def test_sent_without_answer(make, sent):
    assert _http_errors.sent_without_answer(make()) is sent


def test_python_keycloak_resends_reads_only(monkeypatch):
    """python-keycloak's adapters resend every method, POST included; the connection mounts ones that do not."""
    stub = StubKeycloak()
    try:
        stub.token_ok()
        params = dict(auth_keycloak_url=stub.url, auth_username="admin", auth_password="pw")
        connection = KeycloakConnection(params, REALM, "a test").open()
        session = connection.admin.connection._s  # pylint: disable=protected-access
        retry = session.get_adapter("http://x/").max_retries
        assert retry.total == 1
        assert "GET" in retry.allowed_methods
        assert not {"POST", "PUT", "DELETE", "PATCH"} & set(retry.allowed_methods)
    finally:
        stub.close()

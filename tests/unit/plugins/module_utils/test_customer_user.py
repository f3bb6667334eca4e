"""Unit tests of plugins/module_utils/_customer_user.py.

Keycloak is played by ``FakeAdmin``: an in-memory realm with the python-keycloak calls the
module uses, raising python-keycloak's own exceptions with the bodies real servers send
(26.7.3 and 19.0.1 were asked), and a password check that answers like their token
endpoints do.
"""

import copy
import uuid

import pytest
from keycloak.exceptions import KeycloakDeleteError, KeycloakGetError, KeycloakPostError, KeycloakPutError

from ansible_collections.cx.api_auth.plugins.module_utils import _customer_user as cu
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import KeycloakModuleError

REALM = "expertflow"
PASSWORD = "Cust0mer-Pa55word"
OTHER_PASSWORD = "An0ther-Pa55word"
CIM_SECRET = "cim-client-s3cret"


class FakeResponse:
    def __init__(self, status, body):
        self.status_code = status
        self._body = body
        self.content = b"" if body is None else repr(body).encode()

    def json(self):
        return copy.deepcopy(self._body)


class FakeConnection:
    def __init__(self, admin):
        self.admin = admin
        self.realm_name = REALM
        self.base_url = "http://kc.example/"

    def raw_get(self, path, **query):
        self.admin.calls.append(("GET", path, query))
        if path == "admin/realms/%s/clients" % REALM:
            return FakeResponse(200, [copy.deepcopy(c) for c in self.admin.clients if c["clientId"] == query.get("clientId")])
        prefix = "admin/realms/%s/attack-detection/brute-force/users/" % REALM
        if path.startswith(prefix):
            if self.admin.brute_force_error:
                return FakeResponse(*self.admin.brute_force_error)
            uid = path[len(prefix):]
            locked = uid in self.admin.locked
            # what 26.7.3 and 19.0.1 answer (also for an unknown id or a realm without detection)
            return FakeResponse(200, {"numFailures": 1 if locked else 0, "disabled": locked,
                                      "lastIPFailure": "127.0.0.1" if locked else "n/a", "lastFailure": 0})
        return FakeResponse(404, {"error": "Unable to find matching target resource method"})


def _error(cls, code, body):
    raw = body.encode() if isinstance(body, str) else body
    return cls(error_message=raw, response_code=code, response_body=raw)


class FakeAdmin:
    """In-memory realm ``expertflow`` (Keycloak 26 unless ``version='19'``)."""

    def __init__(self, version="26", policy=None, duplicate_emails=False):
        self.version = version
        self.realm = {"realm": REALM, "enabled": True, "duplicateEmailsAllowed": duplicate_emails,
                      "defaultRole": {"id": "r-default", "name": "default-roles-%s" % REALM, "composite": True}}
        if policy:
            self.realm["passwordPolicy"] = policy
        self.min_length = None
        self.history = 0
        self.calls = []
        self.writes = []
        self.fail = {}
        self.connection = FakeConnection(self)
        self.users = {}
        self.passwords = {}
        self.past_passwords = {}
        self.roles = {}
        self.mappings = {}
        for name in ("default-roles-%s" % REALM, "offline_access", "uma_authorization"):
            self.add_role(name)
        self.clients = [
            {"id": "c-admin-cli", "clientId": "admin-cli", "publicClient": True, "directAccessGrantsEnabled": True},
            {"id": "c-cim", "clientId": "cim", "publicClient": False, "directAccessGrantsEnabled": True},
            {"id": "c-web", "clientId": "web", "publicClient": True, "directAccessGrantsEnabled": False},
        ]
        self.secrets = {"c-cim": CIM_SECRET}
        self.checks = []
        self.locked = set()
        self.brute_force_error = None

    # ---- set-up helpers
    def add_role(self, name):
        role = {"id": "r-%s" % name, "name": name, "composite": False, "clientRole": False}
        self.roles[name] = role
        return role

    def add_user(self, username, password=None, roles=(), **fields):
        uid = str(uuid.uuid4())
        user = {"id": uid, "username": username.lower(), "enabled": True, "emailVerified": False,
                "requiredActions": [], "access": {"manage": True}}
        user.update(fields)
        self.users[uid] = user
        self.passwords[uid] = password
        self.past_passwords[uid] = [password] if password else []
        self.mappings[uid] = ["default-roles-%s" % REALM] + list(roles)
        return uid

    def user_named(self, username):
        return [u for u in self.users.values() if u["username"] == username.lower()][0]

    def _maybe_fail(self, name, cls):
        if name in self.fail:
            code, body = self.fail[name]
            raise _error(cls, code, body)

    def _policy(self, uid, password, cls):
        if self.min_length and len(password) < self.min_length:
            if cls is KeycloakPostError and self.version == "19":
                raise _error(cls, 400, '{"errorMessage":"Password policy not met"}')
            raise _error(cls, 400, '{"error":"invalidPasswordMinLengthMessage","error_description":'
                                   '"Invalid password: minimum length %d."}' % self.min_length)
        if self.history and uid and password in self.past_passwords.get(uid, [])[-self.history:]:
            raise _error(cls, 400, '{"error":"invalidPasswordHistoryMessage","error_description":'
                                   '"Invalid password: must not be equal to any of last %d passwords."}' % self.history)

    # ---- python-keycloak API
    def get_realm(self, realm_name):
        self.calls.append(("get_realm", realm_name))
        self._maybe_fail("get_realm", KeycloakGetError)
        return copy.deepcopy(self.realm)

    def get_users(self, query=None):
        self.calls.append(("get_users", query))
        self._maybe_fail("get_users", KeycloakGetError)
        query = query or {}
        found = []
        # Substring matches, as a server that ignores ``exact`` would answer: the module
        # must pick the exact match itself.
        for user in self.users.values():
            if "username" in query and query["username"].lower() not in user["username"]:
                continue
            if "email" in query and query["email"].lower() not in (user.get("email") or "").lower():
                continue
            found.append({k: v for k, v in user.items() if k != "access"})
        return copy.deepcopy(found)

    def get_user(self, user_id, user_profile_metadata=False):
        self.calls.append(("get_user", user_id))
        return copy.deepcopy(self.users[user_id])

    def _email_taken(self, email, uid):
        if not email or self.realm["duplicateEmailsAllowed"]:
            return False
        return any((u.get("email") or "").lower() == email.lower() and u["id"] != uid for u in self.users.values())

    def create_user(self, payload, exist_ok=False):
        self.writes.append(("create_user", {k: v for k, v in payload.items() if k != "credentials"}))
        self._maybe_fail("create_user", KeycloakPostError)
        if any(u["username"] == payload["username"].lower() for u in self.users.values()):
            raise _error(KeycloakPostError, 409, '{"errorMessage":"User exists with same username"}')
        if self._email_taken(payload.get("email"), None):
            raise _error(KeycloakPostError, 409, '{"errorMessage":"User exists with same email"}')
        password = None
        for cred in payload.get("credentials") or []:
            assert cred == {"type": "password", "value": cred["value"], "temporary": False}
            self._policy(None, cred["value"], KeycloakPostError)
            password = cred["value"]
        fields = {k: v for k, v in payload.items() if k not in ("credentials", "username")}
        if "email" in fields:
            fields["email"] = fields["email"].lower()
        return self.add_user(payload["username"], password=password, **fields)

    def update_user(self, user_id, payload):
        self.writes.append(("update_user", user_id, copy.deepcopy(payload)))
        self._maybe_fail("update_user", KeycloakPutError)
        assert "credentials" not in payload and "access" not in payload
        if self._email_taken(payload.get("email"), user_id):
            raise _error(KeycloakPutError, 409, '{"errorMessage":"User exists with same email"}')
        stored = dict(payload)
        if stored.get("email"):
            stored["email"] = stored["email"].lower()
        self.users[user_id].update(stored)
        return {}

    def set_user_password(self, user_id, password, temporary=True):
        self.writes.append(("set_user_password", user_id, temporary))
        self._maybe_fail("set_user_password", KeycloakPutError)
        self._policy(user_id, password, KeycloakPutError)
        self.passwords[user_id] = password
        self.past_passwords[user_id].append(password)
        actions = self.users[user_id]["requiredActions"]
        if not temporary and "UPDATE_PASSWORD" in actions:
            actions.remove("UPDATE_PASSWORD")
        return {}

    def delete_user(self, user_id):
        self.writes.append(("delete_user", user_id))
        self._maybe_fail("delete_user", KeycloakDeleteError)
        del self.users[user_id]
        return {}

    def get_realm_role(self, role_name):
        self.calls.append(("get_realm_role", role_name))
        self._maybe_fail("get_realm_role", KeycloakGetError)
        if role_name not in self.roles:
            raise _error(KeycloakGetError, 404, '{"error":"Could not find role"}')
        return copy.deepcopy(self.roles[role_name])

    def create_realm_role(self, payload, skip_exists=False):
        self.writes.append(("create_realm_role", copy.deepcopy(payload), skip_exists))
        self._maybe_fail("create_realm_role", KeycloakPostError)
        self.add_role(payload["name"])
        return payload["name"]

    def get_realm_roles_of_user(self, user_id):
        self.calls.append(("get_realm_roles_of_user", user_id))
        return [copy.deepcopy(self.roles[n]) for n in self.mappings[user_id]]

    def assign_realm_roles(self, user_id, roles):
        self.writes.append(("assign_realm_roles", user_id, sorted(r["name"] for r in roles)))
        self._maybe_fail("assign_realm_roles", KeycloakPostError)
        for role in roles:
            assert role["id"] == self.roles[role["name"]]["id"]
            if role["name"] not in self.mappings[user_id]:
                self.mappings[user_id].append(role["name"])
        return {}

    def delete_realm_roles_of_user(self, user_id, roles):
        self.writes.append(("delete_realm_roles_of_user", user_id, sorted(r["name"] for r in roles)))
        for role in roles:
            assert role["id"] == self.roles[role["name"]]["id"]
            self.mappings[user_id].remove(role["name"])
        return {}

    def get_client_secrets(self, client_id):
        self.calls.append(("get_client_secrets", client_id))
        return {"type": "secret", "value": self.secrets[client_id]}

    # ---- the token endpoint, as check_password sees it
    def password_check(self, username, password, client_id, client_secret):
        self.checks.append((username, client_id, client_secret))
        client = [c for c in self.clients if c["clientId"] == client_id][0]
        assert client["publicClient"] or client_secret == self.secrets[client["id"]]
        user = self.user_named(username)
        if user["id"] in self.locked:
            return False  # a temporarily locked user: "Invalid user credentials" whatever the password
        right = self.passwords[user["id"]] == password
        if not user["enabled"] and (self.version == "19" or right):
            raise KeycloakModuleError("check failed", http_code=400, detail="invalid_grant: Account disabled")
        if not right:
            return False
        incomplete = self.version == "26" and not all(user.get(k) for k in ("email", "firstName", "lastName"))
        if incomplete or user["requiredActions"]:
            raise KeycloakModuleError("check failed", http_code=400, detail="invalid_grant: Account is not fully set up")
        return True


def params(**overrides):
    values = {name: spec.get("default") for name, spec in cu.customer_user_argument_spec().items()}
    values.update(realm=REALM, password=PASSWORD)
    values.update(overrides)
    return values


def run(admin, check_mode=False, **overrides):
    return cu.CustomerUser(admin, params(**overrides), check_mode=check_mode, password_checker=admin.password_check).run()


def fail(admin, check_mode=False, **overrides):
    with pytest.raises(KeycloakModuleError) as info:
        run(admin, check_mode=check_mode, **overrides)
    message = str(info.value)
    assert PASSWORD not in message and OTHER_PASSWORD not in message and CIM_SECRET not in message
    return message


GUIDE_ROLES = ["customer", "default-roles-expertflow", "offline_access", "uma_authorization"]


# --------------------------------------------------------------------------- pure helpers


def test_argument_spec_defaults_follow_the_guide():
    spec = cu.customer_user_argument_spec()
    assert spec["username"]["default"] == "customer"
    assert spec["realm_roles"]["default"] == ["customer", "offline_access", "uma_authorization"]
    assert spec["create_missing_roles"]["default"] == ["customer"]
    assert spec["password"]["no_log"] is True and spec["password_check_client_secret"]["no_log"] is True
    assert spec["update_password"]["default"] == "when_invalid"
    # each call hands out fresh lists: a module cannot change the next one's defaults
    spec["realm_roles"]["default"].append("x")
    assert cu.customer_user_argument_spec()["realm_roles"]["default"] == ["customer", "offline_access", "uma_authorization"]


def test_profile_placeholders():
    assert cu.profile_placeholders("customer", "expertflow") == {
        "email": "customer@expertflow.invalid", "firstName": "customer", "lastName": "expertflow"}
    odd = cu.profile_placeholders("Jo Doe@x", "My_Realm.1")
    assert odd["email"] == "jo-doe-x@my-realm-1.invalid"
    assert odd["firstName"] == "Jo Doe@x" and odd["lastName"] == "My_Realm.1"
    assert cu.profile_placeholders("..", "__")["email"] == "user@realm.invalid"


def test_user_view_has_no_credentials_and_sorted_roles():
    rep = {"id": "x", "username": "customer", "enabled": True, "emailVerified": True, "email": "a@b.c",
           "firstName": "A", "lastName": "B", "requiredActions": ["b", "a"], "credentials": [{"value": PASSWORD}],
           "access": {}}
    view = cu.user_view(rep, ["z", "a"])
    assert view == {"username": "customer", "enabled": True, "email_verified": True, "email": "a@b.c",
                    "first_name": "A", "last_name": "B", "required_actions": ["a", "b"], "realm_roles": ["a", "z"]}
    assert cu.user_view(None, []) == {}


# --------------------------------------------------------------------------- create


def test_create_guide_user_check_mode_predicts_and_writes_nothing():
    admin = FakeAdmin()
    result = run(admin, check_mode=True)
    assert admin.writes == [] and admin.checks == []
    assert result["changed"] is True and result["password_changed"] is True
    assert result["roles_added"] == ["customer", "offline_access", "uma_authorization"]
    assert result["roles_created"] == ["customer"] and result["roles_removed"] == []
    after = result["diff"]["after"]
    assert result["diff"]["before"] == {}
    assert after["password"] == "set"
    assert after["realm_roles"] == GUIDE_ROLES
    assert after["email"] == "customer@expertflow.invalid" and after["email_verified"] is True
    assert result["user"]["id"] is None and "password" not in result["user"]


def test_create_guide_user_then_rerun_is_unchanged():
    admin = FakeAdmin()
    predicted = run(admin, check_mode=True)
    result = run(admin)
    assert result["changed"] is True and result["password_changed"] is True
    created = admin.user_named("customer")
    assert admin.passwords[created["id"]] == PASSWORD
    assert created["enabled"] is True and created["emailVerified"] is True
    assert (created["firstName"], created["lastName"]) == ("customer", REALM)
    assert sorted(admin.mappings[created["id"]]) == GUIDE_ROLES
    assert ("create_realm_role", {"name": "customer"}, True) in admin.writes
    # the prediction was exact
    user = dict(result["user"])
    assert user.pop("id") == created["id"]
    predicted_user = dict(predicted["user"])
    predicted_user.pop("id")
    assert user == predicted_user
    assert result["diff"] == predicted["diff"]
    # the credential went inline with the POST: no separate password write
    assert not [w for w in admin.writes if w[0] == "set_user_password"]

    writes = len(admin.writes)
    again = run(admin)
    assert again["changed"] is False and again["password_changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    assert len(admin.writes) == writes
    assert admin.checks == [("customer", "admin-cli", None)]
    assert run(admin, check_mode=True)["changed"] is False


def test_create_without_password_and_without_profile_fill():
    admin = FakeAdmin()
    result = run(admin, password=None, fill_profile=False, realm_roles=[], email_verified=False)
    created = admin.user_named("customer")
    assert result["password_changed"] is False and admin.passwords[created["id"]] is None
    assert "email" not in created and "firstName" not in created
    assert created["emailVerified"] is False
    assert result["roles_added"] == [] and admin.mappings[created["id"]] == ["default-roles-expertflow"]
    assert "password" not in result["diff"]["after"]
    assert run(admin, password=None, fill_profile=False, realm_roles=[], email_verified=False)["changed"] is False


def test_create_with_given_profile():
    admin = FakeAdmin()
    predicted = run(admin, check_mode=True, username="Widget", email="Widget@Example.COM", first_name="Cus",
                    last_name="Tomer")
    result = run(admin, username="Widget", email="Widget@Example.COM", first_name="Cus", last_name="Tomer")
    # predicted as Keycloak stores it: username and e-mail in lower case
    assert predicted["user"]["username"] == "widget" and predicted["user"]["email"] == "widget@example.com"
    assert {k: v for k, v in result["user"].items() if k != "id"} == {
        k: v for k, v in predicted["user"].items() if k != "id"}
    created = admin.user_named("widget")
    assert (created["email"], created["firstName"], created["lastName"]) == ("widget@example.com", "Cus", "Tomer")
    # e-mails are compared the way Keycloak stores them (lower case)
    assert run(admin, username="Widget", email="Widget@Example.COM", first_name="Cus", last_name="Tomer")["changed"] is False


@pytest.mark.parametrize("version, reason", [
    ("26", "invalidPasswordMinLengthMessage: Invalid password: minimum length 20."),
    ("19", "Password policy not met"),
])
def test_create_with_rejected_password_creates_nothing(version, reason):
    admin = FakeAdmin(version=version, policy="length(20)")
    admin.min_length = 20
    message = fail(admin)
    assert message == (
        "Keycloak rejected the password of user 'customer' in realm 'expertflow': %s "
        "(realm password policy: length(20)); the user was not created; already applied: created realm role "
        "'customer'" % reason)
    # the missing role comes first (idempotent: a rerun uses it), the user not at all
    assert admin.users == {} and "customer" in admin.roles
    assert [w[0] for w in admin.writes] == ["create_realm_role", "create_user"]
    # with the role in place, nothing else is written
    assert fail(admin).endswith("(realm password policy: length(20)); the user was not created; nothing else was changed")
    assert [w[0] for w in admin.writes] == ["create_realm_role", "create_user", "create_user"]


def test_create_rejected_without_realm_policy_text():
    admin = FakeAdmin()
    admin.min_length = 30
    assert fail(admin).endswith("minimum length 30.; the user was not created; already applied: created realm role "
                                "'customer'")


def test_create_conflict_and_other_create_errors():
    admin = FakeAdmin()
    admin.fail["create_user"] = (409, '{"errorMessage":"User exists with same username"}')
    assert fail(admin) == ("Creating user 'customer' in realm 'expertflow' failed: User exists with same username "
                           "(409); the user was not created; already applied: created realm role 'customer'")
    admin.fail["create_user"] = (400, '{"errorMessage":"error-invalid-email"}')
    message = fail(admin)
    assert message.startswith("creating user 'customer' in realm 'expertflow' failed") and "error-invalid-email" in message
    admin.fail["create_user"] = (400, '{"errorMessage":"invalid password format"}')
    message = fail(admin, password=None)
    assert "rejected the password" not in message and "invalid password format" in message


# --------------------------------------------------------------------------- validation before writes


def test_missing_role_not_creatable_is_reported_before_any_write():
    admin = FakeAdmin()
    del admin.roles["uma_authorization"]
    message = fail(admin)
    assert message == ("Realm role 'uma_authorization' does not exist in realm 'expertflow' (and not in "
                       "create_missing_roles); nothing was changed. Create it in the realm, add it to "
                       "create_missing_roles, or remove it from realm_roles")
    assert admin.writes == [] and admin.users == {}
    message = fail(admin, realm_roles=["customer", "nope", "uma_authorization"], create_missing_roles=[])
    assert message.startswith("Realm roles 'customer', 'nope', 'uma_authorization' do not exist in realm 'expertflow'")
    assert "Create them in the realm" in message
    assert admin.writes == []


def test_missing_roles_listed_are_created_others_ignored():
    admin = FakeAdmin()
    del admin.roles["offline_access"]
    result = run(admin, create_missing_roles=["customer", "offline_access", "unused"])
    assert result["roles_created"] == ["customer", "offline_access"]
    assert "unused" not in admin.roles
    assert sorted(admin.mappings[admin.user_named("customer")["id"]]) == GUIDE_ROLES


def test_role_lookup_error_other_than_404_fails():
    admin = FakeAdmin()
    admin.fail["get_realm_role"] = (500, '{"error":"unknown_error"}')
    message = fail(admin)
    assert message.startswith("reading realm role 'customer' in realm 'expertflow' failed") and "500" in message
    assert admin.writes == []


def test_email_used_by_another_user_is_reported_before_any_write():
    admin = FakeAdmin()
    admin.add_user("other", email="taken@example.com")
    writes = len(admin.writes)
    message = fail(admin, email="TAKEN@example.com")
    assert message == ("E-mail 'TAKEN@example.com' is already used by user 'other' in realm 'expertflow' (the realm "
                       "does not allow duplicate e-mails); nothing was changed. Choose another email for user 'customer'")
    assert len(admin.writes) == writes and "customer" not in admin.roles
    # also when the existing customer user would get it
    admin.add_user("customer", password=PASSWORD, email="mine@example.com", firstName="a", lastName="b")
    assert "already used by user 'other'" in fail(admin, email="taken@example.com")
    assert len(admin.writes) == writes
    # its own address is no conflict
    assert run(admin, email="mine@example.com")["changed"] is True


def test_duplicate_emails_allowed_skips_the_lookup():
    admin = FakeAdmin(duplicate_emails=True)
    admin.add_user("other", email="taken@example.com")
    run(admin, email="taken@example.com")
    assert not [c for c in admin.calls if c[0] == "get_users" and "email" in (c[1] or {})]
    assert admin.user_named("customer")["email"] == "taken@example.com"


def test_lookup_failure_is_reported():
    admin = FakeAdmin()
    admin.fail["get_users"] = (403, '{"error":"HTTP 403 Forbidden"}')
    message = fail(admin)
    assert message.startswith("looking up user 'customer' in realm 'expertflow' failed") and "403" in message


# --------------------------------------------------------------------------- existing user


def test_existing_user_keeps_operator_values_and_gets_missing_ones():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=PASSWORD, email="ops@example.com", firstName="Ops", lastName="",
                         emailVerified=False, enabled=False, attributes={"team": ["a"]})
    result = run(admin)
    user = admin.users[uid]
    assert user["email"] == "ops@example.com" and user["firstName"] == "Ops" and user["lastName"] == REALM
    assert user["enabled"] is True and user["emailVerified"] is True and user["attributes"] == {"team": ["a"]}
    update = [w for w in admin.writes if w[0] == "update_user"][0][2]
    assert update["attributes"] == {"team": ["a"]}  # the whole representation goes back
    assert result["diff"]["before"]["enabled"] is False and result["diff"]["after"]["enabled"] is True
    assert result["password_changed"] is False
    # given values are enforced
    run(admin, first_name="New", email="new@example.com")
    assert (admin.users[uid]["firstName"], admin.users[uid]["email"]) == ("New", "new@example.com")


def test_wrong_password_is_detected_predicted_and_changed():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=OTHER_PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         emailVerified=True, roles=["customer", "offline_access", "uma_authorization"])
    admin.add_role("customer")
    predicted = run(admin, check_mode=True)
    assert admin.writes == []
    assert predicted["changed"] is True and predicted["password_changed"] is True
    assert predicted["diff"]["after"]["password"] == "changed" and "password" not in predicted["diff"]["before"]
    assert {k: v for k, v in predicted["diff"]["after"].items() if k != "password"} == predicted["diff"]["before"]
    result = run(admin)
    assert result["changed"] is True and result["password_changed"] is True
    assert admin.writes == [("set_user_password", uid, False)]
    assert admin.passwords[uid] == PASSWORD
    assert run(admin)["changed"] is False


def test_history_policy_rerun_never_sets_the_same_password():
    admin = FakeAdmin(policy="passwordHistory(3)")
    admin.history = 3
    run(admin)
    assert run(admin)["changed"] is False
    assert run(admin)["changed"] is False
    # always re-sets it, and the policy refuses
    message = fail(admin, update_password="always")
    assert message == ("Keycloak rejected the password of user 'customer' in realm 'expertflow': "
                       "invalidPasswordHistoryMessage: Invalid password: must not be equal to any of last 3 passwords. "
                       "(realm password policy: passwordHistory(3)); the password was not changed; nothing else was changed")


def test_rejected_new_password_changes_nothing_else():
    admin = FakeAdmin(policy="length(20)")
    uid = admin.add_user("customer", password="x" * 25, enabled=False)
    admin.min_length = 20
    message = fail(admin)
    assert "minimum length 20." in message
    assert message.endswith("the password was not changed; already applied: created realm role 'customer'")
    assert admin.users[uid]["enabled"] is False and admin.passwords[uid] == "x" * 25
    assert [w[0] for w in admin.writes] == ["create_realm_role", "set_user_password"]


def test_set_password_other_error_is_not_called_a_policy_problem():
    admin = FakeAdmin()
    admin.add_user("customer", password=OTHER_PASSWORD)
    admin.fail["set_user_password"] = (403, '{"error":"HTTP 403 Forbidden"}')
    message = fail(admin)
    assert message.startswith("setting the password of user 'customer' in realm 'expertflow' failed")
    assert "rejected the password" not in message


def test_update_password_on_create_and_always():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=OTHER_PASSWORD)
    result = run(admin, update_password="on_create")
    assert result["password_changed"] is False and admin.passwords[uid] == OTHER_PASSWORD and admin.checks == []
    result = run(admin, update_password="always")
    assert result["password_changed"] is True and result["changed"] is True and admin.passwords[uid] == PASSWORD
    assert run(admin, update_password="always")["changed"] is True
    assert admin.checks == []


def test_no_password_option_means_no_check():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=OTHER_PASSWORD, requiredActions=["UPDATE_PASSWORD"])
    result = run(admin, password=None)
    assert admin.checks == [] and result["password_changed"] is False
    # the pending action is not touched when the password is not managed
    assert admin.users[uid]["requiredActions"] == ["UPDATE_PASSWORD"]


def test_temporary_password_action_is_removed():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=PASSWORD, requiredActions=["UPDATE_PASSWORD", "CONFIGURE_TOTP"])
    result = run(admin)
    # "not fully set up" only comes with a right password: no password write
    assert result["password_changed"] is False
    assert admin.users[uid]["requiredActions"] == ["CONFIGURE_TOTP"]
    assert result["diff"]["before"]["required_actions"] == ["CONFIGURE_TOTP", "UPDATE_PASSWORD"]
    assert result["diff"]["after"]["required_actions"] == ["CONFIGURE_TOTP"]


def test_incomplete_profile_on_26_counts_as_a_working_password():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=PASSWORD)
    result = run(admin, fill_profile=False)
    assert result["password_changed"] is False
    assert [w[0] for w in admin.writes] == ["create_realm_role", "update_user", "assign_realm_roles"]
    assert admin.passwords[uid] == PASSWORD


@pytest.mark.parametrize("version", ["26", "19"])
def test_disabled_user_with_right_password(version):
    admin = FakeAdmin(version=version)
    uid = admin.add_user("customer", password=PASSWORD, enabled=False, email="c@x.y", firstName="c", lastName="x")
    predicted = run(admin, check_mode=True)
    assert admin.writes == []
    # "Account disabled" is all both say (19 says it whatever the password): checked after enabling
    assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
    assert predicted["password_changed"] is False and predicted["changed"] is True
    result = run(admin)
    assert result["password_changed"] is False and "password" not in result["diff"]["after"]
    assert admin.users[uid]["enabled"] is True
    assert not [w for w in admin.writes if w[0] == "set_user_password"]
    assert len(admin.checks) == 3


@pytest.mark.parametrize("version", ["26", "19"])
def test_disabled_user_with_wrong_password(version):
    admin = FakeAdmin(version=version)
    uid = admin.add_user("customer", password=OTHER_PASSWORD, enabled=False, email="c@x.y", firstName="c", lastName="x")
    predicted = run(admin, check_mode=True)
    assert admin.writes == []
    result = run(admin)
    assert result["password_changed"] is True and result["diff"]["after"]["password"] == "changed"
    assert admin.passwords[uid] == PASSWORD and admin.users[uid]["enabled"] is True
    if version == "26":
        assert predicted["password_changed"] is True and result["diff"] == predicted["diff"]
        assert [w[0] for w in admin.writes][:3] == ["create_realm_role", "set_user_password", "update_user"]
    else:
        assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
        assert [w[0] for w in admin.writes][:3] == ["create_realm_role", "update_user", "set_user_password"]
    assert run(admin)["changed"] is False


def test_disabled_user_on_19_recheck_rejected_password_says_what_was_applied():
    admin = FakeAdmin(version="19", policy="length(20)")
    uid = admin.add_user("customer", password="y" * 25, enabled=False, email="c@x.y", firstName="c", lastName="x")
    admin.min_length = 20
    message = fail(admin)
    assert message.endswith("the password was not changed; already applied: created realm role 'customer', "
                            "updated the user (emailVerified, enabled)")
    assert admin.users[uid]["enabled"] is True


def test_user_staying_disabled_on_19_keeps_its_password():
    admin = FakeAdmin(version="19")
    uid = admin.add_user("customer", password=OTHER_PASSWORD, enabled=False, emailVerified=True,
                         email="c@x.y", firstName="c", lastName="x", roles=["offline_access", "uma_authorization"])
    admin.add_role("customer")
    admin.mappings[uid].append("customer")
    result = run(admin, enabled=False)
    assert result["changed"] is False and admin.passwords[uid] == OTHER_PASSWORD


def test_set_password_400_not_about_the_password_reports_keycloaks_answer():
    admin = FakeAdmin(policy="length(8)")
    admin.add_role("customer")
    admin.add_user("customer", password=OTHER_PASSWORD, roles=["customer"])
    admin.fail["set_user_password"] = (400, '{"error":"unknown_error","error_description":"Cannot parse the JSON"}')
    message = fail(admin)
    assert message == ("setting the password of user 'customer' in realm 'expertflow' failed: Keycloak at the Keycloak "
                       "server answered 400: unknown_error: Cannot parse the JSON; nothing was changed")
    assert "rejected the password" not in message and "length(8)" not in message


@pytest.mark.parametrize("existing", [False, True])
def test_forbidden_role_creation_writes_nothing_else(existing):
    """An admin without manage-realm: refused at the first write, the user is not touched."""
    admin = FakeAdmin()
    if existing:
        uid = admin.add_user("customer", password=OTHER_PASSWORD, enabled=False, requiredActions=["UPDATE_PASSWORD"])
        user_before = copy.deepcopy(admin.users[uid])
    admin.fail["create_realm_role"] = (403, '{"error":"HTTP 403 Forbidden"}')
    predicted = run(admin, check_mode=True)
    assert predicted["roles_created"] == ["customer"] and admin.writes == []
    message = fail(admin)
    assert message.startswith("creating realm role 'customer' in realm 'expertflow' failed: Keycloak at the Keycloak "
                              "server says the given credentials have no permission for it in realm 'expertflow' (403: HTTP 403 Forbidden). ")
    assert message.endswith("Creating realm roles needs the manage-realm role of realm-management in realm 'expertflow'; "
                            "grant it to the admin, or create role 'customer' beforehand; nothing was changed")
    assert [w[0] for w in admin.writes] == ["create_realm_role"]
    if existing:
        assert admin.users[uid] == user_before and admin.passwords[uid] == OTHER_PASSWORD
        assert admin.mappings[uid] == ["default-roles-expertflow"]
    else:
        assert admin.users == {}


def test_temporary_password_stays_when_the_password_is_neither_set_nor_checked():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=OTHER_PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         requiredActions=["UPDATE_PASSWORD"])
    predicted = run(admin, check_mode=True, update_password="on_create")
    assert predicted["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    result = run(admin, update_password="on_create")
    assert admin.checks == [] and result["password_changed"] is False
    assert admin.users[uid]["requiredActions"] == ["UPDATE_PASSWORD"]  # still temporary
    assert not [w for w in admin.writes if w[0] == "update_user" and "requiredActions" in w[2]
                and w[2]["requiredActions"] != ["UPDATE_PASSWORD"]]
    assert result["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    assert run(admin, update_password="on_create")["changed"] is False
    # set in this run: no longer temporary
    result = run(admin, update_password="always")
    assert result["password_changed"] is True and admin.users[uid]["requiredActions"] == []


def test_temporary_wrong_password_is_set_and_the_action_removed():
    admin = FakeAdmin()
    uid = admin.add_user("customer", password=OTHER_PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         requiredActions=["UPDATE_PASSWORD"])
    predicted = run(admin, check_mode=True)
    assert predicted["password_changed"] is True and predicted["diff"]["after"]["required_actions"] == []
    result = run(admin)
    assert result["diff"] == predicted["diff"]
    assert admin.passwords[uid] == PASSWORD and admin.users[uid]["requiredActions"] == []


def test_temporary_password_of_disabled_user_on_19_goes_after_the_recheck():
    admin = FakeAdmin(version="19")
    uid = admin.add_user("customer", password=PASSWORD, enabled=False, email="c@x.y", firstName="c", lastName="x",
                         requiredActions=["UPDATE_PASSWORD"])
    predicted = run(admin, check_mode=True)
    assert predicted["diff"]["after"]["required_actions"] == []
    assert predicted["diff"]["after"]["password"] == "checked once the user is enabled"
    result = run(admin)
    assert result["password_changed"] is False and admin.passwords[uid] == PASSWORD
    updates = [w[2] for w in admin.writes if w[0] == "update_user"]
    # enabled first (the action still pending), then the action removed once the check said VALID
    assert updates[0]["enabled"] is True and updates[0]["requiredActions"] == ["UPDATE_PASSWORD"]
    assert updates[1]["requiredActions"] == []
    assert admin.users[uid]["requiredActions"] == [] and result["user"]["required_actions"] == []
    assert run(admin)["changed"] is False


# --------------------------------------------------------------------------- brute force detection


def _locked_customer(admin, **fields):
    admin.realm["bruteForceProtected"] = True
    admin.add_role("customer")
    uid = admin.add_user("customer", password=PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         emailVerified=True, roles=["customer", "offline_access", "uma_authorization"], **fields)
    admin.locked.add(uid)
    return uid


def test_locked_user_password_is_neither_checked_nor_reset():
    admin = FakeAdmin(policy="passwordHistory(3)")
    admin.history = 3
    uid = _locked_customer(admin)
    for check_mode in (True, False):
        result = run(admin, check_mode=check_mode)
        assert result["changed"] is False and result["password_changed"] is False
        assert result["warnings"] == [
            "User 'customer' in realm 'expertflow' is locked by brute force detection, so its password was neither "
            "checked (a check is a login attempt) nor changed. Unlock the user or wait until the lock expires, then run "
            "again"]
        assert "password" not in result["diff"]["after"]
    assert admin.checks == [] and admin.writes == [] and admin.passwords[uid] == PASSWORD
    assert ("GET", "admin/realms/expertflow/attack-detection/brute-force/users/%s" % uid, {}) in admin.calls
    # once unlocked: checked, valid, nothing to do, no warning
    admin.locked.clear()
    result = run(admin)
    assert result["changed"] is False and result["warnings"] == [] and len(admin.checks) == 1


def test_locked_user_keeps_a_pending_temporary_password_and_gets_other_changes():
    admin = FakeAdmin()
    uid = _locked_customer(admin, requiredActions=["UPDATE_PASSWORD"], enabled=False)
    predicted = run(admin, check_mode=True)
    assert predicted["diff"]["after"]["required_actions"] == ["UPDATE_PASSWORD"]
    assert "password" not in predicted["diff"]["after"]
    result = run(admin)
    assert result["diff"] == predicted["diff"] and len(result["warnings"]) == 1
    assert admin.users[uid]["enabled"] is True and admin.users[uid]["requiredActions"] == ["UPDATE_PASSWORD"]
    assert admin.checks == [] and not [w for w in admin.writes if w[0] == "set_user_password"]


def test_brute_force_status_not_read_when_the_realm_has_no_detection():
    admin = FakeAdmin()
    admin.realm["bruteForceProtected"] = False
    admin.add_user("customer", password=PASSWORD)
    run(admin)
    assert not [c for c in admin.calls if c[0] == "GET" and "attack-detection" in c[1]]
    assert len(admin.checks) == 1


def test_brute_force_status_error_fails_before_any_write():
    admin = FakeAdmin()
    admin.add_user("customer", password=OTHER_PASSWORD)
    admin.brute_force_error = (403, {"error": "HTTP 403 Forbidden"})
    message = fail(admin)
    assert message.startswith("reading the brute force detection status of user 'customer' in realm 'expertflow' "
                              "failed (403: ")
    assert admin.writes == [] and admin.checks == []


# --------------------------------------------------------------------------- the password-check client


def test_check_through_confidential_client_reads_its_secret_once():
    admin = FakeAdmin()
    admin.add_user("customer", password=PASSWORD)
    checker = cu.CustomerUser(admin, params(password_check_client_id="cim"), password_checker=admin.password_check)
    assert checker.password_state() == cu.VALID
    assert checker.password_state() == cu.VALID
    assert admin.checks == [("customer", "cim", CIM_SECRET)] * 2
    assert [c for c in admin.calls if c[0] == "get_client_secrets"] == [("get_client_secrets", "c-cim")]


def test_check_with_given_secret_does_not_read_it():
    admin = FakeAdmin()
    admin.add_user("customer", password=PASSWORD)
    run(admin, password_check_client_id="cim", password_check_client_secret=CIM_SECRET)
    assert admin.checks == [("customer", "cim", CIM_SECRET)]
    assert not [c for c in admin.calls if c[0] == "get_client_secrets"]


def test_check_client_missing_or_without_direct_grants():
    admin = FakeAdmin()
    admin.add_user("customer", password=OTHER_PASSWORD)
    message = fail(admin, password_check_client_id="nope")
    assert message.startswith("The password of user 'customer' cannot be checked: client 'nope' "
                              "(password_check_client_id) does not exist in realm 'expertflow'; nothing was changed")
    message = fail(admin, password_check_client_id="web")
    assert "client 'web' (password_check_client_id) in realm 'expertflow' does not allow direct access grants" in message
    assert admin.writes == [] and admin.checks == []


def test_check_errors_other_than_the_known_answers_fail():
    admin = FakeAdmin()
    admin.add_user("customer", password=PASSWORD)

    def broken(username, password, client_id, client_secret):
        raise KeycloakModuleError("checking the password failed (401: invalid_client: Invalid client credentials)",
                                  http_code=401, detail="invalid_client: Invalid client credentials")

    with pytest.raises(KeycloakModuleError) as info:
        cu.CustomerUser(admin, params(), password_checker=broken).run()
    assert "invalid_client" in str(info.value)
    assert admin.writes == []


def test_default_checker_is_the_password_grant(monkeypatch):
    admin = FakeAdmin()
    admin.add_user("customer", password=PASSWORD)
    seen = []

    def fake_check(adm, realm, username, password, client_id, client_secret=None, **kwargs):
        seen.append((adm, realm, username, password == PASSWORD, client_id, client_secret))
        return True

    monkeypatch.setattr(cu, "check_password", fake_check)
    assert cu.CustomerUser(admin, params()).password_state() == cu.VALID
    assert seen == [(admin, REALM, "customer", True, "admin-cli", None)]


# --------------------------------------------------------------------------- roles


def test_add_mode_keeps_other_mappings():
    admin = FakeAdmin()
    admin.add_role("customer")
    admin.add_role("legacy")
    uid = admin.add_user("customer", password=PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         emailVerified=True, roles=["legacy", "offline_access"])
    result = run(admin)
    assert result["roles_added"] == ["customer", "uma_authorization"] and result["roles_removed"] == []
    assert result["roles_created"] == []
    assert sorted(admin.mappings[uid]) == ["customer", "default-roles-expertflow", "legacy", "offline_access",
                                           "uma_authorization"]
    assert result["diff"]["before"]["realm_roles"] == ["default-roles-expertflow", "legacy", "offline_access"]
    assert result["user"]["realm_roles"] == sorted(admin.mappings[uid])


def test_exact_mode_removes_unlisted_but_never_the_default_roles():
    admin = FakeAdmin()
    admin.add_role("customer")
    admin.add_role("legacy")
    uid = admin.add_user("customer", password=PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         emailVerified=True, roles=["legacy", "offline_access"])
    predicted = run(admin, check_mode=True, roles_mode="exact", realm_roles=["customer", "offline_access"])
    assert admin.writes == []
    assert predicted["roles_added"] == ["customer"] and predicted["roles_removed"] == ["legacy"]
    result = run(admin, roles_mode="exact", realm_roles=["customer", "offline_access"])
    assert sorted(admin.mappings[uid]) == ["customer", "default-roles-expertflow", "offline_access"]
    assert result["diff"] == predicted["diff"]
    assert ("delete_realm_roles_of_user", uid, ["legacy"]) in admin.writes
    assert run(admin, roles_mode="exact", realm_roles=["customer", "offline_access"])["changed"] is False
    # the default roles composite can be listed, and then stays as well
    assert run(admin, roles_mode="exact", realm_roles=["customer", "default-roles-expertflow"])["roles_removed"] == [
        "offline_access"]


def test_exact_mode_on_create_and_duplicate_role_names():
    admin = FakeAdmin()
    result = run(admin, roles_mode="exact", realm_roles=["customer", "customer", "offline_access"])
    assert result["roles_added"] == ["customer", "offline_access"] and result["roles_removed"] == []
    assert sorted(admin.mappings[admin.user_named("customer")["id"]]) == [
        "customer", "default-roles-expertflow", "offline_access"]


def test_default_role_name_without_default_role_in_realm_representation():
    admin = FakeAdmin()
    del admin.realm["defaultRole"]
    admin.add_role("customer")
    uid = admin.add_user("customer", password=PASSWORD, email="c@x.y", firstName="c", lastName="x",
                         emailVerified=True, roles=["customer"])
    result = run(admin, roles_mode="exact", realm_roles=["customer"])
    assert result["changed"] is False and "default-roles-expertflow" in admin.mappings[uid]


def test_mapping_failure_is_reported():
    admin = FakeAdmin()
    admin.fail["assign_realm_roles"] = (403, '{"error":"HTTP 403 Forbidden"}')
    message = fail(admin)
    assert message.startswith("assigning realm roles customer, offline_access, uma_authorization to user 'customer' "
                              "in realm 'expertflow' failed")


# --------------------------------------------------------------------------- absent


def test_absent_deletes_the_user_but_not_the_roles():
    admin = FakeAdmin()
    run(admin)
    uid = admin.user_named("customer")["id"]
    writes = len(admin.writes)
    predicted = run(admin, check_mode=True, state="absent")
    assert len(admin.writes) == writes
    assert predicted["changed"] is True and predicted["diff"]["after"] == {}
    assert predicted["diff"]["before"]["realm_roles"] == GUIDE_ROLES
    result = run(admin, state="absent")
    assert result["changed"] is True and result["user"] == {} and uid not in admin.users
    assert "customer" in admin.roles
    assert result["diff"] == predicted["diff"]
    again = run(admin, state="absent")
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}


def test_absent_delete_failure():
    admin = FakeAdmin()
    admin.add_user("customer")
    admin.fail["delete_user"] = (403, '{"error":"HTTP 403 Forbidden"}')
    assert fail(admin, state="absent").startswith("deleting user 'customer' in realm 'expertflow' failed")


def test_username_lookup_is_case_insensitive_and_exact():
    admin = FakeAdmin()
    admin.add_user("customer2", password=PASSWORD)
    assert cu.CustomerUser(admin, params(username="Customer")).find_user() is None
    uid = admin.add_user("customer", password=PASSWORD)
    assert cu.CustomerUser(admin, params(username="CUSTOMER")).find_user()["id"] == uid

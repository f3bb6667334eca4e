# -*- coding: utf-8 -*-
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of the ``keycloak_customer_user`` module (steps 2 and 3 of the guide).

The customer user of a tenant realm: enabled, e-mail verified, a non-temporary password,
and realm roles (``customer`` created when missing, plus ``offline_access`` and
``uma_authorization``). Everything is read and compared first; all validation (roles,
e-mail conflicts, the password-check client) happens before the first write, and the same
comparison feeds ``changed``, the diff and check mode.

Writes come in this order: missing realm roles (idempotent, and the write an admin without
``manage-realm`` is refused first), the user with its password inline, the password and
profile of an existing user, the role mappings. A failure names what was already applied.

Private to the collection. Works on a python-keycloak ``KeycloakAdmin`` (from
``_keycloak.connect``); raises :class:`KeycloakModuleError` with a message naming the realm
and never a password.
"""

import re

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import (
    KeycloakModuleError,
    check_password,
    get_client_by_client_id,
    keycloak_error_text,
    keycloak_errors,
    register_secret,
)

DEFAULT_USERNAME = "customer"
DEFAULT_REALM_ROLES = ["customer", "offline_access", "uma_authorization"]
DEFAULT_CREATE_MISSING_ROLES = ["customer"]
DEFAULT_PASSWORD_CHECK_CLIENT = "admin-cli"
UPDATE_PASSWORD_ACTION = "UPDATE_PASSWORD"

# What the diff shows for the password: never its value.
PASSWORD_SET = "set"
PASSWORD_CHANGED = "changed"
PASSWORD_RECHECK = "checked once the user is enabled"

# Results of a password check.
VALID = "valid"
INVALID = "invalid"
UNKNOWN = "unknown"  # the account is disabled: checked again once it is enabled
LOCKED = "locked"  # brute force detection locked the user: not checked at all


def customer_user_argument_spec():
    """Return the options of ``keycloak_customer_user`` besides the connection options.

    Mirrored by the module's DOCUMENTATION (a unit test keeps the two equal).
    """
    return dict(
        realm=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        username=dict(type="str", default=DEFAULT_USERNAME),
        password=dict(type="str", no_log=True),
        update_password=dict(
            type="str", default="when_invalid", choices=["when_invalid", "on_create", "always"], no_log=False
        ),
        password_check_client_id=dict(type="str", default=DEFAULT_PASSWORD_CHECK_CLIENT, no_log=False),
        password_check_client_secret=dict(type="str", no_log=True),
        enabled=dict(type="bool", default=True),
        email_verified=dict(type="bool", default=True),
        email=dict(type="str"),
        first_name=dict(type="str"),
        last_name=dict(type="str"),
        fill_profile=dict(type="bool", default=True),
        realm_roles=dict(type="list", elements="str", default=list(DEFAULT_REALM_ROLES)),
        create_missing_roles=dict(type="list", elements="str", default=list(DEFAULT_CREATE_MISSING_ROLES)),
        roles_mode=dict(type="str", default="add", choices=["add", "exact"]),
    )


def _dns_label(text, fallback):
    label = re.sub(r"[^a-z0-9-]+", "-", (text or "").lower()).strip("-")
    return label or fallback


def _local_part(text, fallback):
    local = re.sub(r"[^a-z0-9._+-]+", "-", (text or "").lower()).strip(".-")
    return local or fallback


def profile_placeholders(username, realm):
    """Return the values put into empty profile fields when ``fill_profile`` is on.

    Keycloak 24+ refuses logins of users without e-mail, first and last name ("Account is
    not fully set up"); these placeholders satisfy its default user profile without
    touching realm settings: ``<username>@<realm>.invalid`` (a reserved top-level domain:
    no mail can ever be sent there), the username as first name and the realm as last name.
    """
    return {
        "email": "%s@%s.invalid" % (_local_part(username, "user"), _dns_label(realm, "realm")),
        "firstName": username,
        "lastName": realm,
    }


def _unique(names):
    seen = []
    for name in names or []:
        if name not in seen:
            seen.append(name)
    return seen


def _same(key, current, wanted):
    """Keycloak stores e-mails (and usernames) in lower case: compare them that way."""
    if key == "email" and isinstance(current, str) and isinstance(wanted, str):
        return current.lower() == wanted.lower()
    return current == wanted


def user_view(rep, role_names):
    """The user as shown in the diff and returned as ``user``: no credentials, snake_case."""
    if not rep:
        return {}
    view = {
        "username": rep.get("username"),
        "enabled": rep.get("enabled"),
        "email_verified": rep.get("emailVerified"),
        "email": rep.get("email"),
        "first_name": rep.get("firstName"),
        "last_name": rep.get("lastName"),
        "required_actions": sorted(rep.get("requiredActions") or []),
        "realm_roles": sorted(role_names),
    }
    return view


class CustomerUser(object):
    """Bring the customer user of one realm to the wanted state.

    ``admin`` is a python-keycloak ``KeycloakAdmin`` for ``params['realm']``;
    ``params`` are the module's parameters. ``password_checker(username, password,
    client_id, client_secret)`` returns True/False or raises KeycloakModuleError (default:
    ``_keycloak.check_password`` against the realm's token endpoint).
    """

    def __init__(self, admin, params, check_mode=False, password_checker=None):
        self.admin = admin
        self.params = params
        self.check_mode = check_mode
        self.realm = params["realm"]
        self.username = params.get("username") or DEFAULT_USERNAME
        self._password_checker = password_checker or self._grant_check
        self._check_secret = None
        self._check_client_ready = False
        self._realm_rep = {}
        self.applied = []
        self.warnings = []
        self._roles = {}
        register_secret(params.get("password"))
        register_secret(params.get("password_check_client_secret"))

    # ------------------------------------------------------------------ reading

    def _where(self):
        return "in realm '%s'" % self.realm

    def read_realm(self):
        with keycloak_errors("reading realm '%s'" % self.realm, realm=self.realm):
            self._realm_rep = self.admin.get_realm(self.realm) or {}
        return self._realm_rep

    def find_user(self):
        """Return the representation of the user named ``username``, or None."""
        with keycloak_errors("looking up user '%s' %s" % (self.username, self._where()), realm=self.realm):
            found = self.admin.get_users({"username": self.username, "exact": True})
        wanted = self.username.lower()
        for user in found or []:
            if (user.get("username") or "").lower() == wanted:
                return user
        return None

    def read_user(self, user_id):
        with keycloak_errors("reading user '%s' %s" % (self.username, self._where()), realm=self.realm):
            return self.admin.get_user(user_id)

    def direct_roles(self, user_id):
        """Return the realm roles mapped directly to the user (list of representations)."""
        with keycloak_errors(
            "reading the realm role mappings of user '%s' %s" % (self.username, self._where()), realm=self.realm
        ):
            return list(self.admin.get_realm_roles_of_user(user_id) or [])

    def get_role(self, name):
        """Return the realm role ``name``, or None when the realm has no such role."""
        what = "reading realm role '%s' %s" % (name, self._where())
        try:
            with keycloak_errors(what, realm=self.realm):
                return self.admin.get_realm_role(name)
        except KeycloakModuleError as exc:
            if exc.http_code == 404:
                return None
            raise

    def resolve_roles(self, names):
        """Return ``(existing, to_create)``: role representations by name, names to create.

        A missing role not listed in ``create_missing_roles`` is an error, raised before
        anything is written.
        """
        creatable = set(self.params.get("create_missing_roles") or [])
        existing = {}
        to_create = []
        missing = []
        for name in names:
            role = self.get_role(name)
            if role is not None:
                existing[name] = role
            elif name in creatable:
                to_create.append(name)
            else:
                missing.append(name)
        if missing:
            listed = ", ".join("'%s'" % n for n in missing)
            them = "them" if len(missing) > 1 else "it"
            raise KeycloakModuleError(
                "%s %s %s in realm '%s' (and not in create_missing_roles); nothing was changed. Create %s in the "
                "realm, add %s to create_missing_roles, or remove %s from realm_roles"
                % (
                    "Realm roles" if len(missing) > 1 else "Realm role",
                    listed,
                    "do not exist" if len(missing) > 1 else "does not exist",
                    self.realm,
                    them,
                    them,
                    them,
                )
            )
        return existing, to_create

    # ------------------------------------------------------------------ desired state

    def desired_changes(self, current):
        """Return the user attributes (Keycloak names) to set; all of them for a new user."""
        params = self.params
        wanted = {
            "enabled": params.get("enabled", True),
            "emailVerified": params.get("email_verified", True),
        }
        placeholders = profile_placeholders(self.username, self.realm)
        for option, key in (("email", "email"), ("first_name", "firstName"), ("last_name", "lastName")):
            value = params.get(option)
            if value is not None:
                wanted[key] = value
            elif params.get("fill_profile", True) and not (current or {}).get(key):
                wanted[key] = placeholders[key]
        if current is None:
            return wanted
        return dict((k, v) for k, v in wanted.items() if not _same(k, current.get(k), v))

    def check_email_conflict(self, email, user_id, realm_rep):
        """Fail when another user of the realm already has ``email`` (before any write)."""
        if not email or (realm_rep or {}).get("duplicateEmailsAllowed"):
            return
        with keycloak_errors("looking up users with e-mail '%s' %s" % (email, self._where()), realm=self.realm):
            found = self.admin.get_users({"email": email, "exact": True})
        for other in found or []:
            if (other.get("email") or "").lower() == email.lower() and other.get("id") != user_id:
                raise KeycloakModuleError(
                    "E-mail '%s' is already used by user '%s' in realm '%s' (the realm does not allow "
                    "duplicate e-mails); nothing was changed. Choose another email for user '%s'"
                    % (email, other.get("username"), self.realm, self.username)
                )

    # ------------------------------------------------------------------ password check

    def _prepare_check_client(self):
        """Make sure the password-check client can do a password grant; find its secret."""
        if self._check_client_ready:
            return
        client_id = self.params.get("password_check_client_id") or DEFAULT_PASSWORD_CHECK_CLIENT
        client = get_client_by_client_id(self.admin, client_id, realm=self.realm)
        if client is None:
            raise KeycloakModuleError(
                "The password of user '%s' cannot be checked: client '%s' (password_check_client_id) does not "
                "exist in realm '%s'; nothing was changed. Name a client with direct access grants, or use "
                "update_password: on_create or always" % (self.username, client_id, self.realm)
            )
        if not client.get("directAccessGrantsEnabled"):
            raise KeycloakModuleError(
                "The password of user '%s' cannot be checked: client '%s' (password_check_client_id) in realm "
                "'%s' does not allow direct access grants; nothing was changed. Enable them, name another "
                "client, or use update_password: on_create or always" % (self.username, client_id, self.realm)
            )
        secret = self.params.get("password_check_client_secret")
        if not secret and not client.get("publicClient") and not client.get("bearerOnly"):
            with keycloak_errors(
                "reading the secret of client '%s' %s" % (client_id, self._where()), realm=self.realm
            ):
                secret = (self.admin.get_client_secrets(client["id"]) or {}).get("value")
            register_secret(secret)
        self._check_secret = secret
        self._check_client_ready = True

    def _grant_check(self, username, password, client_id, client_secret):
        return check_password(self.admin, self.realm, username, password, client_id, client_secret)

    def locked_out(self, user_id):
        """Say whether brute force detection currently locks the user ``user_id`` out.

        ``GET admin/realms/{realm}/attack-detection/brute-force/users/{id}`` (``disabled``).
        A locked user gets "Invalid user credentials" whatever the password, so a password
        check would be meaningless (and would extend the lock). Not read when the realm
        says brute force detection is off.
        """
        if self._realm_rep.get("bruteForceProtected") is False:
            return False
        path = "admin/realms/%s/attack-detection/brute-force/users/%s" % (self.realm, user_id)
        what = "reading the brute force detection status of user '%s' %s" % (self.username, self._where())
        with keycloak_errors(what, realm=self.realm):
            response = self.admin.connection.raw_get(path)
        if response.status_code != 200:
            text = keycloak_error_text(response.content)
            raise KeycloakModuleError(
                "%s failed (%s: %s)" % (what, response.status_code, text), http_code=response.status_code, detail=text
            )
        return bool((response.json() or {}).get("disabled"))

    def password_state(self, user_id=None):
        """Return VALID, INVALID, UNKNOWN or LOCKED for the wanted password of the existing user.

        LOCKED: brute force detection locks the user out (read before the check when
        ``user_id`` is given); the password is not checked and a warning says so.
        UNKNOWN: Keycloak answered "Account disabled" (19 does so before looking at the
        password, 26 only to the right password): the module checks again after enabling
        the user. Keycloak answers "Account is not fully set up" only after accepting the
        password, so that counts as VALID.
        """
        if user_id is not None and self.locked_out(user_id):
            self.warnings.append(
                "User '%s' in realm '%s' is locked by brute force detection, so its password was neither checked "
                "(a check is a login attempt) nor changed. Unlock the user or wait until the lock expires, then "
                "run again" % (self.username, self.realm)
            )
            return LOCKED
        self._prepare_check_client()
        client_id = self.params.get("password_check_client_id") or DEFAULT_PASSWORD_CHECK_CLIENT
        try:
            ok = self._password_checker(self.username, self.params["password"], client_id, self._check_secret)
        except KeycloakModuleError as exc:
            detail = (exc.detail or "").lower()
            if exc.http_code == 400 and "not fully set up" in detail:
                return VALID
            if exc.http_code == 400 and "account disabled" in detail:
                return UNKNOWN
            raise
        return VALID if ok else INVALID

    # ------------------------------------------------------------------ writes

    @staticmethod
    def _about_password(exc):
        """Whether a 400 is about the password itself (Keycloak's detail says so)."""
        detail = (exc.detail or "").lower()
        return exc.http_code == 400 and ("password" in detail or "policy" in detail)

    def _password_error(self, exc, realm_rep, outcome):
        policy = (realm_rep or {}).get("passwordPolicy")
        return KeycloakModuleError(
            "Keycloak rejected the password of user '%s' in realm '%s': %s%s; %s"
            % (
                self.username,
                self.realm,
                exc.detail or str(exc),
                " (realm password policy: %s)" % policy if policy else "",
                outcome,
            ),
            http_code=exc.http_code,
            detail=exc.detail,
        )

    def _progress(self, exc):
        """``exc`` with what this run already applied (or that nothing was changed)."""
        if self.applied:
            tail = "already applied: %s" % ", ".join(self.applied)
        elif str(exc).endswith(" was not created") or str(exc).endswith(" was not changed"):
            tail = "nothing else was changed"
        else:
            tail = "nothing was changed"
        return KeycloakModuleError("%s; %s" % (exc, tail), http_code=exc.http_code, detail=exc.detail)

    def create_user(self, payload, realm_rep):
        body = dict(payload)
        password = self.params.get("password")
        if password is not None:
            # Inline credential: Keycloak applies the password policy in the same
            # transaction, so a rejected password leaves no half-created user.
            body["credentials"] = [{"type": "password", "value": password, "temporary": False}]
        try:
            with keycloak_errors("creating user '%s' %s" % (self.username, self._where()), realm=self.realm):
                user_id = self.admin.create_user(body)
        except KeycloakModuleError as exc:
            if password is not None and self._about_password(exc):
                raise self._password_error(exc, realm_rep, "the user was not created")
            if exc.http_code == 409:
                raise KeycloakModuleError(
                    "Creating user '%s' %s failed: %s (409); the user was not created"
                    % (self.username, self._where(), exc.detail or "conflict"),
                    http_code=409,
                    detail=exc.detail,
                )
            raise
        self.applied.append("created the user" + (" with its password" if password is not None else ""))
        return user_id

    def set_password(self, user_id, realm_rep):
        try:
            with keycloak_errors(
                "setting the password of user '%s' %s" % (self.username, self._where()), realm=self.realm
            ):
                self.admin.set_user_password(user_id, self.params["password"], temporary=False)
        except KeycloakModuleError as exc:
            if self._about_password(exc):
                raise self._password_error(exc, realm_rep, "the password was not changed")
            raise  # Keycloak's own answer, as keycloak_errors worded it
        self.applied.append("set the password")

    def create_roles(self, names):
        created = {}
        for name in names:
            try:
                with keycloak_errors("creating realm role '%s' %s" % (name, self._where()), realm=self.realm):
                    self.admin.create_realm_role({"name": name}, skip_exists=True)
            except KeycloakModuleError as exc:
                if exc.http_code != 403:
                    raise
                raise KeycloakModuleError(
                    "%s. Creating realm roles needs the manage-realm role of realm-management in realm '%s'; "
                    "grant it to the admin, or create role '%s' beforehand" % (exc, self.realm, name),
                    http_code=exc.http_code,
                    detail=exc.detail,
                )
            self.applied.append("created realm role '%s'" % name)
            with keycloak_errors("reading realm role '%s' %s" % (name, self._where()), realm=self.realm):
                created[name] = self.admin.get_realm_role(name)
        return created

    def update_user(self, user_id, current, changes):
        payload = dict((k, v) for k, v in current.items() if k not in ("access", "userProfileMetadata"))
        payload.update(changes)
        with keycloak_errors("updating user '%s' %s" % (self.username, self._where()), realm=self.realm):
            self.admin.update_user(user_id, payload)
        self.applied.append("updated the user (%s)" % ", ".join(sorted(changes)))

    def map_roles(self, user_id, add, remove):
        if add:
            with keycloak_errors(
                "assigning realm roles %s to user '%s' %s"
                % (", ".join(r["name"] for r in add), self.username, self._where()),
                realm=self.realm,
            ):
                self.admin.assign_realm_roles(user_id, add)
            self.applied.append("mapped realm roles %s" % ", ".join(r["name"] for r in add))
        if remove:
            with keycloak_errors(
                "removing realm roles %s from user '%s' %s"
                % (", ".join(r["name"] for r in remove), self.username, self._where()),
                realm=self.realm,
            ):
                self.admin.delete_realm_roles_of_user(user_id, remove)
            self.applied.append("removed realm roles %s" % ", ".join(r["name"] for r in remove))

    def _write(self, current, changes, change_password, existing_roles, to_create, realm_rep):
        """Create missing roles, then the user (password inline), or set its password and profile."""
        self._roles = dict(existing_roles)
        self._roles.update(self.create_roles(to_create))
        if current is None:
            payload = dict(changes)
            payload["username"] = self.username
            return self.create_user(payload, realm_rep)
        user_id = current["id"]
        if change_password:
            self.set_password(user_id, realm_rep)
        if changes:
            self.update_user(user_id, current, changes)
        return user_id

    def _recheck(self, user_id, result, after_view, drop_action, realm_rep):
        """Check the password of a user that was disabled again, now that it is enabled."""
        state = self.password_state(user_id)
        if state == INVALID:
            self.set_password(user_id, realm_rep)
            after_view["password"] = PASSWORD_CHANGED
            result["changed"] = True
            result["password_changed"] = True
        if not drop_action:
            return
        if state not in (VALID, INVALID):
            # still not checked (locked by brute force detection): the action stays
            after_view["required_actions"] = sorted(set(after_view["required_actions"]) | {UPDATE_PASSWORD_ACTION})
            return
        current = self.read_user(user_id)
        actions = list(current.get("requiredActions") or [])
        if UPDATE_PASSWORD_ACTION in actions:
            self.update_user(
                user_id, current, {"requiredActions": [a for a in actions if a != UPDATE_PASSWORD_ACTION]}
            )

    # ------------------------------------------------------------------ states

    def run(self):
        if self.params.get("state", "present") == "absent":
            return self.ensure_absent()
        return self.ensure_present()

    def ensure_absent(self):
        current = self.find_user()
        result = {
            "changed": current is not None,
            "user": {},
            "roles_added": [],
            "roles_removed": [],
            "roles_created": [],
            "password_changed": False,
        }
        before = {}
        if current is not None:
            before = user_view(current, [r["name"] for r in self.direct_roles(current["id"])])
            if not self.check_mode:
                with keycloak_errors("deleting user '%s' %s" % (self.username, self._where()), realm=self.realm):
                    self.admin.delete_user(current["id"])
        result["diff"] = {"before": before, "after": {}}
        result["warnings"] = []
        return result

    def ensure_present(self):
        params = self.params
        realm_rep = self.read_realm() or {}
        default_role = (realm_rep.get("defaultRole") or {}).get("name") or "default-roles-%s" % self.realm.lower()
        wanted_roles = _unique(params.get("realm_roles"))
        current = self.find_user()
        if current is not None:
            current = self.read_user(current["id"])

        # --- validate everything before writing anything
        existing_roles, to_create = self.resolve_roles(wanted_roles)
        changes = self.desired_changes(current)
        if "email" in changes:
            self.check_email_conflict(changes["email"], (current or {}).get("id"), realm_rep)

        password = params.get("password")
        mode = params.get("update_password") or "when_invalid"
        change_password = False
        recheck = False
        state = None
        if password is not None:
            if current is None or mode == "always":
                change_password = True
            elif mode == "when_invalid":
                state = self.password_state(current["id"])
                if state == INVALID:
                    change_password = True
                elif state == UNKNOWN and changes.get("enabled") is True:
                    recheck = True

        # A pending "update password" action is what the console's "Temporary" toggle sets.
        # It goes only when this run sets the password or found it working (after a recheck:
        # either way); a password that is neither set nor checked stays temporary.
        actions = list((current or {}).get("requiredActions") or [])
        drop_action = password is not None and UPDATE_PASSWORD_ACTION in actions
        if drop_action and (change_password or state == VALID):
            changes["requiredActions"] = [a for a in actions if a != UPDATE_PASSWORD_ACTION]
        drop_after_recheck = drop_action and recheck

        if current is None:
            before_roles = []
            mapped_after_create = [default_role]
        else:
            current_roles = self.direct_roles(current["id"])
            before_roles = [r["name"] for r in current_roles]
            mapped_after_create = before_roles
        add_names = [n for n in wanted_roles if n not in mapped_after_create]
        remove_names = []
        if params.get("roles_mode") == "exact":
            remove_names = [n for n in mapped_after_create if n not in wanted_roles and n != default_role]
        after_roles = [n for n in mapped_after_create if n not in remove_names] + add_names

        before_view = user_view(current, before_roles) if current is not None else {}
        predicted = dict(current or {"username": self.username.lower(), "requiredActions": []})
        predicted.update(changes)
        if drop_after_recheck:
            predicted["requiredActions"] = [a for a in actions if a != UPDATE_PASSWORD_ACTION]
        if predicted.get("email"):
            predicted["email"] = predicted["email"].lower()  # as Keycloak stores it
        after_view = user_view(predicted, after_roles)
        if change_password:
            after_view["password"] = PASSWORD_SET if current is None else PASSWORD_CHANGED
        elif recheck and self.check_mode:
            after_view["password"] = PASSWORD_RECHECK

        changed = bool(current is None or changes or change_password or add_names or remove_names)
        result = {
            "changed": changed,
            "roles_added": sorted(add_names),
            "roles_removed": sorted(remove_names),
            "roles_created": sorted(to_create),
            "password_changed": change_password,
        }

        if self.check_mode:
            user = dict(after_view)
            user.pop("password", None)
            user["id"] = (current or {}).get("id")
            result["user"] = user
            result["diff"] = {"before": before_view, "after": after_view}
            result["warnings"] = list(self.warnings)
            return result

        try:
            user_id = self._write(current, changes, change_password, existing_roles, to_create, realm_rep)
            if recheck:
                self._recheck(user_id, result, after_view, drop_after_recheck, realm_rep)
            if add_names or remove_names:
                mapped = dict(
                    (r["name"], r) for r in (self.direct_roles(user_id) if current is None else current_roles)
                )
                add = [self._roles[n] for n in add_names if n not in mapped]
                remove = [mapped[n] for n in remove_names if n in mapped]
                self.map_roles(user_id, add, remove)
        except KeycloakModuleError as exc:
            raise self._progress(exc)

        final = self.read_user(user_id)
        final_roles = [r["name"] for r in self.direct_roles(user_id)]
        user = user_view(final, final_roles)
        user["id"] = user_id
        result["user"] = user
        result["diff"] = {"before": before_view, "after": after_view}
        result["warnings"] = list(self.warnings)
        return result

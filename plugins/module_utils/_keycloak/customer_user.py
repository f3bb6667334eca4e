# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The customer user of ``keycloak_customer_user``: read, plan, apply (private to the collection).

Steps 2 and 3 of the guide: the customer user of a tenant realm, enabled, e-mail verified, with
a non-temporary password and its realm roles (``customer`` created when missing, plus
``offline_access`` and ``uma_authorization``).

:func:`run` reads everything first and validates it before the first write (:func:`read_state`:
the realm, the user, its direct realm roles, the wanted roles, e-mail conflicts, the password
check); the pure :func:`plan_present` / :func:`plan_absent` turn that :class:`UserState` and the
parameters into a :class:`UserPlan`; unless in check mode, :func:`apply` writes it in this order:
missing realm roles (idempotent, and the write an admin without ``manage-realm`` is refused
first), the user with its password inline, the password and profile of an existing user, the
role mappings. A failure names what was already applied. ``changed``, the message and the diff
come from the plan in both modes, so check mode shows the real run's diff; the one exception is
the password of a disabled user on a server that refuses a disabled account before looking at
the password (Keycloak 19; see :data:`DISABLED_AFTER_PASSWORD_FROM`): it can only be checked
once the run has enabled the user, and may then add a password change.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import SECRET_OPTIONS, require_text
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.realm import path_segment
from ansible_collections.cx.api_auth.plugins.module_utils._runner import change_message

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn

    Rep = dict[str, Any]  # a representation of the admin REST API (user, role, realm)

UPDATE_PASSWORD_ACTION = "UPDATE_PASSWORD"
# Seconds Keycloak's clock may be behind this host's when a password write that got no answer is read back.
CLOCK_SKEW = 60

# The profile fields fill_profile fills (Keycloak 24+ refuse a login without them).
PROFILE_KEYS = ("email", "firstName", "lastName")

# What the diff shows for the password: never its value.
PASSWORD_SET = "set"
PASSWORD_CHANGED = "changed"
PASSWORD_RECHECK = "checked once the user is enabled"

# Results of a password check.
VALID = "valid"
INVALID = "invalid"
UNKNOWN = "unknown"  # the account is disabled: checked again once it is enabled
LOCKED = "locked"  # brute force detection locked the user: not checked at all

# The first Keycloak known to answer a password grant of a disabled user with "Account disabled"
# only after it accepted the password (26.7.3 asked: a wrong one gets "Invalid user credentials").
# Older servers (19.0.1 asked) answer so before looking at the password, whatever it is; a
# server whose version cannot be read is taken to be one of them.
DISABLED_AFTER_PASSWORD_FROM = (26, 7, 3)


# The module's own secrets: text only, never converted (see options.require_text).
USER_SECRETS = ("password", "password_check_client_secret")

# Said when the run enables a user that an administrator had disabled (%s: user, realm, what happens).
REENABLED = (
    "User '%s' in realm '%s' %s (enabled: true, the default of this module, converges every run to an enabled "
    "user); set enabled: false to keep it disabled"
)


def target(params: Params) -> str:
    """What the module manages: ``"user 'customer' in realm 'expertflow'"``."""
    return "user '%s' in realm '%s'" % (params["username"], params["realm"])


# --------------------------------------------------------------------------- pure helpers


def _dns_label(text: str | None, fallback: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", (text or "").lower()).strip("-") or fallback


def _local_part(text: str | None, fallback: str) -> str:
    return re.sub(r"[^a-z0-9._+-]+", "-", (text or "").lower()).strip(".-") or fallback


def profile_placeholders(username: str, realm: str) -> dict[str, str]:
    """The values put into empty profile fields when ``fill_profile`` is on.

    Keycloak 24+ refuses logins of users without e-mail, first and last name ("Account is not
    fully set up"); these satisfy its default user profile without touching realm settings:
    ``<username>@<realm>.invalid`` (a reserved top-level domain: no mail can ever be sent there),
    the username as first name and the realm as last name.
    """
    return {
        "email": "%s@%s.invalid" % (_local_part(username, "user"), _dns_label(realm, "realm")),
        "firstName": username,
        "lastName": realm,
    }


def version_tuple(text: object) -> tuple[int, ...]:
    """``"26.7.3"`` (or ``"26.7.3.redhat-00001"``) as ``(26, 7, 3)``; ``()`` when there is no version."""
    numbers: list[int] = []
    for part in str(text or "").split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break
    return tuple(numbers)


def _unique(names: Iterable[str] | None) -> list[str]:
    return list(dict.fromkeys(names or []))


def _same(key: str, current: object, wanted: object) -> bool:
    """Keycloak stores e-mails (and usernames) in lower case: compare them that way."""
    if key == "email" and isinstance(current, str) and isinstance(wanted, str):
        return current.lower() == wanted.lower()
    return current == wanted


def user_view(rep: Rep | None, role_names: Iterable[str]) -> dict[str, Any]:
    """The user as the diff shows it and ``user`` returns it: no credentials, snake_case keys."""
    if not rep:
        return {}
    return {
        "username": rep.get("username"),
        "enabled": rep.get("enabled"),
        "email_verified": rep.get("emailVerified"),
        "email": rep.get("email"),
        "first_name": rep.get("firstName"),
        "last_name": rep.get("lastName"),
        "required_actions": sorted(rep.get("requiredActions") or []),
        "realm_roles": sorted(role_names),
    }


def desired_changes(params: Params, current: Rep | None) -> dict[str, Any]:
    """The user attributes (Keycloak's names) to set: all of them for a new user (``current`` None)."""
    wanted = {"enabled": params["enabled"], "emailVerified": params["email_verified"]}
    placeholders = profile_placeholders(params["username"], params["realm"])
    for option, key in (("email", "email"), ("first_name", "firstName"), ("last_name", "lastName")):
        if params.get(option) is not None:
            wanted[key] = params[option]
        elif params["fill_profile"] and not (current or {}).get(key):
            wanted[key] = placeholders[key]
    if current is None:
        return wanted
    return {key: value for key, value in wanted.items() if not _same(key, current.get(key), value)}


def _without_update_password(actions: Iterable[str]) -> list[str]:
    return [action for action in actions if action != UPDATE_PASSWORD_ACTION]


# --------------------------------------------------------------------------- state and plan


@dataclass
class UserState:
    """What :func:`read_state` found; the input of the plan."""

    default_role: str  # the realm's default roles composite (default-roles-<realm>)
    user: dict[str, Any] | None = None  # the user's full representation, None when there is none
    roles: list[dict[str, Any]] = field(default_factory=list)  # realm roles mapped directly to the user
    existing_roles: dict[str, dict[str, Any]] = field(default_factory=dict)  # wanted roles the realm has, by name
    missing_roles: list[str] = field(default_factory=list)  # wanted roles to create
    password: str | None = None  # VALID, INVALID, UNKNOWN or LOCKED; None when not checked


@dataclass
class UserPlan:
    """What one run does to the user, in the order :func:`apply` does it.

    ``changes`` are the user attributes to set (all of them for a new user); ``recheck`` says
    that the password of a disabled user is checked once the user is enabled, and
    ``drop_action_after_recheck`` that its pending UPDATE_PASSWORD goes when that check can be
    made. ``before`` and ``after`` are the user as the diff shows it.
    """

    before: dict[str, Any]
    after: dict[str, Any]
    create: bool = False
    delete: bool = False
    changes: dict[str, Any] = field(default_factory=dict)
    set_password: bool = False
    recheck: bool = False
    drop_action_after_recheck: bool = False
    roles_to_create: list[str] = field(default_factory=list)
    roles_to_add: list[str] = field(default_factory=list)
    roles_to_remove: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.create or self.delete or self.changes or self.set_password or self.roles_to_add or self.roles_to_remove
        )


def plan_present(state: UserState, params: Params) -> UserPlan:
    """The :class:`UserPlan` for state=present. Pure: reads and writes nothing."""
    current = state.user
    changes = desired_changes(params, current)
    password, mode = params["password"], params["update_password"]
    set_password = password is not None and (
        current is None or mode == "always" or (mode == "when_invalid" and state.password == INVALID)
    )
    recheck = (
        password is not None
        and current is not None
        and mode == "when_invalid"
        and state.password == UNKNOWN
        and changes.get("enabled") is True
    )
    # A pending UPDATE_PASSWORD is what the console's "Temporary" toggle sets. It goes only when
    # this run sets the password or finds it working (after a recheck: either way); a password
    # that is neither set nor checked stays temporary.
    actions = list((current or {}).get("requiredActions") or [])
    drop_action = password is not None and UPDATE_PASSWORD_ACTION in actions
    if drop_action and (set_password or state.password == VALID):
        changes["requiredActions"] = _without_update_password(actions)

    wanted_roles = _unique(params["realm_roles"])
    role_names = [role["name"] for role in state.roles]
    mapped = role_names if current is not None else [state.default_role]
    add = [name for name in wanted_roles if name not in mapped]
    remove: list[str] = []
    if params["roles_mode"] == "exact":
        remove = [name for name in mapped if name not in wanted_roles and name != state.default_role]

    predicted = dict(current or {"username": params["username"].lower(), "requiredActions": []})
    predicted.update(changes)
    if drop_action and recheck:
        predicted["requiredActions"] = _without_update_password(actions)
    if predicted.get("email"):
        predicted["email"] = predicted["email"].lower()  # as Keycloak stores it
    after = user_view(predicted, [name for name in mapped if name not in remove] + add)
    if set_password:
        after["password"] = PASSWORD_SET if current is None else PASSWORD_CHANGED
    elif recheck:
        after["password"] = PASSWORD_RECHECK
    return UserPlan(
        before=user_view(current, role_names),
        after=after,
        create=current is None,
        changes=changes,
        set_password=set_password,
        recheck=recheck,
        drop_action_after_recheck=drop_action and recheck,
        roles_to_create=list(state.missing_roles),
        roles_to_add=add,
        roles_to_remove=remove,
    )


def plan_absent(state: UserState) -> UserPlan:
    """The :class:`UserPlan` for state=absent: delete the user if there is one (its roles stay)."""
    before = user_view(state.user, [role["name"] for role in state.roles])
    return UserPlan(before=before, after={}, delete=state.user is not None)


# --------------------------------------------------------------------------- reading and writing


class _NotWritten(KeycloakModuleError):
    """A refused write whose message already says what it did not write."""


class CustomerUser:
    """The reads and the single writes for the user ``params['username']`` of ``params['realm']``.

    ``connection`` is an open ``KeycloakConnection`` for that realm; ``warn(msg)`` tells the user.
    """

    def __init__(self, connection: KeycloakConnection, params: Params, warn: Warn) -> None:
        self.connection = connection
        self.params = params
        self.warn = warn
        self.realm = params["realm"]
        self.username = params["username"]
        self.admin = connection.admin
        self._check_secret: str | None = None
        self._check_client_ready = False
        self._disabled_after_password: bool | None = None
        # Keycloak accepted the password but answered "Account is not fully set up" (see can_log_in)
        self.not_set_up = False
        connection.secrets.add(params["password"])
        connection.secrets.add(params["password_check_client_secret"])

    @property
    def realm_rep(self) -> Rep:
        """The realm's representation, read on first use (see ``KeycloakConnection.realm_representation``)."""
        return self.connection.realm_representation

    def _errors(self, what: str, advice: Mapping[int, str] | None = None) -> AbstractContextManager[None]:
        return self.connection.errors("%s in realm '%s'" % (what, self.realm), advice)

    # ------------------------------------------------------------------ reads

    def find(self) -> Rep | None:
        """The user named ``username`` (Keycloak compares usernames in lower case), or None."""
        with self._errors("looking up user '%s'" % self.username):
            found = self.admin.get_users({"username": self.username, "exact": True})
        return next(
            (user for user in found or [] if (user.get("username") or "").lower() == self.username.lower()), None
        )

    def read(self, user_id: str) -> Rep:
        with self._errors("reading user '%s'" % self.username):
            return self.admin.get_user(user_id)

    def direct_roles(self, user_id: str) -> list[Rep]:
        """The realm roles mapped directly to the user (representations)."""
        with self._errors("reading the realm role mappings of user '%s'" % self.username):
            return list(self.admin.get_realm_roles_of_user(user_id) or [])

    def read_role(self, name: str) -> Rep:
        with self._errors("reading realm role '%s'" % name):
            return self.admin.get_realm_role(path_segment(name))  # the name goes into the URL path

    def get_role(self, name: str) -> Rep | None:
        """The realm role ``name``, or None when the realm has no such role."""
        try:
            return self.read_role(name)
        except KeycloakModuleError as exc:
            if exc.http_code == 404:
                return None
            raise

    def realm_roles(self) -> dict[str, Rep]:
        """Every realm role of the realm (brief representations), by name: one read."""
        with self._errors("reading the realm roles"):
            return {role["name"]: role for role in self.admin.get_realm_roles() or []}

    def resolve_roles(self, names: Sequence[str], mapped: Iterable[Rep] = ()) -> tuple[dict[str, Rep], list[str]]:
        """``(existing, to_create)``: role representations by name, and the names to create.

        ``mapped`` are roles already mapped to the user (representations): they exist, so they are
        not read again; the others are looked up in one read of the realm's roles, and not at all
        when every wanted role is mapped. A missing role not listed in ``create_missing_roles`` is an
        error, raised before anything is written.
        """
        creatable = set(self.params["create_missing_roles"] or [])
        mapped_by_name = {role.get("name"): role for role in mapped}
        existing = {name: mapped_by_name[name] for name in names if name in mapped_by_name}
        to_create: list[str] = []
        missing: list[str] = []
        unknown = [name for name in names if name not in existing]
        realm_roles = self.realm_roles() if unknown else {}
        for name in unknown:
            if name in realm_roles:
                existing[name] = realm_roles[name]
            else:
                (to_create if name in creatable else missing).append(name)
        if missing:
            several = len(missing) > 1
            them = "them" if several else "it"
            raise KeycloakModuleError(
                "%s %s %s in realm '%s' (and not in create_missing_roles); this task changed nothing. Create %s in the "
                "realm, add %s to create_missing_roles, or remove %s from realm_roles"
                % (
                    "Realm roles" if several else "Realm role",
                    ", ".join("'%s'" % name for name in missing),
                    "do not exist" if several else "does not exist",
                    self.realm,
                    them,
                    them,
                    them,
                )
            )
        return existing, to_create

    def check_email_conflict(self, email: str | None, user_id: str | None) -> None:
        """Fail when another user of the realm already has ``email`` (before any write)."""
        if not email or self.realm_rep.get("duplicateEmailsAllowed"):
            return
        with self._errors("looking up users with e-mail '%s'" % email):
            found = self.admin.get_users({"email": email, "exact": True})
        for other in found or []:
            if (other.get("email") or "").lower() == email.lower() and other.get("id") != user_id:
                raise KeycloakModuleError(
                    "E-mail '%s' is already used by user '%s' in realm '%s' (the realm does not allow duplicate "
                    "e-mails); this task changed nothing. Choose another email for user '%s'"
                    % (email, other.get("username"), self.realm, self.username)
                )

    def _prepare_check_client(self) -> None:
        """Make sure the password-check client can do a password grant; find its secret."""
        if self._check_client_ready:
            return
        client_id = self.params["password_check_client_id"]
        client = self.connection.get_client(client_id)
        cannot = "The password of user '%s' cannot be checked: client '%s' (password_check_client_id)" % (
            self.username,
            client_id,
        )
        if client is None:
            raise KeycloakModuleError(
                "%s does not exist in realm '%s'; this task changed nothing. Name a client with direct access "
                "grants, or use update_password: on_create or always" % (cannot, self.realm)
            )
        if client.get("enabled") is False:
            raise KeycloakModuleError(
                "%s in realm '%s' is disabled (enabled: false), so Keycloak refuses every token request through it; "
                "this task changed nothing. Enable it (Clients > %s > Settings > Enabled), or name another client"
                % (cannot, self.realm, client_id)
            )
        if not client.get("directAccessGrantsEnabled"):
            raise KeycloakModuleError(
                "%s in realm '%s' does not allow direct access grants; this task changed nothing. Enable them, "
                "name another client, or use update_password: on_create or always" % (cannot, self.realm)
            )
        secret = self.params["password_check_client_secret"]
        if not secret and not client.get("publicClient") and not client.get("bearerOnly"):
            with self._errors("reading the secret of client '%s'" % client_id):
                secret = (self.admin.get_client_secrets(client["id"]) or {}).get("value")
            self.connection.secrets.add(secret)
        self._check_secret = secret
        self._check_client_ready = True

    def locked_out(self, user_id: str) -> bool:
        """Whether brute force detection currently locks the user out.

        ``GET admin/realms/{realm}/attack-detection/brute-force/users/{id}`` (``disabled``). A
        locked user gets "Invalid user credentials" whatever the password, so a check would be
        meaningless (and would extend the lock). Not read when the realm, already read for another
        reason, has detection off; the realm is not read for this (it is the bigger read).
        """
        if self.connection.realm_read and self.realm_rep.get("bruteForceProtected") is False:
            return False
        with self._errors("reading the brute force detection status of user '%s'" % self.username):
            status = self.admin.get_bruteforce_detection_status(user_id)
        return bool((status or {}).get("disabled"))

    def password_state(self, user_id: str) -> str:
        """VALID, INVALID, UNKNOWN or LOCKED for the wanted password of the existing user.

        LOCKED: brute force detection locks the user out; the password is not checked and a
        warning says so. "Account disabled" is VALID on a server that says so only to the right
        password (:meth:`disabled_after_password`), else UNKNOWN: checked again after enabling
        the user. "Account is not fully set up" comes only after the password was accepted: VALID.
        """
        if self.locked_out(user_id):
            self.warn(
                "User '%s' in realm '%s' is locked by brute force detection, so its password was neither "
                "checked (a check is a login attempt) nor changed. Unlock the user or wait until the lock "
                "expires, then run again" % (self.username, self.realm)
            )
            return LOCKED
        try:
            ok = self._check_password()
        except KeycloakModuleError as exc:
            detail = (exc.detail or "").lower()
            if exc.http_code == 400 and "not fully set up" in detail:
                self.not_set_up = True  # the password works; whether the user can log in: can_log_in
                return VALID
            if exc.http_code == 400 and "account disabled" in detail:
                return VALID if self.disabled_after_password() else UNKNOWN
            raise
        if not ok:
            self._warn_failed_login(user_id)
        return VALID if ok else INVALID

    def _warn_failed_login(self, user_id: str) -> None:
        """Say how to reset the failure count when the check was a failed login under brute force detection."""
        realm = self.realm_rep
        if not realm.get("bruteForceProtected"):
            return
        self.warn(
            "The password check of user '%s' in realm '%s' was one failed login, which the realm's brute force "
            "detection counts (it locks the user after %s failures; this module tries at most once per run). To "
            "reset the count: the user's brute force status in the admin console (Users > %s, or Realm settings "
            "> Security defenses; 'Unlock users' on the Users page), DELETE admin/realms/%s/attack-detection/"
            "brute-force/users/%s, or a successful login; update_password: always or on_create skips the check"
            % (self.username, self.realm, realm.get("failureFactor", "some"), self.username, self.realm, user_id)
        )

    def can_log_in(self, actions: Sequence[str], repaired: bool, user_id: str | None) -> None:
        """Refuse a user that Keycloak answered "Account is not fully set up" and that this run does not repair.

        ``actions`` are the user's required actions once the run is done, ``repaired`` whether the run removes
        what the answer may have been about (a pending UPDATE_PASSWORD, which it drops, or an empty e-mail or
        name, which ``fill_profile`` fills). Any other pending required action (CONFIGURE_TOTP, VERIFY_EMAIL,
        ...) or a required user-profile attribute without a value keeps the customer from getting tokens:
        KeycloakModuleError naming them.
        """
        if not self.not_set_up:
            return
        if actions:
            reason = "the user has pending required actions %s" % ", ".join(sorted(actions))
            fix = "remove them (Users > %s > Required user actions) or let the customer complete them" % self.username
        elif repaired:
            return
        else:
            missing = self.missing_profile_attributes(user_id)
            if missing:
                reason = "required user-profile attributes have no value: %s" % ", ".join(missing)
            else:
                reason = "no required action is pending; a required user-profile attribute may have no value"
            fix = "give the user the values the realm's user profile requires (Realm settings > User profile)"
        raise KeycloakModuleError(
            "User '%s' in realm '%s' cannot log in: Keycloak accepted the password but answers 'Account is not fully "
            "set up' (%s), so the customer gets no token; %s" % (self.username, self.realm, reason, fix)
        )

    def missing_profile_attributes(self, user_id: str | None) -> list[str]:
        """The user-profile attributes required of a user that the user has no value for ([] when unknown).

        Read from the realm's user profile (``GET admin/realms/{realm}/users/profile``, Keycloak 24+; older
        servers have none): an attribute is required of a user when ``required`` names no roles or the role
        ``user``, and no scopes (those are asked only when a client requests the scope).
        """
        if not user_id:
            return []
        try:
            with self._errors("reading the user profile of realm '%s'" % self.realm):
                profile = self.admin.get_realm_users_profile() or {}
                user = self.admin.get_user(user_id) or {}
        except KeycloakModuleError:
            return []
        missing: list[str] = []
        for attribute in profile.get("attributes") or []:
            name, required = attribute.get("name"), attribute.get("required")
            if not name or not isinstance(required, dict) or required.get("scopes"):
                continue
            if required.get("roles") and "user" not in required["roles"]:
                continue
            value = user.get(name) if name in ("username",) + PROFILE_KEYS else (user.get("attributes") or {}).get(name)
            if not value or value == [""]:
                missing.append(name)
        return missing

    def _check_password(self) -> bool:
        """The password grant, first with what was given; the client is read only when it refuses.

        The grant itself proves that the client exists, allows direct access grants and takes the
        given secret (none for a public client). When Keycloak refuses the client (``invalid_client``,
        ``unauthorized_client``: the user's credentials are not looked at, so no failed login is
        counted), the client is read: a missing one or one without direct access grants is explained,
        a confidential one's secret is read, and the grant is tried once more.
        """
        check = partial(
            self.connection.check_password,
            self.username,
            self.params["password"],
            self.params["password_check_client_id"],
        )
        if self._check_client_ready:
            return check(self._check_secret)
        given = self.params["password_check_client_secret"]
        try:
            return check(given)
        except KeycloakModuleError as exc:
            detail = (exc.detail or "").lower()
            if not ("invalid_client" in detail or "unauthorized_client" in detail):
                raise
            refused = exc
        self._prepare_check_client()  # explains a missing client or one without direct access grants
        if self._check_secret == given:
            raise refused  # the same secret again would be refused again
        return check(self._check_secret)

    def disabled_after_password(self) -> bool:
        """Whether this server answers "Account disabled" only after accepting the password.

        Read once from the version in ``GET admin/serverinfo`` (see
        :data:`DISABLED_AFTER_PASSWORD_FROM`); False when the server info cannot be read.
        """
        if self._disabled_after_password is None:
            try:
                with self._errors("reading the server info for user '%s'" % self.username):
                    info = self.admin.get_server_info() or {}
                version = (info.get("systemInfo") or {}).get("version")
            except KeycloakModuleError:
                version = None
            self._disabled_after_password = version_tuple(version) >= DISABLED_AFTER_PASSWORD_FROM
        return self._disabled_after_password

    # ------------------------------------------------------------------ writes

    def _password_rejected(self, exc: KeycloakModuleError, outcome: str) -> _NotWritten | None:
        """The message for a 400 about the password itself (Keycloak's detail says so), or None."""
        detail = (exc.detail or "").lower()
        if exc.http_code != 400 or not ("password" in detail or "policy" in detail):
            return None
        policy = self.realm_rep.get("passwordPolicy")
        return _NotWritten(
            "Keycloak rejected the password of user '%s' in realm '%s': %s%s; %s"
            % (
                self.username,
                self.realm,
                exc.detail,
                " (realm password policy: %s)" % policy if policy else "",
                outcome,
            ),
            http_code=exc.http_code,
            detail=exc.detail,
        )

    def _read_back(
        self, exc: KeycloakModuleError, what: str, read_back: Callable[[], tuple[bool, str]], create: bool = False
    ) -> str:
        """:meth:`KeycloakConnection.decide_unanswered` for a write of this user (``what``) in its realm."""
        return self.connection.decide_unanswered(exc, "%s in realm '%s'" % (what, self.realm), read_back, create)

    def create_role(self, name: str) -> None:
        """Create realm role ``name`` (just a name)."""
        advice = (
            "Creating realm roles needs the manage-realm role of realm-management in realm '%s'; grant it to "
            "the admin, or create role '%s' beforehand" % (self.realm, name)
        )
        try:
            with self._errors("creating realm role '%s'" % name, advice={403: advice}):
                # no read first: the plan knows the role is missing; 409 means another run just made it
                self.admin.create_realm_role({"name": name})
        except KeycloakModuleError as exc:
            if exc.http_code == 409:
                return

            def read_back() -> tuple[bool, str]:
                found = self.get_role(name) is not None
                return found, "realm role '%s' %s" % (name, "exists" if found else "does not exist")

            self._read_back(exc, "creating realm role '%s'" % name, read_back)

    def _created_user(self, attributes: Mapping[str, Any]) -> tuple[bool, str, str | None]:
        """``(done, seen, id)``: whether the user as :meth:`create` asked for it exists (with a password)."""
        found = self.find()
        if found is None:
            return False, "no user '%s'" % self.username, None
        differ = sorted(key for key, value in attributes.items() if not _same(key, found.get(key), value))
        seen = "user '%s' (id %s)" % (found.get("username"), found.get("id"))
        if differ:
            seen += " with other %s" % ", ".join(differ)
        has_password = True
        if self.params["password"] is not None:
            with self._errors("reading the credentials of user '%s'" % self.username):
                credentials = self.admin.get_credentials(found["id"]) or []
            has_password = any(credential.get("type") == "password" for credential in credentials)
            seen += " with a password" if has_password else " without a password"
        return not differ and has_password, seen, found.get("id")

    def create(self, attributes: Mapping[str, Any]) -> str:
        """Create the user with ``attributes`` and, inline, its password; return its id.

        With the credential inline Keycloak applies the password policy in the same transaction,
        so a rejected password leaves no half-created user. No answer (or a 409: the request may have
        been sent twice by a proxy) is decided by reading the user back.
        """
        body = dict(attributes, username=self.username)
        password = self.params["password"]
        if password is not None:
            body["credentials"] = [{"type": "password", "value": password, "temporary": False}]
        try:
            with self._errors("creating user '%s'" % self.username):
                return self.admin.create_user(body)
        except KeycloakModuleError as exc:
            rejected = self._password_rejected(exc, "the user was not created") if password is not None else None
            if rejected is not None:
                raise rejected from None
            created: dict[str, Any] = {}

            def read_back() -> tuple[bool, str]:
                done, seen, created["id"] = self._created_user(attributes)
                return done, seen

            try:
                self._read_back(exc, "creating user '%s'" % self.username, read_back, create=True)
            except KeycloakModuleError as final:
                if final is exc and exc.http_code == 409:
                    raise _NotWritten(
                        "%s; the user was not created" % exc.msg, http_code=409, detail=exc.detail
                    ) from None
                raise final from None
            return created["id"]

    def set_password(self, user_id: str) -> None:
        started = time.time()
        try:
            with self._errors("setting the password of user '%s'" % self.username):
                self.admin.set_user_password(user_id, self.params["password"], temporary=False)
        except KeycloakModuleError as exc:
            rejected = self._password_rejected(exc, "the password was not changed")
            if rejected is not None:
                raise rejected from None

            def read_back() -> tuple[bool, str]:
                # the password credential's creation time (Keycloak's clock; a skew of a minute is allowed)
                with self._errors("reading the credentials of user '%s'" % self.username):
                    credentials = self.admin.get_credentials(user_id) or []
                created = [c.get("createdDate") or 0 for c in credentials if c.get("type") == "password"]
                if not created:
                    return False, "user '%s' has no password" % self.username
                when = max(created) / 1000.0
                seen = "the password of user '%s' was last set at %s UTC" % (
                    self.username,
                    time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)),
                )
                return when >= started - CLOCK_SKEW, seen

            self._read_back(exc, "setting the password of user '%s'" % self.username, read_back)

    def update(self, user_id: str, current: Rep, changes: Mapping[str, Any]) -> None:
        """PUT the whole representation ``current`` with ``changes`` (so nothing else is lost)."""
        payload = {key: value for key, value in current.items() if key not in ("access", "userProfileMetadata")}
        payload.update(changes)
        try:
            with self._errors("updating user '%s'" % self.username):
                self.admin.update_user(user_id, payload)
        except KeycloakModuleError as exc:

            def read_back() -> tuple[bool, str]:
                now = self.read(user_id) or {}
                differ = sorted(key for key, value in changes.items() if not _same(key, now.get(key), value))
                if not differ:
                    return True, "user '%s' has %s as asked" % (self.username, ", ".join(sorted(changes)))
                return False, "user '%s' still has other %s" % (self.username, ", ".join(differ))

            self._read_back(exc, "updating user '%s'" % self.username, read_back)

    def _mapped(self, user_id: str, roles: Sequence[Rep], wanted: bool) -> Callable[[], tuple[bool, str]]:
        def read_back() -> tuple[bool, str]:
            mapped: set[Any] = {role.get("name") for role in self.direct_roles(user_id)}
            names = {role["name"] for role in roles}
            done = names <= mapped if wanted else not names & mapped
            return done, "realm roles mapped to user '%s': %s" % (self.username, ", ".join(sorted(mapped)) or "none")

        return read_back

    def assign_roles(self, user_id: str, roles: Sequence[Rep]) -> None:
        what = "assigning realm roles %s to user '%s'" % (_names(roles), self.username)
        try:
            with self._errors(what):
                self.admin.assign_realm_roles(user_id, roles)
        except KeycloakModuleError as exc:
            self._read_back(exc, what, self._mapped(user_id, roles, True))

    def remove_roles(self, user_id: str, roles: Sequence[Rep]) -> None:
        what = "removing realm roles %s from user '%s'" % (_names(roles), self.username)
        try:
            with self._errors(what):
                self.admin.delete_realm_roles_of_user(user_id, roles)
        except KeycloakModuleError as exc:
            self._read_back(exc, what, self._mapped(user_id, roles, False))

    def delete(self, user_id: str) -> None:
        with self._errors("deleting user '%s'" % self.username):
            self.admin.delete_user(user_id)


def _names(roles: Iterable[Rep]) -> str:
    return ", ".join(role["name"] for role in roles)


# The default roles composite every user has, as Keycloak names it unless the realm says otherwise.
_DEFAULT_ROLE = "default-roles-%s"


def read_state(user: CustomerUser, params: Params) -> UserState:
    """Read and validate everything the plan needs; raise KeycloakModuleError before any write."""
    state = UserState(default_role=_DEFAULT_ROLE % user.realm.lower())
    state.user = user.find()
    if params["state"] == "present" and (state.user is None or params["roles_mode"] == "exact"):
        # only a new user's roles and roles_mode exact need its name: the realm is read for it then
        state.default_role = (user.realm_rep.get("defaultRole") or {}).get("name") or state.default_role
    if params["state"] == "absent":
        if state.user is not None:
            state.roles = user.direct_roles(state.user["id"])
        return state
    # The search gives the full representation (what an update PUTs back): the user is not read again.
    user_id: Any = (state.user or {}).get("id")  # None for a new user
    if state.user is not None:
        state.roles = user.direct_roles(user_id)
    state.existing_roles, state.missing_roles = user.resolve_roles(_unique(params["realm_roles"]), state.roles)
    user.check_email_conflict(desired_changes(params, state.user).get("email"), user_id)
    if params["password"] is not None and state.user is not None and params["update_password"] == "when_invalid":
        state.password = user.password_state(user_id)
    return state


# --------------------------------------------------------------------------- apply and run


@dataclass
class Outcome:
    """What :func:`apply` did beyond the plan: the recheck of a disabled user's password."""

    user_id: str
    password_set_on_recheck: bool = False
    action_kept: bool = False  # the recheck could not be made: UPDATE_PASSWORD stays
    applied: list[str] = field(default_factory=list)  # what the run wrote, in words


def apply(user: CustomerUser, plan: UserPlan, state: UserState) -> Outcome:
    """Write ``plan`` for state=present; return the :class:`Outcome`.

    A failure is reported with what this run already applied (or that this task changed nothing).
    """
    applied: list[str] = []
    try:
        roles = dict(state.existing_roles)
        for name in plan.roles_to_create:
            user.create_role(name)
            applied.append("created realm role '%s'" % name)
            roles[name] = user.read_role(name)
        if plan.create:
            outcome = Outcome(user.create(plan.changes))
            applied.append("created the user" + (" with its password" if plan.set_password else ""))
        else:
            current = cast("Rep", state.user)  # not plan.create: the user exists
            outcome = Outcome(current["id"])
            if plan.set_password:
                user.set_password(outcome.user_id)
                applied.append("set the password")
            if plan.changes:
                user.update(outcome.user_id, current, plan.changes)
                applied.append("updated the user (%s)" % ", ".join(sorted(plan.changes)))
        if plan.recheck:
            _recheck(user, plan, outcome, applied)
        if plan.roles_to_add or plan.roles_to_remove:
            # a new user has only the default roles composite, which is never added nor removed
            current_roles = [] if plan.create else state.roles
            mapped = {role["name"]: role for role in current_roles}
            add = [roles[name] for name in plan.roles_to_add if name not in mapped]
            remove = [mapped[name] for name in plan.roles_to_remove if name in mapped]
            if add:
                user.assign_roles(outcome.user_id, add)
                applied.append("mapped realm roles %s" % _names(add))
            if remove:
                user.remove_roles(outcome.user_id, remove)
                applied.append("removed realm roles %s" % _names(remove))
    except KeycloakModuleError as exc:
        unknown = getattr(exc, "unknown", False)  # a write without answer that the read back cannot confirm
        if applied:
            tail = "already applied: %s" % ", ".join(applied)
        else:
            tail = "this task changed nothing%s" % (" else" if isinstance(exc, _NotWritten) or unknown else "")
        raise KeycloakModuleError(
            "%s; %s" % (exc.msg, tail), http_code=exc.http_code, detail=exc.detail, changed=bool(applied) or unknown
        ) from None
    outcome.applied = applied
    return outcome


def _recheck(user: CustomerUser, plan: UserPlan, outcome: Outcome, applied: list[str]) -> None:
    """Check the password of a user that was disabled, now that it is enabled."""
    state = user.password_state(outcome.user_id)
    if state == INVALID:
        user.set_password(outcome.user_id)
        applied.append("set the password")
        outcome.password_set_on_recheck = True
    if not plan.drop_action_after_recheck:
        return
    if state not in (VALID, INVALID):  # still not checked (locked by brute force detection)
        outcome.action_kept = True
        return
    current = user.read(outcome.user_id)
    actions = list(current.get("requiredActions") or [])
    if UPDATE_PASSWORD_ACTION in actions:
        changes = {"requiredActions": _without_update_password(actions)}
        user.update(outcome.user_id, current, changes)
        applied.append("updated the user (requiredActions)")


def details(plan: UserPlan, password_changed: bool, check_mode: bool, action_kept: bool = False) -> str:
    """What the run changes on the user, for its ``msg``: attribute and role names, never a value.

    ``" (changed enabled, email; granted role(s) 'api-user'; set the password)"``; in check mode the verbs are
    in the present (``"Would update ... (change enabled; grant role(s) 'api-user')"``); ``""`` when there is nothing.
    A pending UPDATE_PASSWORD dropped once a disabled user's password is rechecked counts as a change of
    ``requiredActions``, unless the recheck could not be made (``action_kept``).
    """
    present = 0 if not check_mode else 1
    parts: list[str] = []
    changes = set(plan.changes)
    if plan.drop_action_after_recheck and not action_kept:
        changes.add("requiredActions")
    if changes and not plan.create and not plan.delete:
        parts.append("%s %s" % (("changed", "change")[present], ", ".join(sorted(changes))))
    if plan.roles_to_create:
        parts.append("%s realm role(s) %s" % (("created", "create")[present], _quoted(plan.roles_to_create)))
    if plan.roles_to_add:
        parts.append("%s role(s) %s" % (("granted", "grant")[present], _quoted(plan.roles_to_add)))
    if plan.roles_to_remove:
        parts.append("%s role(s) %s" % (("revoked", "revoke")[present], _quoted(plan.roles_to_remove)))
    if password_changed and not plan.delete:
        parts.append("set the password")
    return " (%s)" % "; ".join(parts) if parts else ""


def _quoted(names: Iterable[str]) -> str:
    return ", ".join("'%s'" % name for name in sorted(names))


def run(connection: KeycloakConnection, params: Params, check_mode: bool, diff: bool, warn: Warn) -> Result:
    """The runner of ``keycloak_customer_user`` (see ``_runner.run_module``).

    The result holds ``changed``, ``msg``, ``user`` (after the run, predicted in check mode),
    ``roles_added``, ``roles_removed``, ``roles_created``, ``password_changed`` and, with
    ``diff``, ``diff`` (the user before and after, a ``password`` key instead of the password).
    """
    require_text(params, SECRET_OPTIONS + USER_SECRETS, target(params))
    connection.open()
    user = CustomerUser(connection, params, warn)
    state = read_state(user, params)
    present = params["state"] == "present"
    plan = plan_present(state, params) if present else plan_absent(state)
    if present and state.user is not None:  # before any write: this task changed nothing
        pending = state.user.get("requiredActions") or []
        actions = plan.changes.get("requiredActions", pending)
        repaired = bool(pending and not actions) or any(key in plan.changes for key in PROFILE_KEYS)
        user.can_log_in(actions, repaired, state.user["id"])
    enabling = present and state.user is not None and state.user.get("enabled") is False and plan.changes.get("enabled")
    if enabling and check_mode:
        warn(REENABLED % (params["username"], params["realm"], "is disabled and would be enabled by this run"))
    after = dict(plan.after)
    password_changed = plan.set_password
    action_kept = False
    user_id: Any = (state.user or {}).get("id")  # None for a new user
    view = dict(after)
    if plan.delete and not check_mode:
        user.delete(user_id)
    elif present and plan.changed and not check_mode:
        outcome = apply(user, plan, state)
        user_id = outcome.user_id
        if enabling:
            warn(REENABLED % (params["username"], params["realm"], "was disabled and is enabled by this run"))
        if plan.recheck:
            after.pop("password", None)
            if outcome.password_set_on_recheck:
                after["password"] = PASSWORD_CHANGED
                password_changed = True
            action_kept = outcome.action_kept
            if outcome.action_kept:
                after["required_actions"] = sorted(set(after["required_actions"]) | {UPDATE_PASSWORD_ACTION})
        end = user.read(user_id)
        if plan.recheck and user.not_set_up:  # checked only now that the run enabled the user
            repaired = plan.drop_action_after_recheck or any(key in plan.changes for key in PROFILE_KEYS)
            try:
                user.can_log_in(end.get("requiredActions") or [], repaired, user_id)
            except KeycloakModuleError as exc:
                raise KeycloakModuleError(
                    "%s; already applied: %s" % (exc.msg, ", ".join(outcome.applied)), changed=True
                ) from None
        view = user_view(end, [role["name"] for role in user.direct_roles(user_id)])
    view.pop("password", None)
    if view:
        view["id"] = user_id
    result = {
        "changed": plan.changed,
        "msg": change_message(target(params), params["state"], state.user is not None, plan.changed, check_mode)
        + details(plan, password_changed, check_mode, action_kept),
        "user": view,
        "roles_added": sorted(plan.roles_to_add),
        "roles_removed": sorted(plan.roles_to_remove),
        "roles_created": sorted(plan.roles_to_create),
        "password_changed": password_changed,
    }
    if diff:
        result["diff"] = {"before": plan.before, "after": after}
    return result

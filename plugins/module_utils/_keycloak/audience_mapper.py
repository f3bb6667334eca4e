# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audience mapper of ``keycloak_audience_mapper``: read, plan, apply (private to the collection).

:func:`run` reads everything first (the owner of the mapper, its mappers, the audience mapper
settings the server offers when the decision needs them, the audience client), makes a
:class:`MapperPlan` with the pure :func:`plan`, checks the admin's rights for it and, unless in
check mode, applies it with :func:`apply`: at most one write. Everything that can refuse the run (a public client, an
unknown audience client, a missing right) is checked before that write, in both modes.

Check mode predicts exactly: ``changed``, the message and the diff come from the plan in both
modes, and the plan's ``after`` is what the server stores, including the settings Keycloak adds
by itself (:func:`server_additions`). A real run's diff shows the mapper as read back after the
write; the diff never shows the mapper's ``id``, which only the server assigns.

Where the mapper lives:

* ``client_id`` given: the client's *dedicated scope*, which in Keycloak is the client's own
  protocol mappers (``admin/realms/{realm}/clients/{uuid}/protocol-mappers/models``), not a
  client scope named ``<client>-dedicated``.
* ``client_scope`` given: the protocol mappers of that realm client scope
  (``admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models``).

Only the one mapper named ``name`` is ever created (POST), updated in place (PUT on its id)
or deleted; the client itself is never PUT, so other mappers cannot be lost.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import SECRET_OPTIONS, require_text
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.realm import require_realm
from ansible_collections.cx.api_auth.plugins.module_utils._runner import change_message

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn

    Mapper = dict[str, Any]  # a ProtocolMapperRepresentation
    Properties = Sequence[tuple[str, Any]]  # the audience mapper settings a server offers: (name, defaultValue)

PROTOCOL = "openid-connect"
MAPPER_TYPE = "oidc-audience-mapper"

KEY_CLIENT_AUDIENCE = "included.client.audience"
KEY_CUSTOM_AUDIENCE = "included.custom.audience"
KEY_ID_TOKEN = "id.token.claim"
KEY_ACCESS_TOKEN = "access.token.claim"
KEY_INTROSPECTION = "introspection.token.claim"
KEY_LIGHTWEIGHT = "lightweight.claim"
KEY_USERINFO = "userinfo.token.claim"

# Token flags every Keycloak with an audience mapper knows (sent always).
BASE_FLAGS = (
    ("add_to_id_token", KEY_ID_TOKEN),
    ("add_to_access_token", KEY_ACCESS_TOKEN),
)
# Token flags only newer servers offer (Keycloak 25+): sent only where the server's
# audience mapper lists them in GET admin/serverinfo.
OPTIONAL_FLAGS = (
    ("add_to_introspection", KEY_INTROSPECTION),
    ("add_to_lightweight_token", KEY_LIGHTWEIGHT),
)
# What the admin console sends for the optional flags when the server does not say.
_CONSOLE_DEFAULTS = {KEY_INTROSPECTION: "true", KEY_LIGHTWEIGHT: "false"}
_FLAG_KEYS = (KEY_ID_TOKEN, KEY_ACCESS_TOKEN, KEY_INTROSPECTION, KEY_LIGHTWEIGHT)
_KEY_ORDER = (KEY_CLIENT_AUDIENCE, KEY_CUSTOM_AUDIENCE) + _FLAG_KEYS

# What Keycloak writes into a mapper's config by itself, on every create and update (read from the
# real servers): a server whose audience mapper offers 'introspection.token.claim' (Keycloak 25+;
# 26.7.3 asked) fills an absent key from its source flag, "true" only for exactly "true", and only
# when the source is set; a server without it (19.0.1 asked) stores the config as sent.
# (key filled, source flag)
SERVER_FILLED = (
    (KEY_INTROSPECTION, KEY_ACCESS_TOKEN),
    (KEY_USERINFO, KEY_ID_TOKEN),
)

# Why a public client is refused as the mapper's owner (require_confidential).
PUBLIC_CLIENT = (
    "the client is public (publicClient: true, 'Client authentication' OFF) and has no secret, so the gateway's "
    "bearer_only token introspection, which authenticates as client '%s', cannot work; this task changed nothing. "
    "Turn 'Client authentication' ON for client '%s' in realm '%s' in the admin console (Clients > %s > Settings "
    "> Capability config; 'Access Type: confidential' in the old console), which makes it a confidential client "
    "(publicClient: false), then run again; or set require_confidential: false to put the mapper on a public "
    "client anyway"
)


# Why a disabled client is refused as the mapper's owner (require_confidential), like a public one.
DISABLED_CLIENT = (
    "client '%s' in realm '%s' is disabled (enabled: false): Keycloak issues no token through it and refuses the "
    "gateway's token introspection, which authenticates as this client, so the setup cannot work; this task "
    "changed nothing. Enable it in the admin console (Clients > %s > Settings > Enabled), then run again; or set "
    "require_confidential: false to put the mapper on it anyway"
)


def owner_label(params: Params) -> str:
    """``"client 'cim' in realm 'r'"`` or ``"client scope 's' in realm 'r'"``."""
    if params.get("client_id") is not None:
        return "client '%s' in realm '%s'" % (params["client_id"], params["realm"])
    return "client scope '%s' in realm '%s'" % (params["client_scope"], params["realm"])


def target(params: Params) -> str:
    """What the module manages: ``"mapper 'fix-audience' on client 'cim' in realm 'r'"``."""
    return "mapper '%s' on %s" % (params["name"], owner_label(params))


# --------------------------------------------------------------------------- parameters


def validate_params(params: Params) -> None:
    """Check what AnsibleModule cannot express, before anything is sent; raise KeycloakModuleError."""
    require_realm(params.get("realm"), "realm", KeycloakModuleError)  # one path segment (realm.py)
    for option in (
        "name",
        "client_id",
        "client_scope",
        "included_client_audience",
        "included_custom_audience",
    ):
        value = params.get(option)
        if isinstance(value, str) and not value.strip():
            raise KeycloakModuleError("%s must not be empty" % option)
    if (
        params["state"] == "present"
        and params.get("client_scope") is not None
        and params.get("included_client_audience") is None
        and params.get("included_custom_audience") is None
    ):
        raise KeycloakModuleError(
            "client scope '%s' in realm '%s': with client_scope, one of included_client_audience or "
            "included_custom_audience is required (there is no client to default to)"
            % (params["client_scope"], params["realm"])
        )


# --------------------------------------------------------------------------- normalisation


def normalise_value(value: object, flag: bool = False) -> str | None:
    """``value`` the way Keycloak stores a mapper config value, or None for "absent".

    Keycloak stores config values as strings and drops empty ones, so None and empty strings
    become None. With ``flag`` (the token switches) booleans and their string forms in any case
    become ``"true"``/``"false"``; other values are kept as strings (a client ``TRUE`` stays so).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if not text.strip():
        return None
    if flag and text.strip().lower() in ("true", "false"):
        return text.strip().lower()
    return text


def normalise_config(config: Mapping[str, Any] | None, keys: Iterable[str]) -> dict[str, str]:
    """The normalised values of ``keys`` in ``config`` (absent and empty keys left out)."""
    config = config or {}
    result: dict[str, str] = {}
    for key in keys:
        value = normalise_value(config.get(key), flag=key in _FLAG_KEYS)
        if value is not None:
            result[key] = value
    return result


def offered_properties(server_info: Mapping[str, Any] | None, what: str) -> Properties:
    """The config keys the server's ``oidc-audience-mapper`` offers: ``[(name, defaultValue)]``.

    Read from ``protocolMapperTypes["openid-connect"]`` of ``GET admin/serverinfo``; ``what``
    (the mapper and its owner) names the mapper in the error when there is no audience mapper.
    """
    types = ((server_info or {}).get("protocolMapperTypes") or {}).get(PROTOCOL)
    if types is None:
        raise KeycloakModuleError(
            "%s: the server info of Keycloak lists no '%s' protocol mapper types "
            "(GET admin/serverinfo)" % (what, PROTOCOL)
        )
    for mapper_type in types:
        if mapper_type.get("id") == MAPPER_TYPE:
            return [
                (prop.get("name"), prop.get("defaultValue"))
                for prop in mapper_type.get("properties") or []
                if prop.get("name")
            ]
    raise KeycloakModuleError(
        "%s: this Keycloak server has no '%s' protocol mapper (GET admin/serverinfo)" % (what, MAPPER_TYPE)
    )


def desired_config(params: Params, properties: Properties) -> tuple[dict[str, str | None], list[str], list[str]]:
    """``(desired, managed_keys, warnings)`` for state=present.

    ``desired`` maps config keys to the normalised values the mapper must have (a key of
    ``managed_keys`` missing from ``desired`` must be absent); ``properties`` is the result of
    :func:`offered_properties`. ``warnings`` name each optional flag set explicitly that this
    server does not offer (it is then not sent). Unset optional flags (None) are managed only
    when the mapper is created: see :func:`create_defaults`.
    """
    offered = dict(properties)
    desired: dict[str, str | None] = {}
    managed = [KEY_CLIENT_AUDIENCE, KEY_CUSTOM_AUDIENCE]
    warnings: list[str] = []
    if params.get("included_custom_audience") is not None:
        desired[KEY_CUSTOM_AUDIENCE] = normalise_value(params["included_custom_audience"])
    else:
        audience = params.get("included_client_audience")
        desired[KEY_CLIENT_AUDIENCE] = normalise_value(params.get("client_id") if audience is None else audience)
    for option, key in BASE_FLAGS:
        managed.append(key)
        desired[key] = normalise_value(bool(params.get(option)))
    for option, key in OPTIONAL_FLAGS:
        value = params.get(option)
        if value is None:
            continue
        if key not in offered:
            warnings.append(
                "%s=%s is ignored for mapper '%s' of %s: the audience mapper of this Keycloak server has "
                "no '%s' setting (it came with Keycloak 25)"
                % (option, str(bool(value)).lower(), params["name"], owner_label(params), key)
            )
            continue
        managed.append(key)
        desired[key] = normalise_value(bool(value))
    return desired, managed, warnings


def create_defaults(params: Params, properties: Properties) -> dict[str, str]:
    """The config a new mapper gets for the optional flags the user left unset.

    The server's own default (``defaultValue`` in the server info) where it offers the flag, as
    the admin console does; nothing where it does not.
    """
    defaults: dict[str, str] = {}
    offered = dict(properties)
    for option, key in OPTIONAL_FLAGS:
        if params.get(option) is None and key in offered:
            value = normalise_value(offered[key], flag=True)
            defaults[key] = _CONSOLE_DEFAULTS[key] if value is None else value
    return defaults


# --------------------------------------------------------------------------- comparison and payloads


def find_mapper(mappers: Iterable[Mapper] | None, name: str, label: str) -> Mapper | None:
    """The OpenID Connect audience mapper called ``name`` in ``mappers``, or None.

    Mappers are matched by name and protocol, as Keycloak keeps them apart: a mapper of another
    protocol (a SAML one) of the same name is not this module's and is left untouched. An
    OpenID Connect mapper of that name that is not an audience mapper raises KeycloakModuleError:
    it is never replaced, updated or deleted.
    """
    found = None
    for mapper in mappers or []:
        if mapper.get("name") != name or mapper.get("protocol", PROTOCOL) != PROTOCOL:
            continue
        if mapper.get("protocolMapper") != MAPPER_TYPE:
            raise KeycloakModuleError(
                "%s already has a mapper named '%s' of type '%s' (protocol '%s'), not an audience mapper (%s); it "
                "is left alone: remove or rename it, or choose another name"
                % (label, name, mapper.get("protocolMapper"), mapper.get("protocol"), MAPPER_TYPE)
            )
        if found is None:
            found = mapper
    return found


def differences(current: Mapper | None, desired: Mapping[str, str | None], managed_keys: Sequence[str]) -> list[str]:
    """The managed keys whose normalised values differ between ``current`` and ``desired``."""
    have = normalise_config((current or {}).get("config"), managed_keys)
    return [key for key in managed_keys if have.get(key) != desired.get(key)]


def _ordered(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the audience keys first in a fixed order (readable diffs), empty values out."""
    keys = [key for key in _KEY_ORDER if key in config] + sorted(key for key in config if key not in _KEY_ORDER)
    return {key: config[key] for key in keys if config[key] is not None}


def build_create_payload(name: str, desired: Mapping[str, str | None], defaults: Mapping[str, str]) -> Mapper:
    """The ProtocolMapperRepresentation POSTed for a new mapper."""
    return {
        "name": name,
        "protocol": PROTOCOL,
        "protocolMapper": MAPPER_TYPE,
        "consentRequired": False,
        "config": _ordered(dict(defaults, **desired)),
    }


def server_additions(config: Mapping[str, Any], properties: Properties | None) -> dict[str, str]:
    """The config keys Keycloak adds by itself when it stores ``config`` (see :data:`SERVER_FILLED`).

    ``properties`` are the server's audience mapper settings (:func:`offered_properties`): only a
    server that offers ``introspection.token.claim`` adds anything.
    """
    if KEY_INTROSPECTION not in dict(properties or ()):
        return {}
    added: dict[str, str] = {}
    for key, source in SERVER_FILLED:
        if normalise_value(config.get(key)) is None and normalise_value(config.get(source)) is not None:
            added[key] = "true" if config[source] == "true" else "false"
    return added


def stored(payload: Mapper, properties: Properties | None) -> Mapper:
    """The mapper as the server stores ``payload``: empty values dropped, :func:`server_additions` added."""
    result = copy.deepcopy(payload)
    config = {key: value for key, value in (payload.get("config") or {}).items() if normalise_value(value) is not None}
    config.update(server_additions(config, properties))
    result["config"] = _ordered(config)
    return result


def diff_view(mapper: Mapper | None) -> Mapper:
    """``mapper`` as the diff shows it: without the ``id`` only the server assigns (``{}`` for none)."""
    return {key: copy.deepcopy(value) for key, value in (mapper or {}).items() if key != "id"}


def build_update_payload(current: Mapper, desired: Mapping[str, str | None], managed_keys: Sequence[str]) -> Mapper:
    """The representation PUT to update ``current`` in place.

    Keys the server added or that are not managed are kept as they are; managed keys get the
    desired value or are removed when they must be absent.
    """
    payload = copy.deepcopy(current)
    config = {key: value for key, value in (payload.get("config") or {}).items() if key not in managed_keys}
    config.update(desired)
    payload["config"] = _ordered(config)
    return payload


# --------------------------------------------------------------------------- the plan


@dataclass
class MapperPlan:
    """What one run does to the mapper: at most one write.

    ``action`` is ``"create"``, ``"update"``, ``"delete"`` or None (nothing to do);
    ``payload`` what is POSTed or PUT; ``before`` and ``after`` the mapper before and after
    (``{}`` for "no mapper"), ``after`` as the server stores ``payload`` (a new mapper has no
    ``id`` yet); ``warnings`` what the user is told.
    """

    action: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    payload: dict[str, Any] | None = None
    mapper_id: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action is not None


def plan(params: Params, current: Mapper | None, properties: Properties | None) -> MapperPlan:
    """The :class:`MapperPlan` that brings ``current`` (the mapper or None) to ``params``.

    ``properties`` are the server's audience mapper settings (:func:`offered_properties`); not
    needed for state=absent. Pure: reads and writes nothing.
    """
    before = copy.deepcopy(current) if current else {}
    if params["state"] == "absent":
        if current is None:
            return MapperPlan(None, before, {})
        return MapperPlan("delete", before, {}, mapper_id=current["id"])
    properties = cast("Properties", properties)  # needed for state=present
    desired, managed, warnings = desired_config(params, properties)
    if current is None:
        payload = build_create_payload(params["name"], desired, create_defaults(params, properties))
        return MapperPlan("create", before, stored(payload, properties), payload, warnings=warnings)
    if not differences(current, desired, managed):
        return MapperPlan(None, before, copy.deepcopy(before), warnings=warnings)
    payload = build_update_payload(current, desired, managed)
    return MapperPlan("update", before, stored(payload, properties), payload, current["id"], warnings)


# --------------------------------------------------------------------------- owners


# The python-keycloak calls (list, create, update, delete) for each kind of owner.
_OWNER_METHODS = {
    "client": ("get_mappers_from_client", "add_mapper_to_client", "update_client_mapper", "remove_client_mapper"),
    "client scope": (
        "get_mappers_from_client_scope",
        "add_mapper_to_client_scope",
        "update_mapper_in_client_scope",
        "delete_mapper_from_client_scope",
    ),
}


class Owner:
    """The client (its dedicated scope) or the client scope that holds the mapper."""

    def __init__(self, connection: KeycloakConnection, kind: str, representation: dict[str, Any]) -> None:
        self.connection = connection
        self.kind = kind
        self.representation = representation
        self.uuid = representation["id"]
        name = representation.get("clientId" if kind == "client" else "name")
        self.label = "%s '%s' in realm '%s'" % (kind, name, connection.realm)
        self._list, self._create, self._update, self._delete = _OWNER_METHODS[kind]

    def _call(self, what: str, method: str, *args: Any) -> Any:
        with self.connection.errors(what):
            return getattr(self.connection.admin, method)(self.uuid, *args)

    def mappers(self) -> list[Mapper]:
        return self._call("reading the mappers of %s" % self.label, self._list)

    def create(self, payload: Mapper) -> None:
        self._call("creating mapper '%s' on %s" % (payload["name"], self.label), self._create, payload)

    def update(self, mapper_id: str, payload: Mapper) -> None:
        self._call("updating mapper '%s' on %s" % (payload["name"], self.label), self._update, mapper_id, payload)

    def delete(self, mapper_id: str, name: str) -> None:
        self._call("deleting mapper '%s' from %s" % (name, self.label), self._delete, mapper_id)


def resolve_owner(connection: KeycloakConnection, params: Params) -> Owner:
    """The client or client scope that holds the mapper; KeycloakModuleError when it does not exist."""
    realm = params["realm"]
    if params.get("client_id") is not None:
        client = connection.get_client(params["client_id"])
        if client is None:
            raise KeycloakModuleError("client '%s' does not exist in realm '%s'" % (params["client_id"], realm))
        return Owner(connection, "client", client)
    name = params["client_scope"]
    with connection.errors("reading the client scopes of realm '%s'" % realm):
        scopes = connection.admin.get_client_scopes()
    for scope in scopes or []:
        if scope.get("name") == name:
            if scope.get("protocol") not in (None, PROTOCOL):
                raise KeycloakModuleError(
                    "client scope '%s' in realm '%s' is a '%s' scope; an audience mapper needs "
                    "an '%s' scope" % (name, realm, scope.get("protocol"), PROTOCOL)
                )
            return Owner(connection, "client scope", scope)
    raise KeycloakModuleError("client scope '%s' does not exist in realm '%s'" % (name, realm))


def require_confidential(params: Params, owner: Owner) -> None:
    """Refuse a public or a disabled client as the owner of the mapper (before any write, also in check mode).

    The gateway (APISIX ``openid-connect``, ``bearer_only``) introspects every token at Keycloak
    with this client's id and secret; a public client has no secret, so the setup the mapper is
    for cannot work. Only for state=present on a client's dedicated scope with
    ``require_confidential`` (the default); deleting the mapper is always allowed.
    """
    if owner.kind != "client" or params["state"] != "present" or not params.get("require_confidential", True):
        return
    client_id = owner.representation.get("clientId")
    if owner.representation.get("publicClient") is True:
        problem = PUBLIC_CLIENT % (client_id, client_id, owner.connection.realm, client_id)
        raise KeycloakModuleError("Cannot manage %s: %s" % (target(params), problem))
    if owner.representation.get("enabled") is False:
        problem = DISABLED_CLIENT % (client_id, owner.connection.realm, client_id)
        raise KeycloakModuleError("Cannot manage %s: %s" % (target(params), problem))


def check_audience_client(connection: KeycloakConnection, params: Params, owner: Owner) -> None:
    """Make sure ``included.client.audience`` names an existing client of the realm."""
    if params.get("included_custom_audience") is not None:
        return
    audience: str | None = params.get("included_client_audience")
    if audience is None:
        audience = params.get("client_id")
    if owner.kind == "client" and audience == owner.representation.get("clientId"):
        return
    # validate_params: a client scope needs an audience option
    if connection.get_client(cast(str, audience)) is None:
        raise KeycloakModuleError(
            "included_client_audience '%s' names no client in realm '%s' (mapper '%s' of %s)"
            % (audience, params["realm"], params["name"], owner.label)
        )


def require_configure(owner: Owner, action: str, name: str) -> None:
    """Raise before any write when Keycloak says the admin may view but not configure the client.

    Only a client carries such flags (its ``access`` map in ``GET clients``, per caller). A client
    scope has none: there a missing right shows as a 403 on the write itself (nothing is written;
    the message names the scope and the realm), which check mode, writing nothing, cannot see.
    """
    if owner.kind != "client":
        return
    access = owner.representation.get("access")
    if isinstance(access, dict) and not (access.get("configure") or access.get("manage")):
        raise KeycloakModuleError(
            "no permission to %s mapper '%s' on %s: the admin may view this client but not configure it (it needs "
            "the 'manage-clients' role of realm-management in realm '%s', or a fine-grained 'configure' "
            "permission)" % (action, name, owner.label, owner.connection.realm)
        )


# --------------------------------------------------------------------------- apply and run


def _holds(mapper: Mapper, payload: Mapper) -> bool:
    """Whether ``mapper`` (as read back) has every config value ``payload`` asked for."""
    keys = list((payload.get("config") or {}).keys())
    return normalise_config(mapper.get("config"), keys) == normalise_config(payload.get("config"), keys)


def _seen(mapper: Mapper | None, name: str) -> str:
    if mapper is None:
        return "no mapper '%s'" % name
    return "mapper '%s' (id %s) with config %s" % (name, mapper.get("id"), _ordered(dict(mapper.get("config") or {})))


def _write(owner: Owner, mapper_plan: MapperPlan, name: str) -> None:
    """The write of ``mapper_plan``; a write that got no answer (or a create answered 409) is read back.

    Keycloak holding what was asked counts as written; a 409 about another mapper is the refusal it is;
    otherwise KeycloakModuleError "unknown, read back: ..." with ``changed`` (it may have been written).
    """
    create = mapper_plan.action == "create"
    # a plan that changes something: its action, the id of the mapper it updates or deletes, what it writes
    action, mapper_id, payload = (
        cast(str, mapper_plan.action),
        cast(str, mapper_plan.mapper_id),
        cast("Mapper", mapper_plan.payload),
    )
    try:
        if mapper_plan.action == "delete":
            owner.delete(mapper_id, name)
        elif create:
            owner.create(payload)
        else:
            owner.update(mapper_id, payload)
    except KeycloakModuleError as exc:

        def read_back() -> tuple[bool, str]:
            found = find_mapper(owner.mappers(), name, owner.label)
            if mapper_plan.action == "delete":
                return found is None, _seen(found, name)
            return found is not None and _holds(found, payload), _seen(found, name)

        verb = {"create": "creating", "update": "updating", "delete": "deleting"}[action]
        owner.connection.decide_unanswered(exc, "%s mapper '%s' on %s" % (verb, name, owner.label), read_back, create)


def apply(owner: Owner, mapper_plan: MapperPlan, name: str) -> Mapper | None:
    """Write ``mapper_plan`` (which changes something); return the mapper as read back (None when deleted)."""
    _write(owner, mapper_plan, name)
    if mapper_plan.action == "delete":
        return None
    end = find_mapper(owner.mappers(), name, owner.label)
    if end is None:
        raise KeycloakModuleError("mapper '%s' was written to %s but cannot be read back" % (name, owner.label))
    return end


def needs_properties(params: Params, current: Mapper | None) -> bool:
    """Whether the plan needs the server's audience mapper settings before it can say "no change".

    A new mapper does (its defaults and what the server adds), and so does an optional flag set
    explicitly (sent only where the server offers it). Otherwise the decision compares the managed
    keys alone, and the server info (``GET admin/serverinfo``, some 300 KB) is read only when the
    mapper has to change.
    """
    return current is None or any(params.get(option) is not None for option, _key in OPTIONAL_FLAGS)


def _properties_if_needed(connection: KeycloakConnection, params: Params, current: Mapper | None) -> Properties:
    if not needs_properties(params, current) and not plan(params, current, ()).changed:
        return ()
    with connection.errors("reading the server info for %s" % target(params)):
        server_info = connection.admin.get_server_info()
    return offered_properties(server_info, target(params))


def changed_settings(mapper_plan: MapperPlan, check_mode: bool) -> str:
    """For the ``msg`` of an update: ``" (changed id.token.claim)"``, the names of the settings the write
    changes (not their values; not the keys the server adds by itself)."""
    if mapper_plan.action != "update":
        return ""
    before, payload = mapper_plan.before or {}, mapper_plan.payload or {}
    names = sorted(key for key in payload if key not in ("config", "id") and before.get(key) != payload[key])
    old, new = before.get("config") or {}, payload.get("config") or {}
    names += sorted(key for key in new if old.get(key) != new[key])
    return " (%s %s)" % ("change" if check_mode else "changed", ", ".join(names)) if names else ""


def run(connection: KeycloakConnection, params: Params, check_mode: bool, diff: bool, warn: Warn) -> Result:
    """The runner of ``keycloak_audience_mapper`` (see ``_runner.run_module``).

    The result holds ``changed``, ``msg``, ``mapper`` (the end state, predicted in check mode;
    None when absent), ``client_uuid`` (None for a client scope), ``client_scope_id`` (None for
    a client) and, with ``diff``, ``diff`` (``before``/``after``, ``{}`` for "no mapper").
    """
    require_text(params, SECRET_OPTIONS, target(params))
    validate_params(params)
    connection.open()
    owner = resolve_owner(connection, params)
    require_confidential(params, owner)
    # The mappers endpoint, not the client's own protocolMappers: 26 shows there the keys it fills in
    # (introspection.token.claim, userinfo.token.claim), which the diff and the result must show too.
    current = find_mapper(owner.mappers(), params["name"], owner.label)
    properties: Properties | None = None
    if params["state"] == "present":
        properties = _properties_if_needed(connection, params, current)
        check_audience_client(connection, params, owner)
    mapper_plan = plan(params, current, properties)
    for warning in mapper_plan.warnings:
        warn(warning)
    if mapper_plan.changed:
        require_configure(owner, cast(str, mapper_plan.action), params["name"])
    mapper = copy.deepcopy(mapper_plan.after) or None
    if mapper_plan.changed and not check_mode:
        mapper = apply(owner, mapper_plan, params["name"])
    result = {
        "changed": mapper_plan.changed,
        "msg": change_message(target(params), params["state"], current is not None, mapper_plan.changed, check_mode)
        + changed_settings(mapper_plan, check_mode),
        "mapper": mapper,
        "client_uuid": owner.uuid if owner.kind == "client" else None,
        "client_scope_id": owner.uuid if owner.kind == "client scope" else None,
    }
    if diff:
        result["diff"] = {"before": diff_view(mapper_plan.before), "after": diff_view(mapper)}
    return result

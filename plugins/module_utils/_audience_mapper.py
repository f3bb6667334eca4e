# -*- coding: utf-8 -*-
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of the ``keycloak_audience_mapper`` module: read, normalise, compare, build, apply.

Private to the collection. The module only parses its options, connects and calls
:func:`ensure`; everything that decides what to send lives here so it can be tested with a
fake admin object.

Where the mapper lives:

* ``client_id`` given: the client's *dedicated scope*, which in Keycloak is the client's own
  protocol mappers (``admin/realms/{realm}/clients/{uuid}/protocol-mappers/models``), not a
  client scope named ``<client>-dedicated``.
* ``client_scope`` given: the protocol mappers of that realm client scope
  (``admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models``).

Only the one mapper named ``name`` is ever created (POST), updated in place (PUT on its id)
or deleted; the client itself is never PUT, so other mappers cannot be lost.
"""

import copy

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import (
    KeycloakModuleError,
    get_client_by_client_id,
    get_server_info,
    keycloak_errors,
)

PROTOCOL = "openid-connect"
MAPPER_TYPE = "oidc-audience-mapper"
DEFAULT_NAME = "fix-audience"

KEY_CLIENT_AUDIENCE = "included.client.audience"
KEY_CUSTOM_AUDIENCE = "included.custom.audience"
KEY_ID_TOKEN = "id.token.claim"
KEY_ACCESS_TOKEN = "access.token.claim"
KEY_INTROSPECTION = "introspection.token.claim"
KEY_LIGHTWEIGHT = "lightweight.claim"

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


def argument_spec():
    """Return the module's own options (the connection options come from ``_keycloak``)."""
    return dict(
        realm=dict(type="str", required=True),
        client_id=dict(type="str"),
        client_scope=dict(type="str"),
        name=dict(type="str", default=DEFAULT_NAME),
        included_client_audience=dict(type="str"),
        included_custom_audience=dict(type="str"),
        add_to_id_token=dict(type="bool", default=True),
        add_to_access_token=dict(type="bool", default=True),
        add_to_introspection=dict(type="bool"),
        add_to_lightweight_token=dict(type="bool"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )


MUTUALLY_EXCLUSIVE = [
    ["client_id", "client_scope"],
    ["included_client_audience", "included_custom_audience"],
]
REQUIRED_ONE_OF = [["client_id", "client_scope"]]


# --------------------------------------------------------------------------- parameters


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def validate_params(params):
    """Check option combinations AnsibleModule cannot express; raise KeycloakModuleError.

    Runs before connecting, so bad input fails without any request.
    """
    for option in ("realm", "name", "client_id", "client_scope",
                   "included_client_audience", "included_custom_audience"):
        value = params.get(option)
        if value is not None and _blank(value):
            raise KeycloakModuleError("%s must not be empty" % option)
    if (
        params.get("state", "present") == "present"
        and params.get("client_scope") is not None
        and params.get("included_client_audience") is None
        and params.get("included_custom_audience") is None
    ):
        raise KeycloakModuleError(
            "client scope '%s' in realm '%s': with client_scope, one of included_client_audience"
            " or included_custom_audience is required (there is no client to default to)"
            % (params["client_scope"], params["realm"])
        )


# --------------------------------------------------------------------------- normalisation


_FLAG_KEYS = (KEY_ID_TOKEN, KEY_ACCESS_TOKEN, KEY_INTROSPECTION, KEY_LIGHTWEIGHT)


def normalise_value(value, flag=False):
    """Return ``value`` the way Keycloak stores a mapper config value, or None for "absent".

    Keycloak stores config values as strings and drops empty ones, so None and empty
    strings become None. With ``flag`` (the token switches) booleans and their string
    forms in any case become ``"true"``/``"false"``; other values are kept as strings
    (a client called ``TRUE`` stays ``TRUE``).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.strip() == "":
        return None
    if flag and text.strip().lower() in ("true", "false"):
        return text.strip().lower()
    return text


def normalise_config(config, keys):
    """Return the normalised values of ``keys`` in ``config`` (absent/empty keys left out)."""
    config = config or {}
    result = {}
    for key in keys:
        value = normalise_value(config.get(key), flag=key in _FLAG_KEYS)
        if value is not None:
            result[key] = value
    return result


def offered_properties(server_info):
    """Return the config keys the server's ``oidc-audience-mapper`` offers, in its order.

    Read from ``protocolMapperTypes["openid-connect"]`` of ``GET admin/serverinfo``.
    Raises KeycloakModuleError when the server has no audience mapper at all. Returns a
    list of ``(name, defaultValue)`` pairs.
    """
    types = ((server_info or {}).get("protocolMapperTypes") or {}).get(PROTOCOL)
    if types is None:
        raise KeycloakModuleError(
            "the server info of Keycloak lists no '%s' protocol mapper types (GET admin/serverinfo)"
            % PROTOCOL
        )
    for mapper_type in types:
        if mapper_type.get("id") == MAPPER_TYPE:
            return [
                (prop.get("name"), prop.get("defaultValue"))
                for prop in mapper_type.get("properties") or []
                if prop.get("name")
            ]
    raise KeycloakModuleError(
        "this Keycloak server has no '%s' protocol mapper (GET admin/serverinfo)" % MAPPER_TYPE
    )


def desired_config(params, properties, owner_label, warn):
    """Return ``(desired, managed_keys)`` for state=present.

    ``desired`` maps config keys to normalised values the mapper must have (a key of
    ``managed_keys`` missing from ``desired`` must be absent); ``properties`` is the result
    of :func:`offered_properties`. ``warn(msg)`` is called for an optional flag the user
    set explicitly that this server does not offer (it is then not sent).

    Unset optional flags (None) are managed only when the mapper is created: see
    :func:`create_defaults`.
    """
    offered = dict(properties)
    desired = {}
    managed = [KEY_CLIENT_AUDIENCE, KEY_CUSTOM_AUDIENCE]
    custom = params.get("included_custom_audience")
    if custom is not None:
        desired[KEY_CUSTOM_AUDIENCE] = normalise_value(custom)
    else:
        audience = params.get("included_client_audience")
        if audience is None:
            audience = params.get("client_id")
        desired[KEY_CLIENT_AUDIENCE] = normalise_value(audience)
    for option, key in BASE_FLAGS:
        managed.append(key)
        desired[key] = normalise_value(bool(params.get(option)))
    for option, key in OPTIONAL_FLAGS:
        value = params.get(option)
        if value is None:
            continue
        if key not in offered:
            warn(
                "%s=%s is ignored for mapper '%s' of %s: the audience mapper of this Keycloak"
                " server has no '%s' setting (it came with Keycloak 25)"
                % (option, str(bool(value)).lower(), params.get("name"), owner_label, key)
            )
            continue
        managed.append(key)
        desired[key] = normalise_value(bool(value))
    return desired, managed


def create_defaults(params, properties):
    """Return the config a new mapper gets for optional flags the user left unset.

    The server's own default (``defaultValue`` in the server info) where it offers the
    flag, as the admin console does; nothing where it does not.
    """
    defaults = {}
    offered = dict(properties)
    for option, key in OPTIONAL_FLAGS:
        if params.get(option) is None and key in offered:
            value = normalise_value(offered[key], flag=True)
            if value is None:
                value = _CONSOLE_DEFAULTS[key]
            defaults[key] = value
    return defaults


# --------------------------------------------------------------------------- comparison


def find_mapper(mappers, name, owner_label):
    """Return the audience mapper called ``name`` in ``mappers``, or None.

    A mapper of that name that is not an OpenID Connect audience mapper raises
    KeycloakModuleError: it is never replaced, updated or deleted.
    """
    found = None
    for mapper in mappers or []:
        if mapper.get("name") != name:
            continue
        if mapper.get("protocolMapper") != MAPPER_TYPE or mapper.get("protocol") != PROTOCOL:
            raise KeycloakModuleError(
                "%s already has a mapper named '%s' of type '%s' (protocol '%s'), not an audience"
                " mapper (%s); it is left alone: remove or rename it, or choose another name"
                % (owner_label, name, mapper.get("protocolMapper"), mapper.get("protocol"),
                   MAPPER_TYPE)
            )
        if found is None:
            found = mapper
    return found


def differences(current, desired, managed_keys):
    """Return the managed keys whose normalised values differ between ``current`` and ``desired``."""
    have = normalise_config((current or {}).get("config"), managed_keys)
    return [key for key in managed_keys if have.get(key) != desired.get(key)]


def build_create_payload(name, desired, defaults):
    """Return the ProtocolMapperRepresentation POSTed for a new mapper."""
    config = dict(defaults)
    config.update(desired)
    return {
        "name": name,
        "protocol": PROTOCOL,
        "protocolMapper": MAPPER_TYPE,
        "consentRequired": False,
        "config": _ordered(config),
    }


def build_update_payload(current, desired, managed_keys):
    """Return the representation PUT to update ``current`` in place.

    Keys the server added or that we do not manage are kept as they are; managed keys get
    the desired value or are removed when they must be absent.
    """
    payload = copy.deepcopy(current)
    config = dict(payload.get("config") or {})
    for key in managed_keys:
        config.pop(key, None)
    config.update(desired)
    payload["config"] = _ordered(config)
    return payload


_KEY_ORDER = (KEY_CLIENT_AUDIENCE, KEY_CUSTOM_AUDIENCE, KEY_ID_TOKEN, KEY_ACCESS_TOKEN,
              KEY_INTROSPECTION, KEY_LIGHTWEIGHT)


def _ordered(config):
    """Return ``config`` with the audience keys first in a fixed order (readable diffs)."""
    result = {}
    for key in _KEY_ORDER:
        if key in config and config[key] is not None:
            result[key] = config[key]
    for key in sorted(config):
        if key not in result and config[key] is not None:
            result[key] = config[key]
    return result


# --------------------------------------------------------------------------- owners


class ClientOwner(object):
    """The dedicated scope of a client: the client's own protocol mappers."""

    kind = "client"

    def __init__(self, admin, realm, client):
        self.admin = admin
        self.realm = realm
        self.client = client
        self.uuid = client["id"]
        self.label = "client '%s' in realm '%s'" % (client.get("clientId"), realm)

    def mappers(self):
        with keycloak_errors("reading the mappers of %s" % self.label, realm=self.realm):
            return self.admin.get_mappers_from_client(self.uuid)

    def create(self, payload):
        with keycloak_errors("creating mapper '%s' on %s" % (payload["name"], self.label), realm=self.realm):
            self.admin.add_mapper_to_client(self.uuid, payload)

    def update(self, mapper_id, payload):
        with keycloak_errors("updating mapper '%s' on %s" % (payload["name"], self.label), realm=self.realm):
            self.admin.update_client_mapper(self.uuid, mapper_id, payload)

    def delete(self, mapper_id, name):
        with keycloak_errors("deleting mapper '%s' from %s" % (name, self.label), realm=self.realm):
            self.admin.remove_client_mapper(self.uuid, mapper_id)


class ClientScopeOwner(object):
    """A realm client scope."""

    kind = "client scope"

    def __init__(self, admin, realm, scope):
        self.admin = admin
        self.realm = realm
        self.scope = scope
        self.uuid = scope["id"]
        self.label = "client scope '%s' in realm '%s'" % (scope.get("name"), realm)

    def mappers(self):
        with keycloak_errors("reading the mappers of %s" % self.label, realm=self.realm):
            return self.admin.get_mappers_from_client_scope(self.uuid)

    def create(self, payload):
        with keycloak_errors("creating mapper '%s' on %s" % (payload["name"], self.label), realm=self.realm):
            self.admin.add_mapper_to_client_scope(self.uuid, payload)

    def update(self, mapper_id, payload):
        with keycloak_errors("updating mapper '%s' on %s" % (payload["name"], self.label), realm=self.realm):
            self.admin.update_mapper_in_client_scope(self.uuid, mapper_id, payload)

    def delete(self, mapper_id, name):
        with keycloak_errors("deleting mapper '%s' from %s" % (name, self.label), realm=self.realm):
            self.admin.delete_mapper_from_client_scope(self.uuid, mapper_id)


def resolve_owner(admin, params):
    """Find the client or client scope that holds the mapper; raise when it does not exist."""
    realm = params["realm"]
    if params.get("client_id") is not None:
        client = get_client_by_client_id(admin, params["client_id"], realm=realm)
        if client is None:
            raise KeycloakModuleError(
                "client '%s' does not exist in realm '%s'" % (params["client_id"], realm)
            )
        return ClientOwner(admin, realm, client)
    name = params["client_scope"]
    with keycloak_errors("reading the client scopes of realm '%s'" % realm, realm=realm):
        scopes = admin.get_client_scopes()
    for scope in scopes or []:
        if scope.get("name") == name:
            if scope.get("protocol") not in (None, PROTOCOL):
                raise KeycloakModuleError(
                    "client scope '%s' in realm '%s' is a '%s' scope; an audience mapper needs an"
                    " '%s' scope" % (name, realm, scope.get("protocol"), PROTOCOL)
                )
            return ClientScopeOwner(admin, realm, scope)
    raise KeycloakModuleError("client scope '%s' does not exist in realm '%s'" % (name, realm))


def check_audience_client(admin, params, owner):
    """Make sure ``included.client.audience`` names an existing client of the realm."""
    if params.get("included_custom_audience") is not None:
        return
    audience = params.get("included_client_audience")
    if audience is None:
        audience = params.get("client_id")
    if owner.kind == "client" and audience == owner.client.get("clientId"):
        return
    if get_client_by_client_id(admin, audience, realm=params["realm"]) is None:
        raise KeycloakModuleError(
            "included_client_audience '%s' names no client in realm '%s' (mapper '%s' of %s)"
            % (audience, params["realm"], params["name"], owner.label)
        )


def require_configure(owner, action, name):
    """Raise before any write when Keycloak says the caller may view but not configure the client.

    Only a client carries such flags (its ``access`` map in ``GET clients``, per caller).
    A client scope has none: for a client scope a missing right shows as a 403 on the
    write itself (nothing is written; the message names the scope and the realm), and
    check mode, which writes nothing, cannot see it.
    """
    if owner.kind != "client":
        return
    access = owner.client.get("access")
    if isinstance(access, dict) and not (access.get("configure") or access.get("manage")):
        raise KeycloakModuleError(
            "no permission to %s mapper '%s' on %s: the admin may view this client but not"
            " configure it (it needs the 'manage-clients' role of realm-management in realm '%s',"
            " or a fine-grained 'configure' permission)" % (action, name, owner.label, owner.realm)
        )


# --------------------------------------------------------------------------- apply


def ensure(admin, params, check_mode, warn):
    """Bring the mapper to the requested state; return the module result (without ``msg``).

    Everything is read and checked first; at most one write follows, never in check mode.
    The same comparison decides ``changed`` in check mode and in a real run. The result
    holds ``changed``, ``mapper`` (end state, predicted in check mode; None when absent),
    ``client_uuid`` (None for a client scope), ``client_scope_id`` (None for a client) and
    ``diff`` (``before``/``after`` of the mapper, ``{}`` for "no mapper").
    """
    name = params["name"]
    owner = resolve_owner(admin, params)
    current = find_mapper(owner.mappers(), name, owner.label)
    result = {
        "changed": False,
        "mapper": copy.deepcopy(current),
        "client_uuid": owner.uuid if owner.kind == "client" else None,
        "client_scope_id": owner.uuid if owner.kind == "client scope" else None,
    }
    before = copy.deepcopy(current) if current else {}

    if params.get("state") == "absent":
        if current is None:
            result["diff"] = {"before": {}, "after": {}}
            return result
        require_configure(owner, "delete", name)
        result["changed"] = True
        result["mapper"] = None
        result["diff"] = {"before": before, "after": {}}
        if not check_mode:
            owner.delete(current["id"], name)
        return result

    try:
        properties = offered_properties(get_server_info(admin))
    except KeycloakModuleError as exc:
        raise KeycloakModuleError("mapper '%s' on %s: %s" % (name, owner.label, exc), http_code=exc.http_code, detail=exc.detail)
    desired, managed = desired_config(params, properties, owner.label, warn)
    check_audience_client(admin, params, owner)

    if current is None:
        payload = build_create_payload(name, desired, create_defaults(params, properties))
    else:
        if not differences(current, desired, managed):
            result["diff"] = {"before": before, "after": copy.deepcopy(before)}
            return result
        payload = build_update_payload(current, desired, managed)

    require_configure(owner, "create" if current is None else "update", name)
    result["changed"] = True
    if check_mode:
        result["mapper"] = payload
    else:
        if current is None:
            owner.create(payload)
        else:
            owner.update(current["id"], payload)
        end = find_mapper(owner.mappers(), name, owner.label)
        if end is None:
            raise KeycloakModuleError(
                "mapper '%s' was written to %s but cannot be read back" % (name, owner.label)
            )
        result["mapper"] = end
    result["diff"] = {"before": before, "after": copy.deepcopy(result["mapper"])}
    return result

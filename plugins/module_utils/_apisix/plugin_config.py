# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The APISIX ``openid-connect`` plugin config: build it and validate it per APISIX version.

Independent of where the config goes: no file or HTTP
code here. The schema facts come from ``schema`` (generated from APISIX's
own schema tables); this module adds the rules APISIX checks in code
(``check_schema``) and what stock APISIX silently ignores.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import schema as facts
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.realm import require_realm

if TYPE_CHECKING:
    Config = dict[str, Any]  # an openid-connect plugin config
    Schema = dict[str, Any]  # a JSON schema (APISIX's subset)

PLUGIN_NAME = "openid-connect"
DEFAULT_APISIX_VERSION = "3.11"

# Options of the plugin config, shared by every target.
# Documented by plugins/doc_fragments/apisix_oidc_plugin.py (validate-modules checks that they agree).
OIDC_PLUGIN_ARGUMENT_SPEC = dict(
    keycloak_url=dict(type="str", no_log=False),
    realm=dict(type="str"),
    discovery=dict(type="str"),
    client_id=dict(type="str", default="cim"),
    client_secret=dict(type="raw", no_log=True),
    bearer_only=dict(type="bool", default=True),
    token_signing_alg_values_expected=dict(type="str", default="RS256", no_log=False),
    set_access_token_header=dict(type="bool", default=False),
    set_userinfo_header=dict(type="bool", default=False),
    audience=dict(type="list", elements="str", default=["cim", "account", "realm-management"]),
    required_scopes=dict(type="list", elements="str", default=["email", "profile"]),
    extra_config=dict(type="dict", default={}),
    secret_config=dict(type="dict", default={}, no_log=True),
    apisix_version=dict(type="raw", default=DEFAULT_APISIX_VERSION),
)

# The states that write a plugin block need a realm and a way to find the IdP.
OIDC_PLUGIN_REQUIRED_IF = [
    ("state", "present", ("realm",)),
    ("state", "disabled", ("realm",)),
    ("state", "present", ("discovery", "keycloak_url"), True),
    ("state", "disabled", ("discovery", "keycloak_url"), True),
]

# Options that set a plugin attribute of the same name, in the order of the guide's snippet.
_DIRECT_OPTIONS = (
    "discovery",
    "realm",
    "client_id",
    "client_secret",
    "bearer_only",
    "token_signing_alg_values_expected",
    "set_access_token_header",
    "set_userinfo_header",
    "audience",
    "required_scopes",
)
_LIST_OPTIONS = ("audience", "required_scopes")

# Credentials in a plugin config: what APISIX encrypts at rest in any release, plus
# the proxy credentials. Their values never appear in output.
SECRET_PATHS = tuple(
    sorted(
        set(path for fields in facts.ENCRYPT_FIELDS.values() for path in fields)
        | {"proxy_opts.http_proxy_authorization", "proxy_opts.https_proxy_authorization"}
    )
)

# Rules APISIX checks in code (apisix/plugins/openid-connect.lua check_schema).
_SESSION_SECRET_FROM = (3, 14, 0)  # session.secret required unless bearer_only
_CLIENT_SECRET_RULES_FROM = (3, 17, 0)  # client_secret left out of `required`, checked in code
_FLAT_KEYS_REJECTED_FROM = (3, 18, 0)
_REJECTED_FLAT_KEYS = (
    "use_par",
    "pushed_authorization_request_endpoint",
    "pushed_authorization_request_endpoint_auth_method",
    "use_dpop",
    "dpop_signing_alg",
    "dpop_private_key",
    "dpop_public_jwk",
)
_CLAIM_VALIDATOR_FROM = (3, 12, 0)

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~][0-9A-Za-z.+~-]*)?$")


class PluginConfigError(ModuleError, ValueError):
    """Bad options or an invalid config; the message names the key, never a secret value."""


def _tuple(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in (tag.split(".") + ["0", "0"])[:3])


def resolve_version(version: object) -> tuple[tuple[int, int, int], str, list[str]]:
    """Map an APISIX version string to ``(version_tuple, facts_tag, notes)``.

    ``facts_tag`` is the newest sampled release tag not newer than ``version``;
    ``notes`` lists warnings (e.g. a version newer than the facts).
    """
    if not isinstance(version, str):
        raise PluginConfigError(
            "apisix_version arrived as the %s %r, not as text: YAML reads an unquoted 3.10 as the number 3.1; "
            'quote it (apisix_version: "3.10")' % (type(version).__name__, version)
        )
    match = _VERSION_RE.match(version.strip())
    if not match:
        raise PluginConfigError("apisix_version %r is not a version like 3.11 or 3.11.0" % (version,))
    wanted = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    usable = [tag for tag in facts.TAGS if _tuple(tag) <= wanted]
    if not usable:
        raise PluginConfigError(
            "apisix_version %s is older than the oldest release the schema facts cover (%s)" % (version, facts.TAGS[0])
        )
    notes = []
    if wanted[:2] > _tuple(facts.LATEST)[:2]:
        notes.append(
            "apisix_version %s is newer than the schema facts (up to %s): the config is validated against %s"
            % (version, facts.LATEST, facts.LATEST)
        )
    return wanted, usable[-1], notes


def known_properties(tag: str) -> set[str]:
    """Top-level keys the plugin schema of release ``tag`` declares (injected keys included)."""
    keys = set(facts.BASE_PROPERTIES)
    for each in facts.TAGS[1:]:
        if _tuple(each) > _tuple(tag):
            break
        keys.update(facts.ADDED.get(each, ()))
        keys.difference_update(facts.REMOVED.get(each, ()))
    keys.update(_injected(tag))
    return keys


def _injected(tag: str) -> dict[str, Any]:
    return facts.INJECTED["2" if _tuple(tag) < (3, 0, 0) else "3"]


def _property_schema(key: str, tag: str) -> Schema:
    injected = _injected(tag)
    if key in injected:
        return injected[key]
    return facts.SCHEMA["properties"].get(key)


def disable_flag(version_tuple: tuple[int, ...]) -> tuple[str, ...]:
    """Where the switch-off flag lives: ``("_meta", "disable")`` in 3.x, ``("disable",)`` in 2.x."""
    return ("disable",) if version_tuple < (3, 0, 0) else ("_meta", "disable")


def is_disabled(config: object, version_tuple: tuple[int, ...]) -> bool:
    """True when ``config`` is switched off by APISIX's injected disable flag."""
    node = config
    for part in disable_flag(version_tuple):
        if not isinstance(node, dict):
            return False
        node = node.get(part)
    return node is True


def get_path(config: object, path: str) -> Any:
    node = config
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _merge(base: dict[str, Any], extra: Mapping[str, Any], where: str, conflicts: list[str]) -> None:
    """Deep-merge ``extra`` into ``base``; record the dotted paths both set."""
    for key, value in extra.items():
        path = "%s.%s" % (where, key) if where else key
        if key in base and isinstance(base[key], dict) and isinstance(value, dict):
            _merge(base[key], value, path, conflicts)
        elif key in base:
            conflicts.append(path)
        else:
            base[key] = copy.deepcopy(value)


def discovery_url(keycloak_url: str, realm: str) -> str:
    """The Keycloak discovery document URL of ``realm``.

    ``keycloak_url`` is the base URL the realms hang off: with ``/auth`` for Keycloak
    before 17 (or started with ``--http-relative-path=/auth``), without it otherwise.
    """
    base = keycloak_url.strip()
    if not re.match(r"^https?://[^/\s]+", base):
        raise PluginConfigError("keycloak_url must be an http:// or https:// URL, got %r" % (keycloak_url,))
    return "%s/realms/%s/.well-known/openid-configuration" % (base.rstrip("/"), quote(realm, safe=""))


def build_config(params: Mapping[str, Any], disabled: bool = False, enable_key: bool | None = None) -> Config:
    """Return the plugin config (a dict in the guide's key order) from module options.

    ``params`` holds the options of ``OIDC_PLUGIN_ARGUMENT_SPEC``. ``disabled`` adds
    APISIX's switch-off flag for the version in ``params['apisix_version']``.
    ``enable_key`` (True/False/None) writes the guide's ``enable`` key, which stock
    APISIX ignores, for files whose house style has it.
    """
    version, _tag, _notes = resolve_version(params.get("apisix_version") or DEFAULT_APISIX_VERSION)
    extra = params.get("extra_config") or {}
    secret = params.get("secret_config") or {}
    for name, value in (("extra_config", extra), ("secret_config", secret)):
        if not isinstance(value, dict):
            raise PluginConfigError("%s must be a dictionary" % name)
        clash = sorted(key for key in value if key in _DIRECT_OPTIONS)
        if clash:
            raise PluginConfigError(
                "%s sets %s: use the option%s of the same name instead"
                % (name, ", ".join(clash), "s" if len(clash) > 1 else "")
            )
        if "enable" in value:
            raise PluginConfigError("%s sets enable: use write_enable_key (stock APISIX ignores the key)" % name)
    secret_value = params.get("client_secret")
    if secret_value is not None and not isinstance(secret_value, str):
        raise PluginConfigError(
            "client_secret arrived as a %s, not as text (YAML reads an unquoted 0775312 as a number): quote it; "
            "a number is never converted, it would become another secret"
            % ("boolean" if isinstance(secret_value, bool) else type(secret_value).__name__)
        )
    leaked = [path for path in SECRET_PATHS if get_path(extra, path) is not None]
    if leaked:
        raise PluginConfigError(
            "extra_config holds %s: put credentials into secret_config (no_log), extra_config is shown in logs"
            % ", ".join(leaked)
        )

    config: Config = {}
    if enable_key is not None:
        config["enable"] = bool(enable_key)
    realm = params.get("realm")
    if realm is not None:
        require_realm(realm, "realm", PluginConfigError)  # it goes into the discovery URL's path
    if params.get("discovery"):
        config["discovery"] = params["discovery"]
    elif params.get("keycloak_url"):
        if not realm:
            raise PluginConfigError("realm is needed to build discovery from keycloak_url")
        config["discovery"] = discovery_url(params["keycloak_url"], realm)
    if realm:
        config["realm"] = realm
    for key in _DIRECT_OPTIONS[2:]:  # discovery and realm are set above, in the guide's order
        if key in _LIST_OPTIONS:
            if params.get(key):
                config[key] = list(params[key])
        elif params.get(key) is not None and params.get(key) != "":
            config[key] = params[key]

    conflicts: list[str] = []
    _merge(config, extra, "", conflicts)
    _merge(config, secret, "", conflicts)
    if conflicts:
        raise PluginConfigError("extra_config and secret_config both set %s" % ", ".join(sorted(conflicts)))

    flag = disable_flag(version)
    if is_disabled(config, version) and not disabled:
        raise PluginConfigError(
            "extra_config sets %s: true, which switches the plugin off: use state=disabled" % ".".join(flag)
        )
    if disabled:
        if len(flag) == 1:
            config.pop(flag[0], None)
            config[flag[0]] = True
        else:
            meta = config.pop(flag[0], None)
            meta = dict(meta) if isinstance(meta, dict) else {}
            meta[flag[1]] = True
            config[flag[0]] = meta
        if enable_key is not None:
            config["enable"] = False
    return config


# --- validation ---------------------------------------------------------------------

_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    # JSON schema's (and APISIX's Lua) integer: any whole number, 3.0 too (YAML or JSON may write it so)
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, (list, tuple)),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _is_secret(path: str) -> bool:
    return path in SECRET_PATHS


def _show(path: str, value: object) -> str:
    if _is_secret(path):
        return "(value hidden)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _with_defaults(value: object, schema: Schema) -> object:
    if not isinstance(value, dict):
        return value
    filled = dict(value)
    for key, sub in (schema.get("properties") or {}).items():
        if key not in filled and "default" in sub:
            filled[key] = sub["default"]
    return filled


def _check(value: Any, schema: Schema, path: str, errors: list[str]) -> None:
    """Validate ``value`` against the JSON-schema subset APISIX's schemas use."""
    where = path or "(config)"
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES[each](value) for each in kinds):
            errors.append("%s: must be of type %s, got %s" % (where, "/".join(kinds), type(value).__name__))
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(
            "%s: must be one of %s, got %s" % (where, ", ".join(map(str, schema["enum"])), _show(path, value))
        )
    if "const" in schema and value != schema["const"]:
        errors.append("%s: must be %r" % (where, schema["const"]))
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and "minimum" in schema
        and value < schema["minimum"]
    ):
        errors.append("%s: must be at least %s" % (where, schema["minimum"]))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append("%s: must be at least %d characters long" % (where, schema["minLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append("%s: must match %s" % (where, schema["pattern"]))
    if isinstance(value, (list, tuple)):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append("%s: needs at least %d item(s)" % (where, schema["minItems"]))
        if "items" in schema:
            for index, item in enumerate(value):
                _check(item, schema["items"], "%s[%d]" % (path, index), errors)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or ():
            if key not in value:
                errors.append("%s: is required" % (("%s.%s" % (path, key)) if path else key))
        for key, item in value.items():
            sub_path = "%s.%s" % (path, key) if path else str(key)
            if key in props:
                _check(item, props[key], sub_path, errors)
            elif schema.get("additionalProperties") is False:
                errors.append("%s: unknown key (allowed: %s)" % (sub_path, ", ".join(sorted(props))))
    if "if" in schema:
        # Evaluated with schema defaults filled in: a missing `storage` means the
        # default "cookie", not "any value" (which plain JSON schema would assume).
        probe: list[str] = []
        _check(_with_defaults(value, schema), schema["if"], path, probe)
        if not probe and "then" in schema:
            _check(value, schema["then"], path, errors)
    if "not" in schema:
        probe = []
        _check(value, schema["not"], path, probe)
        if not probe:
            errors.append("%s: is not allowed in this form" % where)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            passing = 0
            for option in schema[keyword]:
                probe = []
                _check(value, option, path, probe)
                passing += not probe
            if (keyword == "anyOf" and passing == 0) or (keyword == "oneOf" and passing != 1):
                errors.append("%s: does not match any allowed form" % where)


def validate_config(config: object, version: object) -> tuple[list[str], list[str]]:
    """Validate ``config`` for APISIX ``version``; return ``(errors, warnings)``.

    Errors are what APISIX would reject (the route would be refused or skipped);
    warnings are what APISIX accepts and ignores, or accepts with a surprise.
    Messages name keys, never secret values.
    """
    version_tuple, tag, warnings = resolve_version(version)
    errors: list[str] = []
    if not isinstance(config, dict):
        return ["the plugin config must be a mapping"], warnings
    known = known_properties(tag)

    required = set(facts.REQUIRED[tag])
    for key in sorted(required):
        if key not in config:
            errors.append("%s: is required by APISIX %s" % (key, tag))
    if version_tuple >= _CLIENT_SECRET_RULES_FROM and "client_secret" not in config:
        bearer = config.get("bearer_only") is True
        exempt = (
            bearer
            and (
                config.get("public_key")
                or config.get("use_jwks") is True
                or config.get("introspection_endpoint_auth_method") == "private_key_jwt"
            )
        ) or (
            not bearer
            and (config.get("token_endpoint_auth_method") == "private_key_jwt" or config.get("use_pkce") is True)
        )
        if not exempt:
            errors.append(
                "client_secret: is required by APISIX %s unless bearer_only with public_key, use_jwks or "
                "private_key_jwt introspection (or, without bearer_only, private_key_jwt or use_pkce)" % tag
            )
    if version_tuple >= _SESSION_SECRET_FROM and config.get("bearer_only") is not True:
        session = config.get("session")
        if not (isinstance(session, dict) and "secret" in session):
            errors.append(
                "session.secret: is required by APISIX %s when bearer_only is false (put it in secret_config)" % tag
            )
    if version_tuple >= _FLAT_KEYS_REJECTED_FROM:
        for key in _REJECTED_FLAT_KEYS:
            if key in config:
                errors.append("%s: is rejected by APISIX %s (use the par/dpop objects)" % (key, tag))

    ignored: list[str] = []
    for key in config:
        if key in known:
            _check(config[key], _property_schema(key, tag), key, errors)
        elif key == "audience":
            hint = (
                "use extra_config.claim_validator.audience (match_with_client_id: true requires client_id in aud)"
                if version_tuple >= _CLAIM_VALIDATOR_FROM
                else "audience checks exist from APISIX 3.12.0 as claim_validator.audience; with %s, enforce the "
                "audience in Keycloak or upgrade" % tag
            )
            warnings.append("audience is not enforced by stock APISIX (it is accepted and ignored): %s" % hint)
        elif key == "enable":
            if config[key] is False and not is_disabled(config, version_tuple):
                warnings.append(
                    "enable: false does not switch openid-connect off (stock APISIX ignores the key): "
                    "the plugin stays ACTIVE"
                )
        elif key in _REJECTED_FLAT_KEYS and version_tuple >= _FLAT_KEYS_REJECTED_FROM:
            continue
        else:
            ignored.append(key)
    for key in ignored:
        since = [tag_ for tag_ in facts.TAGS if key in facts.ADDED.get(tag_, ())]
        reason = ("it exists from APISIX %s" % since[0]) if since else "it is not an openid-connect attribute"
        warnings.append(
            "%s: ignored by APISIX %s (%s); stock APISIX accepts unknown keys silently" % (key, tag, reason)
        )
    return errors, warnings

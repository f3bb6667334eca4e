# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner of ``apisix_oidc_check``: each secured route checked the way APISIX checks a request.

With ``bearer_only`` and no ``use_jwks``/``public_key``, APISIX's ``openid-connect`` takes the
route's own config, loads the ``discovery`` document, and introspects every bearer token at
the IdP with the route's ``client_id``/``client_secret``; a token that is not ``active`` gets
401, one without the ``required_scopes`` 403. :func:`check_route` does the same with a token
of the customer user, got by a password grant through the route's client, and adds the
checks APISIX leaves to Keycloak or to newer releases: the token's ``alg`` is one of
``token_signing_alg_values_expected`` and the route's ``client_id`` is in its ``aud``.

Pure parts (unit-tested): :func:`map_url`, the claim checks (:func:`introspection_problem`,
:func:`scope_problem`, :func:`alg_problem`, :func:`audience`), :func:`table`. Keycloak is reached
through the collection's access layer (``_keycloak/openid.py``: discovery, token endpoint,
introspection over its ``Transport``, which tests replace). Nothing is written; the route file is
only read (``route_file.RouteFile``). Client secrets, the password and the tokens never appear in a
result or a message: they are masked (``_masking.Secrets``) and handed to ``hide``
(``module.no_log_values.add``).

Which routes are checked, and their plugin state, comes from the targets of ``apisix_route_oidc``
(``targets.make_target``: a route file, ``path``, or with ``admin_url`` the APISIX Admin API, read
only) and its selection (``selectors``: ``routes`` takes ids and glob patterns): :func:`read_routes`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import selectors as select
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import target as route_target
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.targets import make_target
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._http_errors import display_url, error_text
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import openid
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.openid import TransportError, jwt_part

OK, OPEN, FAILED = "ok", "open", "failed"
AUTH_METHODS = openid.CLIENT_AUTH_METHODS
# the names of the check's Keycloak connection options, in messages about the connection
KEYCLOAK_OPTIONS = {
    "ca_path": "keycloak_ca_path",
    "validate_certs": "keycloak_validate_certs",
    "timeout": "keycloak_timeout",
}
T = TypeVar("T")

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.client import AdminClient
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import (
        Config,
        PluginState,
        RouteTarget,
        Version,
    )
    from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn

_ENV_RE = re.compile(r"\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::=([^}]*))?\}\}")


class CheckFailed(Exception):
    """One route fails the check; ``reason`` says why (no secret in it)."""

    def __init__(self, reason: str, aud_has_client: bool | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.aud_has_client = aud_has_client


# --- pure parts -----------------------------------------------------------------------


def map_url(url: str, url_map: Mapping[str, object] | None) -> tuple[str, bool]:
    """``url`` with the longest matching prefix of ``url_map`` (gateway URL -> reachable URL) replaced.

    A prefix matches the whole URL or up to a ``/``, ``?`` or ``#`` (``http://kc/auth`` matches
    ``http://kc/auth/realms/x`` but not ``http://kc/authz``); trailing slashes of both sides do
    not count. Returns ``(url, mapped)``.
    """
    best: tuple[str, str] | None = None
    for prefix, target in (url_map or {}).items():
        stem = str(prefix).rstrip("/")
        if not stem:
            continue
        if url == stem or (url.startswith(stem) and url[len(stem)] in "/?#"):
            if best is None or len(stem) > len(best[0]):
                best = (stem, str(target).rstrip("/"))
    if best is None:
        return url, False
    return best[1] + url[len(best[0]) :], True


def resolve_env(value: Any, what: str, environ: Mapping[str, str] | None = None) -> Any:
    """``value`` with APISIX's ``${{VAR}}`` / ``${{VAR:=default}}`` references resolved from ``environ``."""
    if not isinstance(value, str):
        return value
    environ = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise CheckFailed(
            "%s refers to the environment variable %s, which APISIX resolves from its own environment; %s is "
            "not set where this check runs" % (what, name, name)
        )

    return _ENV_RE.sub(replace, value)


def as_list(value: object) -> list[str]:
    """A claim or setting that may be one string or a list, as a list of strings."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return [str(value)]


def introspection_problem(answer: object, client_id: str) -> str | None:
    """Why an introspection answer does not let the token through, or None."""
    if not isinstance(answer, dict):
        return "the introspection endpoint answered no JSON object"
    if answer.get("active") is not True:
        return (
            "introspection with client '%s' says active: %s for the customer's token, so APISIX answers 401 "
            "(Keycloak 26.6.2 and later say so when '%s' is not in the token's aud: the fix-audience mapper is "
            "missing)" % (client_id, json.dumps(answer.get("active")), client_id)
        )
    return None


def scope_problem(scope: object, required: object) -> str | None:
    """Why ``scope`` (space-separated) lacks a required scope, or None."""
    have = str(scope or "").split()
    missing = [name for name in as_list(required) if name not in have]
    if missing:
        return "required scope%s %s not in the token's scope '%s', so APISIX answers 403" % (
            "s" if len(missing) > 1 else "",
            ", ".join(missing),
            " ".join(have),
        )
    return None


def alg_problem(alg: str | None, expected: object) -> str | None:
    """Why the token's ``alg`` is not one of ``expected`` (string or list; empty: any), or None."""
    allowed = as_list(expected)
    if allowed and alg not in allowed:
        return "the token is signed with %s, not with %s (token_signing_alg_values_expected)" % (
            alg or "no alg",
            " or ".join(allowed),
        )
    return None


def audience(aud: object, client_id: str) -> bool:
    """Whether ``client_id`` is in ``aud`` (a string or a list)."""
    return client_id in as_list(aud)


def table(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """The report, one line per route after a header: route, status, whether aud has the client, reason."""
    width = max([len("ROUTE")] + [len(str(item["route"])) for item in results])
    lines = ["%-*s  %-6s  %-6s  %s" % (width, "ROUTE", "STATUS", "AUD", "DETAIL")]
    for item in results:
        aud = item.get("aud_has_client")
        lines.append(
            "%-*s  %-6s  %-6s  %s"
            % (width, item["route"], item["status"], "-" if aud is None else "yes" if aud else "no", item["reason"])
        )
    return lines


NO_PLUGIN = "the route has no openid-connect plugin: no authentication"


def block_off(state: PluginState, version: Version) -> str | None:
    """Why a route's openid-connect plugin (a ``target.PluginState``) does not authenticate, or None when it does."""
    block = state.block(version)
    if block == route_target.COMMENTED:
        return "openid-connect is commented out: no authentication"
    if block == route_target.ABSENT:
        return NO_PLUGIN
    if block == route_target.DISABLED:
        return "openid-connect is switched off (%s: true): no authentication" % ".".join(oidc.disable_flag(version))
    return None


# --- one route ------------------------------------------------------------------------


class RouteCheck:
    """The checks of one route's openid-connect ``config`` (a dict), with ``params`` and ``http``."""

    def __init__(self, config: Config, params: Params, http: openid.Transport, secrets: Secrets) -> None:
        self.config = config
        self.params = params
        self.http = http
        self.secrets = secrets
        self.client_id: Any = None

    @staticmethod
    def _ask(what: str, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` (an ``openid`` endpoint): its answer; CheckFailed naming ``what`` without one."""
        try:
            return call(*args)
        except TransportError as exc:
            raise CheckFailed("%s: %s" % (what, exc)) from None

    def _url(self, value: str, what: str) -> str:
        mapped, _hit = map_url(value, self.params.get("url_map"))
        if "{{" in mapped:
            raise CheckFailed(
                "%s %s holds a Helm template the check cannot render: give url_map an entry for its prefix"
                % (what, display_url(value))
            )
        if not re.match(r"^https?://[^/\s]+", mapped):
            raise CheckFailed("%s %s is no http(s) URL" % (what, display_url(mapped)))
        return mapped

    def _client_auth(self, secret: str) -> tuple[dict[str, str], dict[str, str]]:
        method = (
            self.config.get("introspection_endpoint_auth_method")
            or self.config.get("token_endpoint_auth_method")
            or "client_secret_basic"
        )
        if method not in AUTH_METHODS:
            raise CheckFailed(
                "the route authenticates client '%s' with %s; this check knows %s"
                % (self.client_id, method, " and ".join(AUTH_METHODS))
            )
        fields, headers = openid.client_authentication(self.client_id, secret, method)
        self.secrets.add(headers.get("Authorization"))
        return fields, headers

    def discovery(self) -> tuple[str, dict[str, Any]]:
        raw = self.config.get("discovery")
        if not isinstance(raw, str) or not raw:
            raise CheckFailed("the openid-connect block has no discovery URL")
        url = self._url(resolve_env(raw, "discovery"), "discovery")
        answer = self._ask("discovery", openid.discover, self.http, url)
        document = answer.data
        if answer.status != 200:
            raise CheckFailed(
                "discovery %s answered HTTP %s (%s): APISIX cannot load it and refuses every request"
                % (display_url(url), answer.status, error_text(answer.text, 200) or "no text")
            )
        if not isinstance(document, dict) or not document.get("token_endpoint"):
            raise CheckFailed("discovery %s is no OpenID Connect discovery document" % display_url(url))
        return url, document

    def run(self) -> tuple[str, bool]:
        """``(reason, aud_has_client)`` of a route that passes; CheckFailed otherwise."""
        config = self.config
        if config.get("bearer_only") is not True:
            raise CheckFailed("bearer_only is not true: APISIX would redirect to a login page, not check a token")
        if config.get("use_jwks") is True or config.get("public_key"):
            raise CheckFailed(
                "the route verifies tokens locally (use_jwks/public_key); this check follows introspection"
            )
        self.client_id = resolve_env(config.get("client_id"), "client_id")
        secret = resolve_env(config.get("client_secret"), "client_secret")
        self.secrets.add(secret)
        if not isinstance(self.client_id, str) or not self.client_id:
            raise CheckFailed("the openid-connect block has no client_id")
        if not isinstance(secret, str) or not secret:
            raise CheckFailed("the openid-connect block has no client_secret")
        _url, document = self.discovery()
        fields, headers = self._client_auth(secret)

        token_url = self._url(document["token_endpoint"], "token endpoint")
        username = self.params["username"]
        grant = dict(fields, grant_type="password", username=username, password=self.params["password"], scope="openid")
        answer = self._ask("token request", openid.request_token, self.http, token_url, grant, headers)
        status, tokens = answer.status, answer.data
        if status != 200 or not isinstance(tokens, dict) or not tokens.get("access_token"):
            text = error_text(answer.text, 200)
            if "invalid_grant" not in text and (
                "invalid_client" in text or "unauthorized_client" in text or status == 401
            ):
                raise CheckFailed(
                    "Keycloak refused client '%s' with the route's client_secret (HTTP %s, %s): the route holds a "
                    "wrong or stale secret" % (self.client_id, status, text)
                )
            raise CheckFailed(
                "the password grant for user '%s' through client '%s' failed (HTTP %s, %s)"
                % (username, self.client_id, status, text)
            )
        for key in ("access_token", "refresh_token", "id_token"):
            self.secrets.add(tokens.get(key))
        token = tokens["access_token"]

        endpoint = config.get("introspection_endpoint") or document.get("introspection_endpoint")
        if not endpoint:
            raise CheckFailed("neither the route nor the discovery document names an introspection endpoint")
        introspection_url = self._url(resolve_env(endpoint, "introspection_endpoint"), "introspection endpoint")
        introspected = self._ask(
            "introspection", openid.introspect, self.http, introspection_url, token, fields, headers
        )
        answer = introspected.data
        if introspected.status != 200:
            raise CheckFailed(
                "introspection with client '%s' answered HTTP %s (%s), so APISIX answers 401"
                % (self.client_id, introspected.status, error_text(introspected.text, 200))
            )
        problem = introspection_problem(answer, self.client_id)
        claims = jwt_part(token, 1)
        aud = answer.get("aud", claims.get("aud")) if isinstance(answer, dict) else claims.get("aud")
        has_client = audience(aud, self.client_id)
        if problem:
            raise CheckFailed(problem, has_client)
        scope = answer.get("scope", claims.get("scope"))
        problem = scope_problem(scope, config.get("required_scopes")) or alg_problem(
            jwt_part(token, 0).get("alg"), config.get("token_signing_alg_values_expected")
        )
        if problem:
            raise CheckFailed(problem, has_client)
        if not has_client and self.params.get("require_audience", True):
            raise CheckFailed(
                "client '%s' is not in the token's aud (%s): add the fix-audience mapper to client '%s' "
                "(require_audience)" % (self.client_id, ", ".join(as_list(aud)) or "empty", self.client_id),
                has_client,
            )
        alg = jwt_part(token, 0).get("alg")
        return (
            "token of '%s' active at introspection with client '%s', scope %s, %s, aud %s"
            % (
                username,
                self.client_id,
                " ".join(str(scope or "").split()) or "(none)",
                alg or "no alg",
                "has '%s'" % self.client_id if has_client else "lacks '%s'" % self.client_id,
            ),
            has_client,
        )


# --- the module -----------------------------------------------------------------------


AGENT = "cx.api_auth.apisix_oidc_check"  # the Admin API client's User-Agent


def read_routes(
    params: Params, secrets: Secrets, warn: Warn, version: Version, admin: AdminClient | None = None
) -> tuple[RouteTarget, list[tuple[str, PluginState]]]:
    """``(target, [(route id, PluginState)])``: the routes to check, selected and read as ``apisix_route_oidc``
    does (``routes``: ids and glob patterns; ``route_selector``; neither: every route with a block, which on
    the Admin API is every route with the plugin). Every credential read is added to ``secrets``."""
    entries, selectors = select.check_entries(params, default_selectors=select.SELECTORS)
    explicit = bool(entries or params.get("route_selector"))
    target = make_target(
        params, warn, option_prefix="admin_", agent=AGENT, secrets=sorted(secrets.values), client=admin
    )
    chosen = target.states(target.resolve(entries, selectors, required=explicit), version)
    for value in target.secret_texts():
        secrets.add(value)
    if not chosen:
        warn("%s: %s" % (target.source, select.NO_BLOCK))
    return target, chosen


def check_one(
    rid: str, state: PluginState, params: Params, http: openid.Transport, secrets: Secrets, version: Version
) -> dict[str, Any]:
    """The report entry of one route (``state``: its ``target.PluginState``)."""
    entry: dict[str, Any] = dict(route=rid, status=OK, reason="", aud_has_client=None, client_id=None, discovery=None)
    off = block_off(state, version)
    if off:
        entry.update(status=OPEN, reason=off)
        return entry
    config = state.config
    if not isinstance(config, dict):
        entry.update(status=FAILED, reason="the openid-connect block is no mapping")
        return entry
    entry["client_id"] = config.get("client_id")
    entry["discovery"] = display_url(config["discovery"]) if isinstance(config.get("discovery"), str) else None
    check = RouteCheck(config, params, http, secrets)
    try:
        reason, has_client = check.run()
    except CheckFailed as exc:
        entry.update(status=FAILED, reason=secrets.scrub(exc.reason), aud_has_client=exc.aud_has_client)
        return entry
    entry.update(reason=secrets.scrub(reason), aud_has_client=has_client)
    return entry


def run(  # pylint: disable=unused-argument
    params: Params,
    check_mode: bool,
    diff: bool,
    warn: Warn,
    hide: Callable[[str], object] | None = None,
    http: openid.Transport | None = None,
    admin: AdminClient | None = None,
) -> Result:
    """The module's work: read the routes, check every selected one, report; ModuleError when one fails.

    ``http`` (Keycloak) and ``admin`` (the Admin API client) are replaced by tests.
    """
    secrets = masking.Secrets(hide=hide)
    if not isinstance(params.get("password"), str):
        raise ModuleError(
            'password must be text, but it arrived as a %s; quote it (password: "..."). A number is never '
            "converted, it would be another password" % type(params.get("password")).__name__
        )
    secrets.add(params["password"])
    version, _tag, notes = oidc.resolve_version(params.get("apisix_version") or oidc.DEFAULT_APISIX_VERSION)
    for note in notes:
        warn(note)
    for prefix, target in (params.get("url_map") or {}).items():
        if not isinstance(target, str) or not re.match(r"^https?://[^/\s]+", target):
            raise ModuleError(
                "url_map maps %s to %r, which is no http(s) URL"
                % (masking.mask_urls(prefix), masking.mask_urls(target))
            )
    target, chosen = read_routes(params, secrets, warn, version, admin)
    where, extra = target.where, target.extra_result()
    if http is None:
        validate_certs = params.get("keycloak_validate_certs", True)
        http = openid.Transport(
            validate_certs, params.get("keycloak_ca_path"), params.get("keycloak_timeout") or 10, KEYCLOAK_OPTIONS
        )
    # each with where the route matches (uris, hosts: read from the route, never from a plugin)
    entries = [
        dict(check_one(rid, state, params, http, secrets, version), **target.route_place(rid)) for rid, state in chosen
    ]

    failed = [item for item in entries if item["status"] == FAILED]
    if params.get("require_secured"):
        failed += [item for item in entries if item["status"] == OPEN]
    counts = ", ".join(
        "%d %s" % (len([item for item in entries if item["status"] == status]), status) for status in (OK, OPEN, FAILED)
    )
    result = dict(extra, changed=False, routes=entries, table=table(entries))
    result["failed_routes"] = [item["route"] for item in failed]
    if failed:
        raise ModuleError(
            "%s: %d of %d route(s) fail the gateway's check (%s): %s"
            % (
                where,
                len(failed),
                len(entries),
                counts,
                "; ".join(
                    "route %s: %s%s"
                    % (quoted([item["route"]]), item["reason"], " (require_secured)" if item["status"] == OPEN else "")
                    for item in failed
                ),
            ),
            **result,
        )
    result["msg"] = "%s: %d route(s) checked as the gateway does (%s)" % (where, len(entries), counts)
    still_open = [item["route"] for item in entries if item["status"] == OPEN]
    if still_open:
        result["msg"] += "; open: %s" % quoted(still_open, 10)
    return result

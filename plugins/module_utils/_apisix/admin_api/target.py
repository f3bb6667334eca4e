# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Admin API target (``target.RouteTarget``): read every route (GET), plan, then write the changed ones.

``apisix_oidc_check`` reads routes through it as well (GET only, so the viewer key works); 3.x answers
and 2.x envelopes are both understood (``envelope``).

Writes, per route and only for the openid-connect plugin:

* set (``present``/``disabled``): ``PATCH /routes/{id}/plugins/openid-connect`` with the config;
* remove (``absent``): ``PATCH /routes/{id}`` with ``{"plugins": {"openid-connect": null}}``;
* on APISIX 3.10 to 3.17, where any PATCH of a route that carries openid-connect re-encrypts
  ``client_secret`` (corrupting it), instead: GET the route, change only that plugin, PUT the
  route back without ``create_time``/``update_time``.

``PATCH /routes/{id}/plugins`` (which replaces every plugin) is never sent. Every route is read
and checked (it exists, the ingress controller does not own it, its envelope fits
``apisix_version``) before the first write; when a write fails, the message says which routes
were written and which not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import unmanaged
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import compare, envelope, ownership
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.client import (
    AdminApiTimeout,
    AdminClient,
    route_path,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.options import (
    FILE_ONLY_OPTIONS,
    client_options,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_plan import RoutePlan
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PluginState, RouteTarget, route_place
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

# Releases whose PATCH re-encrypts client_secret (fixed in 3.18.0): write with GET + PUT there.
REENCRYPT_FROM = (3, 10, 0)
REENCRYPT_FIXED = (3, 18, 0)
_TIMESTAMPS = ("create_time", "update_time")

T = TypeVar("T")

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import Config, Version
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Warn


def uses_put(version_tuple: Version) -> bool:
    """Whether writes go as GET + PUT of the whole route (APISIX 3.10 to 3.17)."""
    return REENCRYPT_FROM <= version_tuple < REENCRYPT_FIXED


def _secrets(params: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for value in (params.get("client_secret"),):
        if isinstance(value, str) and value:
            found.append(value)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
        elif isinstance(node, str) and node:
            found.append(node)

    walk(params.get("secret_config") or {})
    return found


def plugin_config_of(route: object) -> Any:
    """The openid-connect config of a route object as the Admin API gives it, None without one."""
    plugins = route.get("plugins") if isinstance(route, dict) else None
    return plugins.get(oidc.PLUGIN_NAME) if isinstance(plugins, dict) else None


class AdminApiTarget(RouteTarget):
    """Routes behind an APISIX Admin API (``admin_url``), read on first use and each read once.

    The client is built from the Admin API options; ``option_prefix`` is ``"admin_"`` where a module
    names its Admin API connection options so (``options.ADMIN_API_READ_ARGUMENT_SPEC``). ``secrets``:
    more texts the client masks; ``client``: an ``AdminClient`` to use instead (tests)."""

    def __init__(
        self,
        params: Mapping[str, Any],
        warn: Warn,
        option_prefix: str = "",
        agent: str | None = None,
        secrets: Iterable[str] = (),
        client: AdminClient | None = None,
    ) -> None:
        self.params = params
        self.warn = warn
        set_file_options = [name for name in FILE_ONLY_OPTIONS if params.get(name)]
        if params.get("absent_style") == "comment":
            set_file_options.append("absent_style=comment")
        if set_file_options:
            raise ModuleError(
                "%s only apply to route files (path), not to the Admin API (admin_url)" % ", ".join(set_file_options)
            )
        if client is None:
            more = dict(agent=agent) if agent else {}
            options = client_options(params, option_prefix)
            client = AdminClient(secrets=_secrets(params) + list(secrets), **dict(options, **more))
        self.client = client
        self.routes: dict[str, dict[str, Any]] = {}  # route id -> route object, as read (one GET each, or the list)
        self._listed: list[str] | None = None  # every route id, once listed
        self.configs: dict[str, Config] = {}  # route id -> the config to write there (with the unmanaged keys kept)
        self.unmanaged: dict[str, list[str]] = {}  # route id -> key paths of its config that the module does not manage
        self.v2 = False

    # --- reading --------------------------------------------------------------------

    def _read(self, path: str, what: str, parse: Callable[[Any, str], tuple[T, bool]]) -> T:
        value, v2 = self.client.read(path, what, parse)
        self.v2 = self.v2 or v2
        return value

    @property
    def where(self) -> str:
        return self.client.base

    @property
    def source(self) -> str:
        return "Admin API %s" % self.client.url("/routes")

    def route_ids(self) -> list[str]:
        """``GET /routes`` once; every route it lists is kept (no second GET of it)."""
        if self._listed is None:
            self._listed = []
            for route in self._read("/routes", "GET routes", envelope.parse_list):
                if isinstance(route, dict) and route.get("id") is not None:
                    self._listed.append(str(route["id"]))
                    self.routes.setdefault(str(route["id"]), route)
        return list(self._listed)

    def _route(self, route_id: str) -> dict[str, Any]:
        if route_id not in self.routes:
            what = "GET route '%s'" % route_id
            self.routes[route_id] = self._read(route_path(route_id), what, envelope.parse_item)
        return self.routes[route_id]

    def plugin_state(self, route_id: str) -> PluginState:
        config = plugin_config_of(self._route(route_id))
        return PluginState(active=config is not None, config=config)

    def route_place(self, route_id: str) -> dict[str, list[str]]:
        return route_place(self._route(route_id))

    def check_routes(self, route_ids: Sequence[str], version: Version) -> None:
        """Every route is read (a missing one fails, 404); the server's answers must fit ``version``."""
        for route_id in route_ids:
            self._route(route_id)
        if not self.v2 and version < (3, 0, 0):
            raise ModuleError(
                "the Admin API at %s answers as APISIX 3.x, but apisix_version is %s: give the server's version "
                "(the switch-off flag and the write method depend on it). Nothing was written."
                % (self.client.base, self.params.get("apisix_version"))
            )

    def secret_texts(self) -> set[str]:
        found = set(self.client.secrets)
        for route in self.routes.values():
            config = plugin_config_of(route)
            found.update(masking.secret_values(config) if isinstance(config, dict) else ())
        return found

    def extra_result(self) -> dict[str, Any]:
        return dict(admin_url=self.client.base)

    def known_route_count(self) -> int | None:
        """Known once ``GET /routes`` listed them (a pattern in ``routes``); no request of its own."""
        return None if self._listed is None else len(set(self._listed))

    # --- planning -------------------------------------------------------------------

    def plan(self, route_ids: Sequence[str], config: Config | None, version: Version) -> list[RoutePlan]:
        """Read every route and check it before anything is written; the :class:`RoutePlan` of each."""
        state = self.params["state"]
        keep = (self.params.get("unmanaged_keys") or "keep") == "keep"
        plans: list[RoutePlan] = []
        owned: list[str] = []
        for route_id, found in self.states(route_ids, version):
            marks = ownership.controller_marks(self.routes[route_id])
            if marks:
                owned.append("'%s' (%s)" % (route_id, ", ".join(marks)))
            current = found.active_config
            before = found.block(version)
            if state == "absent":
                plans.append(RoutePlan(route_id, before, "absent", found.active, current))
            else:
                want, paths = unmanaged.merge(
                    current, config, version, keep, compare.stored_default(self.params["apisix_version"])
                )
                if paths:
                    self.unmanaged[route_id] = paths
                    if keep:
                        self._check_kept(route_id, want, paths)
                self.configs[route_id] = want
                changed = not compare.holds(current, want, self.params["apisix_version"])
                plans.append(RoutePlan(route_id, before, state, changed, current))
        if owned:
            raise ModuleError(
                "route(s) %s at %s are owned by the APISIX ingress controller (ApisixRoute/Ingress): it overwrites "
                "Admin API edits on its next sync; set openid-connect in the ApisixRoute resource instead. "
                "Nothing was written." % ("; ".join(owned), self.client.base)
            )
        return plans

    def notes(self, route_ids: Sequence[str], version: Version) -> list[str]:
        """Keys of the routes' configs the module does not manage (the Admin API holds nothing else to say)."""
        message = unmanaged.warning(
            self.unmanaged, (self.params.get("unmanaged_keys") or "keep") == "keep", where=self.client.base
        )
        return [message] if message else []

    def _check_kept(self, route_id: str, config: Config, paths: Sequence[str]) -> None:
        """The config with the kept keys must still be valid for the release (nothing is written otherwise)."""
        errors, _notes = oidc.validate_config(config, self.params["apisix_version"])
        if errors:
            raise ModuleError(
                "route '%s' at %s: its openid-connect config keeps keys the module does not manage (%s), and with "
                "them it is invalid for APISIX %s: %s. Fix them on the route or drop them with "
                "unmanaged_keys=remove. Nothing was written."
                % (
                    route_id,
                    self.client.url(route_path(route_id)),
                    ", ".join(paths),
                    self.params["apisix_version"],
                    "; ".join(errors),
                )
            )

    # --- diff -----------------------------------------------------------------------

    def _render(self, config: Config | None) -> str:
        if config is None:
            return ""
        text = json.dumps({oidc.PLUGIN_NAME: masking.mask_config(config)}, indent=2) + "\n"
        return masking.mask_text(text, self.client.secrets + masking.secret_values(config))

    def diff(self, plans: Sequence[RoutePlan], config: Config | None) -> list[dict[str, Any]]:
        """One before/after entry per changed route: its openid-connect config only, credentials masked."""
        entries: list[dict[str, Any]] = []
        for plan in plans:
            if not plan.changed:
                continue
            header = "%s (route %s)" % (self.client.url(route_path(plan.route_id)), plan.route_id)
            after = None if self.params["state"] == "absent" else self.configs.get(plan.route_id, config)
            before = compare.without_stored_defaults(plan.current, after, self.params["apisix_version"])
            # masked, a changed credential looks the same on both sides: say it (never the values)
            note = masking.secret_change_note(masking.changed_secrets(plan.current, after))
            entries.append(
                dict(
                    before_header=header,
                    after_header=header,
                    before=self._render(before),
                    after=self._render(after) + note,
                )
            )
        return entries

    # --- writing --------------------------------------------------------------------

    def _write_one(self, route_id: str, config: Config | None, version: Version) -> None:
        what = "writing openid-connect on route '%s'" % route_id
        if uses_put(version):
            fetched = "GET route '%s'" % route_id
            route = self._read(route_path(route_id), fetched, envelope.parse_item)
            body = {key: value for key, value in route.items() if key not in _TIMESTAMPS}
            plugins = dict(body.get("plugins") or {})
            if config is None:
                plugins.pop(oidc.PLUGIN_NAME, None)
            else:
                plugins[oidc.PLUGIN_NAME] = config
            body["plugins"] = plugins
            request: tuple[str, str, object] = ("PUT", route_path(route_id), body)
        elif config is None:
            request = ("PATCH", route_path(route_id), {"plugins": {oidc.PLUGIN_NAME: None}})
        else:
            request = ("PATCH", route_path(route_id, "/plugins/" + oidc.PLUGIN_NAME), config)
        try:
            response = self.client.write(*request)
        except AdminApiTimeout as exc:
            self._read_back(route_id, config, exc)  # the server may have written it all the same
            return
        if response.status not in (200, 201):
            raise self.client.failure(response, what)

    def _read_back(self, route_id: str, config: Config | None, timeout: AdminApiTimeout) -> None:
        """After a write without an answer: GET the route. Returns when it holds ``config`` (None: no plugin),
        raises the timeout when it does not, :class:`_Unknown` when the GET fails too."""
        what = "GET route '%s' (read back)" % route_id
        try:
            route = self._read(route_path(route_id), what, envelope.parse_item)
        except ModuleError as exc:
            raise _Unknown(
                "writing openid-connect on route '%s': %s; whether it was written is unknown, read back: %s"
                % (route_id, timeout.msg, exc.msg)
            ) from None
        current = plugin_config_of(route)
        if config is None:
            written = current is None
        else:
            written = compare.holds(current, config, self.params["apisix_version"])
        if not written:
            raise ModuleError(
                "writing openid-connect on route '%s': %s; read back: not written" % (route_id, timeout.msg)
            )
        self.warn(
            "writing openid-connect on route '%s': %s; read back: written (the route holds the planned config)"
            % (route_id, timeout.msg)
        )

    def write(
        self, plans: Sequence[RoutePlan], config: Config | None, version: Version, check_mode: bool
    ) -> dict[str, Any]:
        """Write every changed route (not in check mode); extra result keys."""
        pending = [plan.route_id for plan in plans if plan.changed]
        if check_mode or not pending:
            return {}
        absent = self.params["state"] == "absent"
        written: list[str] = []
        for route_id in pending:
            try:
                self._write_one(route_id, None if absent else self.configs.get(route_id, config), version)
            except ModuleError as exc:
                left = pending[len(written) :]
                unknown = left[:1] if isinstance(exc, _Unknown) else []
                left = left[len(unknown) :]
                raise ModuleError(
                    "%s. Written before the failure: %s;%s not written: %s"
                    % (
                        exc.msg,
                        quoted(written, 20) or "none",
                        " unknown: %s;" % quoted(unknown) if unknown else "",
                        quoted(left, 20) or "none",
                    ),
                    changed=bool(written),
                    routes=[dict(plan.report(), **self.route_place(plan.route_id)) for plan in plans],
                    routes_written=written,
                    routes_not_written=left,
                    routes_unknown=unknown,
                ) from None
            written.append(route_id)
        return {}


class _Unknown(ModuleError):
    """A write without an answer whose read-back failed too: whether the route was written is unknown."""

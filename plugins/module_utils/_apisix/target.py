# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a target of ``apisix_route_oidc`` and ``apisix_oidc_check`` is, and the state of one route's plugin.

Two targets implement :class:`RouteTarget`: a route file (``file_target.FileTarget``) and the APISIX
Admin API (``admin_api.target.AdminApiTarget``); ``targets.make_target`` picks the one the options
name. Both modules read routes through it: which routes (:meth:`RouteTarget.resolve`, the rules of
``selectors``) and the :class:`PluginState` of each (:meth:`RouteTarget.states`); ``apisix_route_oidc``
also plans, diffs and writes through it (``runner``).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import selectors as select

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_plan import RoutePlan

    Config = dict[str, Any]  # an openid-connect plugin config
    Version = tuple[int, ...]  # an APISIX version: plugin_config.resolve_version

PRESENT, DISABLED, COMMENTED, ABSENT = "present", "disabled", "commented", "absent"


@dataclass(frozen=True)
class PluginState:
    """The ``openid-connect`` plugin of one route as read: ``active`` (an active block: uncommented in a
    file, set on the Admin API), its ``config`` (None without one) and how many ``commented``-out copies
    the route holds (route files only; the Admin API has none)."""

    active: bool = False
    config: Any = None
    commented: int = 0

    @property
    def has_block(self) -> bool:
        """A block, active or commented out: what ``route_selector: [openid_connect_block]`` picks."""
        return self.active or self.commented > 0

    @property
    def active_config(self) -> Any:
        """The active block's config, None without one."""
        return self.config if self.active else None

    def block(self, version: Version) -> str:
        """``present``, ``disabled`` (switched off with the flag of ``version``), ``commented`` or ``absent``."""
        if self.active:
            return DISABLED if isinstance(self.config, dict) and oidc.is_disabled(self.config, version) else PRESENT
        return COMMENTED if self.commented else ABSENT


# Where a route matches requests, as the report shows it: (result key, the route's keys it is read from).
PLACE_KEYS = (("uris", ("uri", "uris")), ("hosts", ("host", "hosts")))


def route_place(route: Any) -> dict[str, list[str]]:
    """``{"uris": [...], "hosts": [...]}`` of a route object (a dict with APISIX's ``uri``/``uris`` and
    ``host``/``hosts``): only non-empty texts, each once, in order; never a plugin's config."""
    place = {}
    for name, keys in PLACE_KEYS:
        values: list[str] = []
        for key in keys:
            value = route.get(key) if isinstance(route, dict) else None
            values.extend(item for item in (value if isinstance(value, list) else [value]) if isinstance(item, str))
        place[name] = list(dict.fromkeys(item for item in values if item))
    return place


def ignores_enable(config: object, version: Version) -> bool:
    """A block with ``enable: false`` that stock APISIX runs anyway."""
    return isinstance(config, dict) and config.get("enable") is False and not oidc.is_disabled(config, version)


class RouteTarget(abc.ABC):
    """Where routes live. Reading (both modules): :meth:`route_ids`, :meth:`plugin_state`, :meth:`check_routes`,
    :meth:`secret_texts`; through them :meth:`resolve` and :meth:`states`. Changing (``apisix_route_oidc``):
    :meth:`plan`, :meth:`notes`, :meth:`diff`, :meth:`write`. Nothing is read before the first of them."""

    @property
    @abc.abstractmethod
    def where(self) -> str:
        """The file or the Admin API's base URL: how results and messages name the target."""

    @property
    @abc.abstractmethod
    def source(self) -> str:
        """Where the routes are listed, for messages about the selection."""

    @abc.abstractmethod
    def route_ids(self) -> list[str]:
        """Every route id of the target, in its order."""

    @abc.abstractmethod
    def plugin_state(self, route_id: str) -> PluginState:
        """The :class:`PluginState` of route ``route_id``."""

    @abc.abstractmethod
    def check_routes(self, route_ids: Sequence[str], version: Version) -> None:
        """Fail, naming them, unless every id names one route and the target fits ``version``."""

    @abc.abstractmethod
    def secret_texts(self) -> set[str]:
        """Every credential text the routes read so far hold (to mask)."""

    @abc.abstractmethod
    def extra_result(self) -> dict[str, Any]:
        """The result keys that name the target."""

    @abc.abstractmethod
    def plan(self, route_ids: Sequence[str], config: Config | None, version: Version) -> list[RoutePlan]:
        """The ``route_plan.RoutePlan`` of each route for ``config`` (None: take the plugin away)."""

    @abc.abstractmethod
    def notes(self, route_ids: Sequence[str], version: Version) -> list[str]:
        """Warnings about what :meth:`plan` found beside the plans (keys the module does not manage...)."""

    @abc.abstractmethod
    def diff(self, plans: Sequence[RoutePlan], config: Config | None) -> list[dict[str, Any]]:
        """One masked before/after entry per changed route."""

    @abc.abstractmethod
    def write(
        self, plans: Sequence[RoutePlan], config: Config | None, version: Version, check_mode: bool
    ) -> dict[str, Any]:
        """Write the changed routes (not in check mode); extra result keys."""

    def known_route_count(self) -> int | None:
        """How many routes the target holds, when that is known without another request (else None)."""
        return None

    def route_place(self, route_id: str) -> dict[str, list[str]]:  # pylint: disable=unused-argument
        """Where route ``route_id`` (already read) matches requests: :func:`route_place` of it."""
        return route_place(None)

    def resolve(self, entries: Sequence[str], selectors: Sequence[str], required: bool = True) -> list[str]:
        """The route ids ``routes`` (``entries``) and ``route_selector`` (``selectors``) name, by the rules of
        ``selectors``. ``required``: a selector that picks nothing fails (else it picks nothing)."""
        all_ids = self.route_ids() if any(select.is_pattern(entry) for entry in entries) else []
        selected: list[str] = []
        if selectors:
            selected = [rid for rid in dict.fromkeys(self.route_ids()) if self.plugin_state(rid).has_block]
        return select.resolve(entries, selectors, all_ids, selected, self.source, required)

    def states(self, route_ids: Sequence[str], version: Version) -> list[tuple[str, PluginState]]:
        """``(route id, PluginState)`` of each route, after :meth:`check_routes`."""
        self.check_routes(route_ids, version)
        return [(route_id, self.plugin_state(route_id)) for route_id in route_ids]

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The route-file target (``target.RouteTarget``): plan every route in the file, write it once.

The file is read and every target route planned (``route_file``); the new text is checked
there; only then, outside check mode, it is written (``_io.write_file``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import unmanaged
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.editor import RouteFile
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_plan import RoutePlan
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import RouteTarget, ignores_enable

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import Config, PluginState, Version
    from ansible_collections.cx.api_auth.plugins.module_utils._io import Signature
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Warn


class FileTarget(RouteTarget):
    """Routes in a route file (``path``), read on first use."""

    def __init__(
        self, params: Mapping[str, Any], warn: Warn, replace: Callable[[str, str], object] | None = None
    ) -> None:
        self.params = params
        self.path = params["path"]
        self.warn = warn
        self.replace = replace
        self._doc: RouteFile | None = None
        self.text: str | None = None
        self._stamp: Signature | None = None
        self._bom = ""
        self._new_text: str | None = None
        self.unmanaged: dict[str, list[str]] = {}  # route id -> key paths of its block that the module does not manage

    # --- reading --------------------------------------------------------------------

    @property
    def doc(self) -> RouteFile:
        """The parsed file (``route_file.RouteFile``), read the first time it is asked for."""
        if self._doc is None:
            text, self._stamp = _io.read_text(self.path, "path")
            if text.startswith("\ufeff"):
                self._bom, text = "\ufeff", text[1:]
            self.text = text
            self._doc = RouteFile(text, source=self.path, routes_key=self.params.get("routes_key"))
        return self._doc

    @property
    def where(self) -> str:
        return self.path

    @property
    def source(self) -> str:
        return "%s (under %s)" % (self.path, self.doc.routes_key)

    def route_ids(self) -> list[str]:
        return self.doc.route_ids()

    def plugin_state(self, route_id: str) -> PluginState:
        return self.doc.plugin_state(route_id, oidc.PLUGIN_NAME)

    def route_place(self, route_id: str) -> dict[str, list[str]]:
        return self.doc.route_place(route_id)

    def check_routes(self, route_ids: Sequence[str], version: Version) -> None:
        """Exact ids are checked here: each must name exactly one route of the file."""
        self.doc.check_targets(route_ids)

    def secret_texts(self) -> set[str]:
        return set(self.doc.secret_texts(oidc.PLUGIN_NAME, oidc.SECRET_PATHS))

    def extra_result(self) -> dict[str, Any]:
        return dict(routes_key=self.doc.routes_key)

    def known_route_count(self) -> int:
        return len(set(self.doc.route_ids()))

    # --- planning -------------------------------------------------------------------

    def plan(self, route_ids: Sequence[str], config: Config | None, version: Version) -> list[RoutePlan]:
        """Edit every route in the document; the :class:`RoutePlan` of each."""
        params = self.params
        doc = self.doc
        plans: list[RoutePlan] = []
        for route_id, state in self.states(route_ids, version):
            before = state.block(version)
            if params["state"] == "absent":
                changed = doc.unset_plugin(route_id, oidc.PLUGIN_NAME, params["absent_style"])
                after = ("commented" if params["absent_style"] == "comment" else "absent") if state.active else before
            else:
                existing = state.config if state.active else doc.commented_config(route_id, oidc.PLUGIN_NAME)
                route_config, self.unmanaged[route_id] = unmanaged.merge(
                    existing, config, version, keep=params.get("unmanaged_keys", "keep") != "remove"
                )
                changed = doc.set_plugin(route_id, oidc.PLUGIN_NAME, route_config)
                after = params["state"]
            plans.append(RoutePlan(route_id, before, after, changed, state.active_config))
        self._new_text = doc.result()
        if self._new_text == self.text:  # the file is the judge: no route changed when its text does not
            for plan in plans:
                plan.changed = False
        return plans

    def notes(self, route_ids: Sequence[str], version: Version) -> list[str]:
        """What the file holds beside the target routes that the user must know."""
        doc, path = self.doc, self.path
        found: list[str] = []
        message = unmanaged.warning(self.unmanaged, self.params.get("unmanaged_keys", "keep") != "remove")
        if message:
            found.append(message)
        found.extend(doc.notes)
        wanted = set(route_ids)
        still_on = [
            route_id if route_id is not None else "(route without id)"
            for route_id, config in doc.iter_plugin_configs(oidc.PLUGIN_NAME)
            if route_id not in wanted and ignores_enable(config, version)
        ]
        if still_on:
            found.append(
                "route(s) %s in %s have an openid-connect block with enable: false, which stock APISIX ignores: "
                "authentication IS ACTIVE there (switch it off with state=disabled or absent)"
                % (quoted(still_on, 10), path)
            )
        duplicates = doc.duplicate_ids()
        if duplicates:
            found.append("%s has duplicate route ids under %s: %s" % (path, doc.routes_key, quoted(duplicates, 10)))
        if doc.routes_key == "routes" and not cast(str, self.text).rstrip().endswith("#END"):  # read with self.doc
            found.append(
                "%s has top-level routes but does not end with #END: APISIX in standalone mode does not load it "
                "until it does" % path
            )
        return found

    def diff(self, plans: Sequence[RoutePlan], config: Config | None) -> list[dict[str, Any]]:
        """One before/after entry per changed route, credentials masked."""
        doc = self.doc
        secrets = self.secret_texts()
        if config is not None:
            secrets.update(masking.secret_values(config))
        current = {plan.route_id: plan.current for plan in plans}
        entries: list[dict[str, Any]] = []
        for route_id, before, after in doc.route_changes():
            header = "%s (route %s)" % (self.path, route_id)
            after = masking.mask_text(after, secrets)
            if config is not None:  # masked, a changed credential looks the same on both sides: say it
                note = masking.secret_change_note(masking.changed_secrets(current.get(route_id), config))
                if note:
                    after = after + ("" if after.endswith("\n") else "\n") + note
            entries.append(
                dict(
                    before_header=header,
                    after_header=header,
                    before=masking.mask_text(before, secrets),
                    after=after,
                )
            )
        return entries

    def write(
        self, plans: Sequence[RoutePlan], config: Config | None, version: Version, check_mode: bool
    ) -> dict[str, Any]:
        """Write the new text once (not in check mode); extra result keys."""
        result: dict[str, Any] = {}
        if not check_mode:  # on every real run, a no-op too: the leftover may hold the client secret
            for name in _io.remove_stale_temporaries(self.path):
                self.warn("removed %s, a temporary file left beside %s by an interrupted run" % (name, self.path))
        if any(plan.changed for plan in plans) and not check_mode:
            # planned (the new text), by a module that writes (apisix_route_oidc passes module.atomic_move)
            backup_file = _io.write_file(
                self.path,
                (self._bom + cast(str, self._new_text)).encode("utf-8"),
                self._stamp,
                cast("Callable[[str, str], object]", self.replace),
                backup=self.params["backup"],
            )
            if backup_file:
                result["backup_file"] = backup_file
        return result

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner of ``apisix_route_oidc``: one per-route plan, whatever the target.

Order of work: the options and the plugin config are checked for the APISIX version
before the target is read; the target (``target.RouteTarget``: a route file, ``file_target``, or
the Admin API, ``admin_api.target``) is read, the routes resolved (``selectors``) and every one planned
(:class:`route_plan.RoutePlan`: before, after, changed); only then, outside check mode,
the target writes. Check mode, ``--diff``, the result and the warnings come from the same
plan as the real run, so they are the same for both targets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import selectors as select
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import ignores_enable
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.targets import make_target
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_plan import RoutePlan
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import Config, Version
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn

    Replace = Callable[[str, str], object]  # how a new route file takes the old one's place (module.atomic_move)


def _ids(route_ids: Sequence[str], limit: int = 10) -> str:
    return quoted(route_ids, limit)


_DONE = {"present": "enabled on", "disabled": "disabled on", "absent": "absent from"}
_DOING = {"present": "enabled on", "disabled": "disabled on", "absent": "removed from"}


def message(where: str, state: str, plans: Sequence[RoutePlan], check_mode: bool, total: int | None = None) -> str:
    """The module's one-line ``msg``: what changed (or would in check mode) on which routes, with counts.

    ``"/srv/values.yaml: openid-connect enabled on 2 route(s) ('a', 'b'), 1 already enabled,
    4 other route(s) untouched"``; ``total``: how many routes the target holds, if known.
    """
    groups: dict[str, list[str]] = {}
    for plan in plans:
        if plan.changed:
            verb = "updated on" if plan.before == plan.after else _DOING[state]
            groups.setdefault(verb, []).append(plan.route_id)
    unchanged = [plan.route_id for plan in plans if not plan.changed]
    if not plans:
        text = "no route selected, nothing changed"
    elif not groups:
        shown = _ids(unchanged)
        text = "openid-connect already %s the %d route(s) selected (%s)" % (_DONE[state], len(unchanged), shown)
    else:
        text = "openid-connect %s%s" % (
            "would be " if check_mode else "",
            " and ".join("%s %d route(s) (%s)" % (verb, len(ids), _ids(ids)) for verb, ids in groups.items()),
        )
        if unchanged:
            text += ", %d already %s" % (len(unchanged), _DONE[state].rsplit(" ", 1)[0])
    others = (total or 0) - len({plan.route_id for plan in plans})
    if total is not None and others > 0:
        text += ", %d other route(s) untouched" % others
    return "%s: %s" % (where, text)


def desired_config(params: Params, label: str, warn: Warn) -> tuple[Version, Config | None, list[str]]:
    """``(version tuple, config or None, notes)``: the block to write, validated for ``apisix_version``, and
    what stock APISIX will make of it (notes, to warn about when the block is written). ``label`` names
    the routes asked for in messages."""
    version, _tag, version_notes = oidc.resolve_version(params["apisix_version"])
    for note in version_notes:
        warn(note)
    if params["state"] == "absent":
        return version, None, []
    enable_key = True if params["write_enable_key"] else None
    try:
        config = oidc.build_config(params, disabled=(params["state"] == "disabled"), enable_key=enable_key)
    except oidc.PluginConfigError as exc:
        raise ModuleError("openid-connect config for route(s) %s: %s" % (label, exc)) from None
    errors, notes = oidc.validate_config(config, params["apisix_version"])
    if errors:
        raise ModuleError(
            "invalid openid-connect config for APISIX %s on route(s) %s: %s"
            % (params["apisix_version"], label, "; ".join(errors)),
            errors=errors,
        )
    return version, config, notes


def _warn_unsecured(route_ids: Sequence[str], params: Params, warn: Warn) -> None:
    unsecured = [route_id for route_id in route_ids if "unsecured" in route_id.lower()]
    if unsecured and params["state"] != "absent":
        warn(
            "route(s) %s say in their id that they are unsecured, yet get openid-connect: check the routes list"
            % _ids(unsecured)
        )


def _run(params: Params, check_mode: bool, diff: bool, warn: Warn, replace: Replace) -> Result:
    """The module's work, unmasked (see :func:`run`); returns its result."""
    entries, selectors = select.check_entries(params)
    target = make_target(params, warn, replace)
    version, config, notes = desired_config(params, select.label(entries, selectors), warn)
    route_ids = target.resolve(entries, selectors)
    _warn_unsecured(route_ids, params, warn)
    plans = target.plan(route_ids, config, version)
    was_off = [plan.route_id for plan in plans if plan.before == "present" and ignores_enable(plan.current, version)]
    if was_off:
        warn(
            "route(s) %s had an openid-connect block with enable: false, which stock APISIX ignores: "
            "authentication was ACTIVE there before this run" % _ids(was_off)
        )
    for note in target.notes(route_ids, version):
        warn(note)

    changed = any(plan.changed for plan in plans)
    result = dict(
        changed=changed,
        routes_selected=route_ids,
        routes=[dict(plan.report(), **target.route_place(plan.route_id)) for plan in plans],
    )
    result.update(target.extra_result())
    written = [plan.route_id for plan in plans if plan.changed]
    notes = ["openid-connect on route(s) %s: %s" % (_ids(written or route_ids), note) for note in notes]
    if written:
        for note in notes:  # said when the block is written, not on every rerun
            warn(note)
    elif notes:
        result["config_notes"] = notes
    if config is not None:
        result["config"] = masking.mask_config(config)
    if changed and diff:
        result["diff"] = target.diff(plans, config)
    result.update(target.write(plans, config, version, check_mode))
    result["msg"] = message(target.where, params["state"], plans, check_mode, target.known_route_count())
    return result


def run(params: Params, check_mode: bool, diff: bool, warn: Warn, replace: Replace) -> Result:
    """The module's work; returns its result. ``replace``: how a new route file takes the old one's place
    (``module.atomic_move``). Whatever it prints (result, diff, warnings, the message and result of a
    failure) has the credentials of every URL masked (``masking.mask_urls``): a proxy or discovery URL with
    ``user:password@``, from the options or from a block read from the target."""

    def masked_warn(text: str) -> None:
        warn(masking.mask_urls(text))

    try:
        result = _run(params, check_mode, diff, masked_warn, replace)
    except ModuleError as exc:
        raise ModuleError(masking.mask_urls(exc.msg), **masking.mask_urls_in(exc.result)) from None
    return masking.mask_urls_in(result)

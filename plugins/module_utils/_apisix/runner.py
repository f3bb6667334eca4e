# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner of ``apisix_route_oidc``: validate the plugin config, plan every route, write once.

Order of work: the options and the plugin config are checked for the APISIX version
before the file is read; the file is read and every target route planned; the new
text is checked (``route_file``); only then, outside check mode, it is written
(``_io.write_file``). Check mode and ``--diff`` read the same plan as the real run.
"""

from __future__ import annotations

import re

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.editor import RouteFile
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError


def _ids(route_ids, limit=10):
    return quoted(route_ids, limit)


# APISIX's route id (apisix/schema_def.lua id_schema): 1-64 of these characters, or a positive integer.
_ROUTE_ID_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")


def _id_problem(route_id):
    if route_id != route_id.strip():
        return 'it starts or ends with a space (routes given as one string "a, b"? give a YAML list)'
    if not route_id:
        return "it is empty"
    if len(route_id) > 64:
        return "it is longer than 64 characters"
    bad = sorted({char for char in route_id if not _ROUTE_ID_RE.match(char)})
    return "it holds %s" % ", ".join(repr(char) for char in bad)


def target_ids(params, warn):
    """The route ids asked for, once each, in the order given; each one a valid APISIX route id."""
    route_ids = list(dict.fromkeys(params["routes"]))
    if not route_ids:
        raise ModuleError("routes must name at least one route id")
    wrong = [
        "%s: %s" % (quoted([route_id]), _id_problem(route_id))
        for route_id in route_ids
        if not _ROUTE_ID_RE.match(route_id)
    ]
    if wrong:
        raise ModuleError(
            "routes holds %s that APISIX cannot have (1 to 64 of the characters A-Z a-z 0-9 - _ .): %s"
            % ("ids" if len(wrong) > 1 else "an id", "; ".join(wrong))
        )
    unsecured = [route_id for route_id in route_ids if "unsecured" in route_id.lower()]
    if unsecured and params["state"] != "absent":
        warn(
            "route(s) %s say in their id that they are unsecured, yet get openid-connect: check the routes list"
            % _ids(unsecured)
        )
    return route_ids


def desired_config(params, route_ids, warn):
    """``(version tuple, config or None, notes)``: the block to write, validated for ``apisix_version``, and
    what stock APISIX will make of it (notes, to warn about when the block is written)."""
    version, _tag, version_notes = oidc.resolve_version(params["apisix_version"])
    for note in version_notes:
        warn(note)
    if params["state"] == "absent":
        return version, None, []
    enable_key = True if params["write_enable_key"] else None
    try:
        config = oidc.build_config(params, disabled=(params["state"] == "disabled"), enable_key=enable_key)
    except oidc.PluginConfigError as exc:
        raise ModuleError("openid-connect config for route(s) %s: %s" % (_ids(route_ids), exc)) from None
    errors, notes = oidc.validate_config(config, params["apisix_version"])
    if errors:
        raise ModuleError(
            "invalid openid-connect config for APISIX %s on route(s) %s: %s"
            % (params["apisix_version"], _ids(route_ids), "; ".join(errors)),
            errors=errors,
        )
    return version, config, notes


def block_state(info, version):
    """``present``, ``disabled``, ``commented`` or ``absent``: the openid-connect block of a route."""
    if info["active"]:
        config = info["config"]
        return "disabled" if isinstance(config, dict) and oidc.is_disabled(config, version) else "present"
    return "commented" if info["commented"] else "absent"


def _ignores_enable(config, version):
    """A block with ``enable: false`` that stock APISIX runs anyway."""
    return isinstance(config, dict) and config.get("enable") is False and not oidc.is_disabled(config, version)


def plan_routes(doc, route_ids, params, config, version):
    """Edit every target route in ``doc``; ``(report, ids whose block said enable: false)``."""
    doc.check_targets(route_ids)
    report, was_off = [], []
    for route_id in route_ids:
        info = doc.plugin_state(route_id, oidc.PLUGIN_NAME)
        before = block_state(info, version)
        if before == "present" and _ignores_enable(info["config"], version):
            was_off.append(route_id)
        if params["state"] == "absent":
            changed = doc.unset_plugin(route_id, oidc.PLUGIN_NAME, params["absent_style"])
            after = ("commented" if params["absent_style"] == "comment" else "absent") if info["active"] else before
        else:
            changed = doc.set_plugin(route_id, oidc.PLUGIN_NAME, config)
            after = params["state"]
        report.append(dict(id=route_id, before=before, after=after, changed=changed))
    return report, was_off


def _file_warnings(doc, text, path, route_ids, was_off, version, warn):
    if was_off:
        warn(
            "route(s) %s had an openid-connect block with enable: false, which stock APISIX ignores: "
            "authentication was ACTIVE there before this run" % _ids(was_off)
        )
    still_on = [
        route_id if route_id is not None else "(route without id)"
        for route_id, config in doc.iter_plugin_configs(oidc.PLUGIN_NAME)
        if route_id not in route_ids and _ignores_enable(config, version)
    ]
    if still_on:
        warn(
            "route(s) %s in %s have an openid-connect block with enable: false, which stock APISIX ignores: "
            "authentication IS ACTIVE there (switch it off with state=disabled or absent)" % (_ids(still_on), path)
        )
    duplicates = doc.duplicate_ids()
    if duplicates:
        warn("%s has duplicate route ids under %s: %s" % (path, doc.routes_key, _ids(duplicates)))
    if doc.routes_key == "routes" and not text.rstrip().endswith("#END"):
        warn(
            "%s has top-level routes but does not end with #END: APISIX in standalone mode does not load it "
            "until it does" % path
        )


def _diff(doc, path, config):
    """One before/after entry per changed route, credentials masked."""
    secrets = set(doc.secret_texts(oidc.PLUGIN_NAME, oidc.SECRET_PATHS))
    if config is not None:
        secrets.update(masking.secret_values(config))
    entries = []
    for route_id, before, after in doc.route_changes():
        header = "%s (route %s)" % (path, route_id)
        entries.append(
            dict(
                before_header=header,
                after_header=header,
                before=masking.mask_text(before, secrets),
                after=masking.mask_text(after, secrets),
            )
        )
    return entries


def run(params, check_mode, diff, warn, replace):
    """The module's work; returns its result. ``replace``: how the new file takes the old one's place
    (``module.atomic_move``)."""
    path = params["path"]
    route_ids = target_ids(params, warn)
    version, config, notes = desired_config(params, route_ids, warn)
    text, stamp = _io.read_text(path, "path")
    bom = ""
    if text.startswith("\ufeff"):
        bom, text = "\ufeff", text[1:]
    doc = RouteFile(text, source=path, routes_key=params["routes_key"])
    report, was_off = plan_routes(doc, route_ids, params, config, version)
    new_text = doc.result()
    _file_warnings(doc, text, path, set(route_ids), was_off, version, warn)

    changed = new_text != text
    result = dict(changed=changed, routes_key=doc.routes_key, routes=report)
    written = [entry["id"] for entry in report if entry["changed"]]
    notes = ["openid-connect on route(s) %s: %s" % (_ids(written or route_ids), note) for note in notes]
    if written:
        for note in notes:  # said when the block is written, not on every rerun
            warn(note)
    elif notes:
        result["config_notes"] = notes
    if config is not None:
        result["config"] = masking.mask_config(config)
    if changed and diff:
        result["diff"] = _diff(doc, path, config)
    if not check_mode:  # on every real run, a no-op too: the leftover may hold the client secret
        for name in _io.remove_stale_temporaries(path):
            warn("removed %s, a temporary file left beside %s by an interrupted run" % (name, path))
    if changed and not check_mode:
        backup_file = _io.write_file(path, (bom + new_text).encode("utf-8"), stamp, replace, backup=params["backup"])
        if backup_file:
            result["backup_file"] = backup_file
    return result

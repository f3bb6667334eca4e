# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which routes ``apisix_oidc_check`` checks, and the openid-connect state of each, from either target.

From a route file (``path``, read only through ``route_file.RouteFile``): the listed ``routes``, or every
route with a block (active, switched off or commented out). From the APISIX Admin API (``admin_url``,
GET only, so the viewer key works) through ``admin_api.client.AdminClient``: :func:`api_plugin_state`
and :func:`api_selected` turn its answers (3.x or 2.x envelope) into the same per-route state the file
gives. Every secret found on the way is added to ``secrets`` before anything is reported.
"""

from __future__ import annotations

from ansible_collections.cx.api_auth.plugins.module_utils import _io
from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api import envelope
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.client import AdminClient, route_path
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.options import (
    FILE_ONLY_OPTIONS,
    client_options,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.editor import RouteFile
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError


def selected_routes(doc, params, version):
    """``(route id, plugin state)`` of the routes to check: ``routes``, or every one with a block."""
    if params.get("routes"):
        route_ids = list(dict.fromkeys(params["routes"]))
        doc.check_targets(route_ids)
        return [(rid, doc.plugin_state(rid, oidc.PLUGIN_NAME)) for rid in route_ids]
    chosen = []
    for rid in dict.fromkeys(doc.route_ids()):
        info = doc.plugin_state(rid, oidc.PLUGIN_NAME)
        if info["active"] or info["commented"]:
            chosen.append((rid, info))
    return chosen


NO_PLUGIN = "the route has no openid-connect plugin: no authentication"


def api_plugin_state(route):
    """The plugin state of a route object read from the Admin API, in the form ``RouteFile.plugin_state`` gives."""
    plugins = route.get("plugins") if isinstance(route, dict) else None
    config = plugins.get(oidc.PLUGIN_NAME) if isinstance(plugins, dict) else None
    return {"active": config is not None, "config": config, "commented": 0, "missing": NO_PLUGIN}


def api_selected(routes):
    """``(route id, plugin state)`` of every listed route object that carries an openid-connect plugin."""
    chosen = []
    for route in routes:
        info = api_plugin_state(route)
        if info["active"] and route.get("id") is not None:
            chosen.append((str(route["id"]), info))
    return chosen


def api_routes(client, params, version):
    """``(route id, plugin state)`` of the routes to check, read from the Admin API (GET only)."""
    v2 = False
    if params.get("routes"):
        chosen = []
        for rid in dict.fromkeys(params["routes"]):
            route, was_v2 = client.read(route_path(rid), "GET route '%s'" % rid, envelope.parse_item)
            v2 = v2 or was_v2
            chosen.append((rid, api_plugin_state(route)))
    else:
        routes, v2 = client.read("/routes", "GET routes", envelope.parse_list)
        chosen = api_selected(routes)
    if not v2 and version < (3, 0, 0):
        raise ModuleError(
            "the Admin API at %s answers as APISIX 3.x, but apisix_version is %s: give the server's version "
            "(where the switch-off flag lives depends on it)" % (client.base, params.get("apisix_version"))
        )
    return chosen


def from_file(params, secrets, version):
    """``(where, extra result, selected routes, what to say when there are none)`` of the route file."""
    path = params["path"]
    text, _stamp = _io.read_text(path, "path")
    if text.startswith("\ufeff"):
        text = text[1:]
    doc = RouteFile(text, source=path, routes_key=params.get("routes_key"))
    for value in doc.secret_texts(oidc.PLUGIN_NAME, oidc.SECRET_PATHS):
        secrets.add(value)
    none = "%s: no route under %s has an openid-connect block (active, disabled or commented out)" % (
        path,
        doc.routes_key,
    )
    return path, dict(routes_key=doc.routes_key), selected_routes(doc, params, version), none


def from_admin_api(params, secrets, version, admin=None):
    """The same from the Admin API (``admin``: an ``AdminClient``, built from the params when None)."""
    set_file_options = [name for name in FILE_ONLY_OPTIONS if params.get(name)]
    if set_file_options:
        raise ModuleError(
            "%s only apply to route files (path), not to the Admin API (admin_url)" % ", ".join(set_file_options)
        )
    if admin is None:
        admin = AdminClient(
            secrets=sorted(secrets.values), agent="cx.api_auth.apisix_oidc_check", **client_options(params, "admin_")
        )
    chosen = api_routes(admin, params, version)
    for _rid, info in chosen:
        for value in masking.secret_values(info["config"]) if isinstance(info["config"], dict) else ():
            secrets.add(value)
    none = "%s: no route has an openid-connect plugin" % admin.url("/routes")
    return admin.base, dict(admin_url=admin.base), chosen, none

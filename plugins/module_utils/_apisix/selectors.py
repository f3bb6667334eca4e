# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which routes a run acts on: ``routes`` (ids and glob patterns) and ``route_selector``.

* An element of ``routes`` without ``*``, ``?`` or ``[`` is an exact id: it must exist (the
  target says so otherwise). One with them is an ``fnmatch`` pattern (case-sensitive) matched
  against every route id of the target; a pattern that matches nothing fails naming it.
* ``route_selector: [openid_connect_block]`` picks every route that has an ``openid-connect``
  block, commented out or active (enabled or disabled). Active counts too so that a rerun after
  the blocks were enabled picks the same routes (idempotence). On the Admin API no block is
  commented out: the option is refused there (:func:`check_entries`), and ``apisix_oidc_check``'s default
  selection (neither option given) picks the routes with the plugin.
* Both modules resolve through a target (``target.RouteTarget.resolve``).
* The result is the union, once each: the ``routes`` elements in the order given (a pattern's
  matches in the target's order), then the selector's matches in the target's order.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.locate import quoted
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

SELECTORS = ("openid_connect_block",)
# The options both modules read routes by: the route file (the Admin API's are in admin_api.options), which routes.
# The selection (doc fragment cx.api_auth.apisix_route_selection), and with it the route file's options.
SELECTION_ARGUMENT_SPEC = dict(
    routes=dict(type="list", elements="str"),
    route_selector=dict(type="list", elements="str", choices=list(SELECTORS)),
)
ROUTES_ARGUMENT_SPEC = dict(
    path=dict(type="path", aliases=["dest"]),
    routes_key=dict(type="str", no_log=False),
    **SELECTION_ARGUMENT_SPEC,
)
_PATTERN_CHARS = "*?["
# APISIX's route id (apisix/schema_def.lua id_schema): 1-64 of these characters, or a positive integer.
ROUTE_ID_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_PATTERN_RE = re.compile(r"^[a-zA-Z0-9_.*?\[\]!-]{1,200}$")


def is_pattern(entry: str) -> bool:
    return any(char in entry for char in _PATTERN_CHARS)


def _id_problem(route_id: str, pattern: bool = False) -> str:
    if route_id != route_id.strip():
        return 'it starts or ends with a space (routes given as one string "a, b"? give a YAML list)'
    if not route_id:
        return "it is empty"
    if len(route_id) > (200 if pattern else 64):
        return "it is longer than %d characters" % (200 if pattern else 64)
    allowed = _PATTERN_RE if pattern else ROUTE_ID_RE
    bad = sorted({char for char in route_id if not allowed.match(char)})
    return "it holds %s" % ", ".join(repr(char) for char in bad)


def check_entries(params: Mapping[str, Any], default_selectors: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """The ``routes`` elements once each, in the order given, each a valid id or pattern, and the selectors
    (``default_selectors`` when neither is given). Fails on none at all, and on selectors with ``admin_url``."""
    entries = list(dict.fromkeys(params.get("routes") or []))
    selectors = list(dict.fromkeys(params.get("route_selector") or []))
    if selectors and params.get("admin_url"):
        raise ModuleError(
            "route_selector=%s only applies to route files (path): on the Admin API (admin_url) no block is "
            "commented out; name the routes in routes (ids or patterns such as '*-secured')" % ",".join(selectors)
        )
    if not entries and not selectors:
        selectors = list(default_selectors)
    if not entries and not selectors:
        raise ModuleError("routes must name at least one route id or pattern (or give route_selector)")
    wrong: list[str] = []
    for entry in entries:
        pattern = is_pattern(entry)
        if not (_PATTERN_RE if pattern else ROUTE_ID_RE).match(entry):
            wrong.append("%s: %s" % (quoted([entry]), _id_problem(entry, pattern)))
    if wrong:
        raise ModuleError(
            "routes holds %s that APISIX cannot have (1 to 64 of the characters A-Z a-z 0-9 - _ ., "
            "patterns also * ? [ ] !): %s" % ("ids" if len(wrong) > 1 else "an id", "; ".join(wrong))
        )
    return entries, selectors


def label(entries: Sequence[str], selectors: Sequence[str]) -> str:
    """How the asked-for routes are named in messages before they are resolved."""
    shown = quoted(entries, 10) if entries else ""
    if selectors:
        shown = (shown + " and " if shown else "") + "route_selector=%s" % ",".join(selectors)
    return shown


NO_BLOCK = "no route has an openid-connect block, active or commented out"


def resolve(
    entries: Sequence[str],
    selectors: Sequence[str],
    all_ids: Sequence[str],
    selected_ids: Sequence[str],
    source: str,
    required: bool = True,
) -> list[str]:
    """The route ids to act on. ``all_ids``: every id of the target in its order (only read when a
    pattern is given); ``selected_ids``: the ids the selectors pick, in order; ``source`` names the target.
    ``required``: selectors that pick nothing fail (``apisix_oidc_check``'s default selection does not)."""
    resolved: list[str] = []
    unmatched: list[str] = []
    for entry in entries:
        if is_pattern(entry):
            matches = [rid for rid in all_ids if fnmatch.fnmatchcase(rid, entry)]
            if not matches:
                unmatched.append(entry)
            resolved.extend(matches)
        else:
            resolved.append(entry)
    if unmatched:
        raise ModuleError(
            "%s: the route pattern%s %s match%s no route id"
            % (source, "s" if len(unmatched) > 1 else "", quoted(unmatched), "" if len(unmatched) > 1 else "es")
        )
    if selectors and not selected_ids and required:
        raise ModuleError("%s: route_selector=%s matches no route (%s)" % (source, ",".join(selectors), NO_BLOCK))
    resolved.extend(selected_ids)
    return list(dict.fromkeys(resolved))

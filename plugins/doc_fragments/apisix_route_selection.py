# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Which routes a module acts on: the options of plugins/module_utils/_apisix/selectors.py
    # (SELECTION_ARGUMENT_SPEC), written for any route source (a route file, the Admin API, a rendered chart).
    DOCUMENTATION = r"""
options:
  routes:
    description:
      - IDs of the routes to act on. An exact id must exist in the routes the module reads, else it fails naming it
        (with the ids it may have meant).
      - An element with V(*), V(?) or V([) is a glob pattern (Python C(fnmatch), case-sensitive) matched against every
        route id, for example V(*-secured). A pattern that matches no route fails naming the pattern.
      - The routes acted on are the union of these and of O(route_selector), once each, in the order given (a
        pattern's matches and the selector's in the order of the routes read).
      - One of O(routes) and O(route_selector) is required.
    type: list
    elements: str
  route_selector:
    description:
      - Routes picked by what they hold, beside O(routes).
      - V(openid_connect_block) picks every route that has an C(openid-connect) block, active or switched off (and, in
        a route file, commented out). A selector that matches no route fails.
    type: list
    elements: str
    choices: [openid_connect_block]
"""

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-route plan every target of ``apisix_route_oidc`` gives the runner (file and Admin API alike)."""

from __future__ import annotations

from typing import Any


class RoutePlan:
    """One route: ``before``/``after`` state of its openid-connect plugin (``present``, ``disabled``,
    ``commented``, ``absent``), whether it ``changed``, and ``current``, the config found (or None)."""

    __slots__ = ("after", "before", "changed", "current", "route_id")

    def __init__(self, route_id: str, before: str, after: str, changed: bool, current: Any = None) -> None:
        self.route_id = route_id
        self.before = before
        self.after = after
        self.changed = changed
        self.current = current

    def report(self) -> dict[str, Any]:
        """The entry of the module's ``routes`` result."""
        return dict(id=self.route_id, before=self.before, after=self.after, changed=self.changed)

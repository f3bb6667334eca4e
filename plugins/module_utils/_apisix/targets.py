# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The target the options name, for ``apisix_route_oidc`` and ``apisix_oidc_check`` alike (``target.RouteTarget``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.admin_api.target import AdminApiTarget
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.file_target import FileTarget

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import RouteTarget
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Warn


def make_target(
    params: Mapping[str, Any], warn: Warn, replace: Callable[[str, str], object] | None = None, **admin_api: Any
) -> RouteTarget:
    """``admin_url``: the Admin API (``admin_api``: ``AdminApiTarget``'s keyword arguments: the option prefix,
    the agent, more secrets, a client); else ``path``, the route file (``replace``: how a new file takes the old
    one's place, ``module.atomic_move``). Nothing is read yet."""
    if params.get("admin_url"):
        return AdminApiTarget(params, warn, **admin_api)
    return FileTarget(params, warn, replace)

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Admin API option group of ``apisix_route_oidc``, and its read-only form for ``apisix_oidc_check``.

Documented by ``plugins/doc_fragments/apisix_admin_api.py`` (``DOCUMENTATION`` and ``READ``;
validate-modules checks that they agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ADMIN_API_ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    admin_url=dict(type="str"),
    admin_key=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=10),
)

# Options of the route-file target that mean nothing on the Admin API (refused when set there).
FILE_ONLY_OPTIONS = ("routes_key", "backup")

# apisix_oidc_check also talks to Keycloak, with its own validate_certs, ca_path and timeout: there the
# Admin API's connection options carry the admin_ prefix (the Admin API and Keycloak rarely share a CA).
PREFIXED_OPTIONS = ("validate_certs", "ca_path", "timeout")
ADMIN_API_READ_ARGUMENT_SPEC = dict(
    (("admin_" + name) if name in PREFIXED_OPTIONS else name, dict(spec))
    for name, spec in ADMIN_API_ARGUMENT_SPEC.items()
)


def client_options(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The keyword arguments of ``AdminClient`` from module params (``prefix``: ``"admin_"`` for the READ group)."""
    timeout = params.get(prefix + "timeout")
    validate = params.get(prefix + "validate_certs")
    return dict(
        admin_url=params["admin_url"],
        admin_key=params.get("admin_key"),
        validate_certs=True if validate is None else validate,
        ca_path=params.get(prefix + "ca_path"),
        timeout=10 if timeout is None else timeout,
    )

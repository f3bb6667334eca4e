# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Admin API option group of ``apisix_route_oidc``.

Documented by ``plugins/doc_fragments/apisix_admin_api.py`` (validate-modules checks that they agree).
"""

from __future__ import annotations

ADMIN_API_ARGUMENT_SPEC = dict(
    admin_url=dict(type="str"),
    admin_key=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=10),
)

# Options of the route-file target that mean nothing on the Admin API (refused when set there).
FILE_ONLY_OPTIONS = ("routes_key", "backup")

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Three tenants as ``playbooks/report.yml`` gathers them (shared by the report's unit tests)."""

import copy


def _check(*routes):
    return {
        "changed": False,
        "routes": [
            {"route": rid, "status": status, "reason": reason, "client_id": "cim"} for rid, status, reason in routes
        ],
        "failed_routes": [rid for rid, status, _reason in routes if status == "failed"],
        "msg": "checked",
    }


def _keycloak(enabled=True, audience="cim"):
    return {
        "mapper": {
            "changed": False,
            "mapper": {
                "name": "fix-audience",
                "protocolMapper": "oidc-audience-mapper",
                "config": {"included.client.audience": audience, "access.token.claim": "true"},
            },
            "msg": "Mapper 'fix-audience' on client 'cim' in realm 'x' is up to date",
        },
        "user": {
            "changed": False,
            "user": {
                "username": "customer",
                "enabled": enabled,
                "email_verified": True,
                "realm_roles": ["customer", "offline_access"],
            },
        },
    }


HOSTS = [
    {
        "name": "acme",
        "groups": ["keycloak_admin", "apisix_gateway"],
        "keycloak_realm": "acme",
        "keycloak_url": "http://kc.acme.invalid/auth",
        "client_id": "cim",
        "customer_roles": ["customer", "offline_access"],
        "apisix_version": "3.11",
        "keycloak_version": "26.7.3",
        "keycloak": _keycloak(),
        "verify": _check(
            ("orders", "ok", "token of 'customer' active at introspection with client 'cim'"),
            ("public-docs", "open", "no openid-connect block: no authentication"),
            ("files", "ok", "token of 'customer' active at introspection with client 'cim'"),
        ),
        "live": {"routes": [{"id": "orders", "live": "live"}, {"id": "files", "live": "stale", "differs": ["scope"]}]},
    },
    {
        "name": "globex",
        "groups": ["keycloak_admin", "apisix_gateway"],
        "keycloak_realm": "globex",
        "keycloak_url": "http://kc.globex.invalid/auth",
        "client_id": "cim",
        "apisix_version": "3.11",
        "keycloak": _keycloak(),
        "verify": _check(
            ("orders", "ok", "token of 'customer' active at introspection with client 'cim'"),
            ("billing", "failed", "aud of the token lacks client 'cim' | pipe"),
        ),
    },
    {
        "name": "initech",
        "groups": ["keycloak_admin", "apisix_gateway"],
        "keycloak_realm": "initech",
        "keycloak_url": "http://kc.initech.invalid/auth",
        "apisix_version": "3.11",
        "error": {
            "msg": "Keycloak at http://kc.initech.invalid/auth refused the admin login",
            "task": "Audience mapper",
        },
    },
    {"name": "localhost", "groups": []},
]


def hosts():
    return copy.deepcopy(HOSTS)

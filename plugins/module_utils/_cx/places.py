# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which keys of the CX values files carry the customer widget's credentials or the ``cim`` client secret
(private to the collection): the table of issue 22, each row with the public source it was read from.

A key path names mapping keys joined by ``.``, a list entry by its ``name`` (``extraEnvVars[name=SECRET]``)
or ``id``, else by its index, and a key of JSON held inside a string in braces (``.value{secret}``).
A pattern is such a path where ``**`` at the start stands for any leading part (or none) and ``*`` for one
key; it matches the whole path.

Roles: ``cim_secret`` (the ``cim`` client's secret), ``customer_username`` / ``customer_password`` (the
user the customer widget's backend logs in as), ``unknown`` (holds an id or secret whose use no public
source shows: reported, never compared as a secret and never to be rewritten unless the installer opts in).
Rows are tried in order; the first match wins.
"""

from __future__ import annotations

import collections
import re
from typing import TYPE_CHECKING, Optional

CIM_SECRET = "cim_secret"
CUSTOMER_USERNAME = "customer_username"
CUSTOMER_PASSWORD = "customer_password"
UNKNOWN = "unknown"
ROLES = (CIM_SECRET, CUSTOMER_USERNAME, CUSTOMER_PASSWORD, UNKNOWN)

# The one default the charts and the public docs ship for the cim client's secret, in every chart:
# - https://github.com/expertflow/charts/blob/main/charts/Core/values.yaml
#   (efConnectionVars.KEYCLOAK_CLIENT_DB_ID and .KEYCLOAK_CREDENTIALS, unified-admin CLIENT_SECRET)
# - https://github.com/expertflow/charts/blob/main/charts/QM/values.yaml (qm-backend, qm-connector)
# - https://github.com/expertflow/charts/blob/main/charts/CiscoSyncService/values.yaml (SECRET, CLIENT_DB_ID)
# - https://github.com/expertflow/charts/blob/main/charts/Eleveo/values.yaml (global.apisix.keycloak.clientSecret)
# - the public CX documentation (tenant payload "keyCloak.credentials.secret"; the QM connector's
#   KEYCLOAK_CLIENT_SECRET table)
PUBLISHED_CIM_SECRET = "ef61df80-061c-4c29-b9ac-387e6bf67052"

Place = collections.namedtuple("Place", "pattern role component source")

if TYPE_CHECKING:  # names for annotations only (never evaluated at run time: the modules' Python floor)
    Match = tuple[Place, Optional[str]]

CHARTS = "https://github.com/expertflow/charts/blob/main/charts/"

PLACES = (
    # The customer widget's user: web-channel-manager (Core chart, release ef-cx) logs in with these.
    # Source: issue 22 (CX 5.0 Core chart, web-channel-manager.extraEnvVars, default customer/customer).
    # NOT seen in the stored public versions of charts/Core/values.yaml (their web-channel-manager has no
    # such variable): matched by name wherever an env list holds it.
    Place("**[name=KEYCLOAK_USERNAME_CUSTOMER].value", CUSTOMER_USERNAME, "web-channel-manager", "issue 22"),
    Place("**[name=KEYCLOAK_PASSWORD_CUSTOMER].value", CUSTOMER_PASSWORD, "web-channel-manager", "issue 22"),
    Place("**.KEYCLOAK_USERNAME_CUSTOMER", CUSTOMER_USERNAME, "web-channel-manager", "issue 22"),
    Place("**.KEYCLOAK_PASSWORD_CUSTOMER", CUSTOMER_PASSWORD, "web-channel-manager", "issue 22"),
    # Keycloak adapter credentials, JSON inside a string: Core's shared connection variables (read by every
    # Core component with efConnectionVars: true) and QM's qm-backend.
    Place("**.KEYCLOAK_CREDENTIALS{secret}", CIM_SECRET, "Core (efConnectionVars)", CHARTS + "Core/values.yaml"),
    Place("**[name=KEYCLOAK_CREDENTIALS].value{secret}", CIM_SECRET, "QM qm-backend", CHARTS + "QM/values.yaml"),
    # KEYCLOAK_CLIENT_DB_ID in Core's efConnectionVars: the routing-engine (cim/media-routing-engine,
    # efConnectionVars: true) sends it as client_secret in its password-grant token request
    # (com.ef.mediaroutingengine.routing.service.KeyCloakService.getRequestBody, public source).
    Place(
        "efConnectionVars.KEYCLOAK_CLIENT_DB_ID",
        CIM_SECRET,
        "Core (efConnectionVars, routing-engine)",
        CHARTS + "Core/values.yaml; routing-engine KeyCloakService.getRequestBody",
    ),
    # CiscoSyncService (qm-cisco-sync-service): SECRET next to RESOURCE: cim (a keycloak-connect config).
    Place("**[name=SECRET].value", CIM_SECRET, "CiscoSyncService", CHARTS + "CiscoSyncService/values.yaml"),
    # QM's qm-connector (documented as "the client secret from the IAM") and Core's unified-admin (older
    # Core values: CLIENT_ID cim, CLIENT_SECRET next to it).
    Place("**[name=KEYCLOAK_CLIENT_SECRET].value", CIM_SECRET, "QM qm-connector", CHARTS + "QM/values.yaml"),
    Place("**[name=CLIENT_SECRET].value", CIM_SECRET, "Core unified-admin", CHARTS + "Core/values.yaml"),
    # The APISIX defaults of the 5.x charts (Eleveo; MTT's chart was not found in public sources, the same
    # global block is matched by key).
    Place("global.apisix.keycloak.clientSecret", CIM_SECRET, "Eleveo / MTT", CHARTS + "Eleveo/values.yaml"),
    Place("**.clientSecret", CIM_SECRET, "Eleveo / MTT", CHARTS + "Eleveo/values.yaml"),
    # The gateway's routes (apisixStandalone values or APISIX standalone conf/apisix.yaml): the
    # openid-connect plugin's client_secret (this collection's apisix_route_oidc writes it).
    Place("**.plugins.openid-connect.client_secret", CIM_SECRET, "gateway routes", "APISIX openid-connect plugin"),
    # Same value as the secret in the charts, role not shown by any public source found: QM's qm-backend and
    # CiscoSyncService. Report, never rewrite.
    Place("**[name=KEYCLOAK_CLIENT_DB_ID].value", UNKNOWN, "QM qm-backend", CHARTS + "QM/values.yaml"),
    Place("**[name=CLIENT_DB_ID].value", UNKNOWN, "CiscoSyncService", CHARTS + "CiscoSyncService/values.yaml"),
    Place("**.KEYCLOAK_CLIENT_DB_ID", UNKNOWN, "unknown component", "issue 22"),
    Place("**.CLIENT_DB_ID", UNKNOWN, "unknown component", "issue 22"),
)


def _compile(pattern: str) -> tuple[re.Pattern[str], str | None]:
    base, json_key = pattern, None
    match = re.match(r"^(.*)\{([^{}]+)\}$", pattern)
    if match:
        base, json_key = match.group(1), match.group(2)
    parts = []
    rest = base
    if rest.startswith("**"):
        parts.append(r"(?:.*)")
        rest = rest[2:]
        if rest.startswith("."):
            parts.append(r"(?:^|\.)")
            rest = rest[1:]
    else:
        parts.append("^")
    for index, piece in enumerate(rest.split("*")):
        if index:
            parts.append(r"[^.\[]+")
        parts.append(re.escape(piece))
    return re.compile("".join(parts) + "$"), json_key


_COMPILED = [(_compile(place.pattern), place) for place in PLACES]


def lookup(path: str) -> list[Match]:
    """``[(place, json_key)]`` of the first row matching key path ``path`` (``json_key`` None when the row
    names the scalar itself), or ``[]``."""
    for (regex, json_key), place in _COMPILED:
        if regex.match(path):
            return [(place, json_key)]
    return []

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Routes that the APISIX ingress controller owns (``ApisixRoute`` CRDs, Ingress, Gateway API).

The controller overwrites Admin API edits of its routes on its next sync, so the module refuses
them. The marks it puts on every route it writes (apache/apisix-ingress-controller):

* 1.x: ``labels["managed-by"] = "apisix-ingress-controller"`` and
  ``desc = "Created by apisix-ingress-controller, DO NOT modify it manually"``;
* 2.x: ``labels["manager-by"]`` (``apisix-ingress-controller`` or ``api7-ingress-controller``)
  and ``labels["k8s/controller-name"]`` (plus ``k8s/kind``, ``k8s/name``, ``k8s/namespace``).

Route names (``<namespace>_<name>_<rule>``) are not a mark: a hand-made route can look the same.
"""

from __future__ import annotations

from typing import Any

_CONTROLLERS = ("apisix-ingress-controller", "api7-ingress-controller")


def controller_marks(route: object) -> list[str]:
    """The controller's marks found on ``route`` (a route object), as ``key=value`` texts; empty if none."""
    if not isinstance(route, dict):
        return []
    found: list[str] = []
    labels: Any = route.get("labels") if isinstance(route.get("labels"), dict) else {}
    for key in ("managed-by", "manager-by"):
        if labels.get(key) in _CONTROLLERS:
            found.append("labels.%s=%s" % (key, labels[key]))
    if "k8s/controller-name" in labels:
        found.append("labels.k8s/controller-name=%s" % labels["k8s/controller-name"])
    desc = route.get("desc")
    if isinstance(desc, str) and any(desc.startswith("Created by %s" % name) for name in _CONTROLLERS):
        found.append("desc=%r" % desc[:70])
    return found

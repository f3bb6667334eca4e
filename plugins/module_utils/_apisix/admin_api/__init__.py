# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The APISIX Admin API target of ``apisix_route_oidc``: ``options`` (the option group), ``envelope``
(3.x and 2.x response bodies), ``client`` (HTTP through Ansible's ``open_url``, errors),
``compare`` (the keys the module manages), ``ownership`` (routes of the ingress controller),
``target`` (plan and write per route)."""

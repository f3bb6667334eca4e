# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options of the Keycloak modules (private to the collection).

One argument spec, documented by the doc fragment ``cx.api_auth.keycloak``
(``plugins/doc_fragments/keycloak.py``). A module builds its whole spec with
:func:`keycloak_argument_spec` and its own options, which it documents itself::

    module = AnsibleModule(
        argument_spec=keycloak_argument_spec(realm=dict(type="str", required=True), ...),
        required_one_of=REQUIRED_ONE_OF, required_together=REQUIRED_TOGETHER, ...)
"""

from __future__ import annotations

REQUIRED_ONE_OF = [["token", "auth_username", "auth_client_secret"]]
REQUIRED_TOGETHER = [["auth_username", "auth_password"]]


def keycloak_argument_spec(**own_options):
    """The connection options plus a module's ``own_options`` (a new dict on every call)."""
    spec = dict(
        auth_keycloak_url=dict(type="str", required=True, aliases=["url"], no_log=False),
        auth_realm=dict(type="str", default="master"),
        auth_client_id=dict(type="str", default="admin-cli"),
        auth_client_secret=dict(type="str", no_log=True),
        auth_username=dict(type="str"),
        auth_password=dict(type="str", no_log=True),
        token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        connection_timeout=dict(type="int", default=10),
        ca_path=dict(type="path"),
    )
    spec.update(own_options)
    return spec

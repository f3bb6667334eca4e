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

The secrets (:data:`SECRET_OPTIONS` and a module's own, such as the customer's ``password``) are
``type="raw"``, so that AnsibleModule never converts them: YAML reads unquoted digits as a
number (with a leading 0 as an octal one), whose text would be another password. The runner calls
:func:`require_text` on them before anything is sent; a value that is not text is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError

# The connection options that hold a secret: text only, never converted (see require_text).
SECRET_OPTIONS = ("auth_password", "auth_client_secret", "token")

REQUIRED_ONE_OF = [["token", "auth_username", "auth_client_secret"]]
REQUIRED_TOGETHER = [["auth_username", "auth_password"]]


def keycloak_argument_spec(**own_options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The connection options plus a module's ``own_options`` (a new dict on every call)."""
    spec: dict[str, dict[str, Any]] = dict(
        auth_keycloak_url=dict(type="str", required=True, aliases=["url"], no_log=False),
        auth_realm=dict(type="str", default="master"),
        auth_client_id=dict(type="str", default="admin-cli"),
        auth_client_secret=dict(type="raw", no_log=True),
        auth_username=dict(type="str"),
        auth_password=dict(type="raw", no_log=True),
        token=dict(type="raw", no_log=True),
        validate_certs=dict(type="bool", default=True),
        connection_timeout=dict(type="int", default=10),
        ca_path=dict(type="path"),
    )
    spec.update(own_options)
    return spec


# The connection options but the modules' own token: what the lookup keycloak_admin_token takes.
LOGIN_OPTIONS = tuple(name for name in keycloak_argument_spec() if name != "token")


def _kind(value: object) -> str:
    """What YAML made of an unquoted value, in the words of the message (never the value)."""
    if isinstance(value, bool):
        return "a boolean (YAML reads unquoted yes/no, true/false, on/off as one)"
    if isinstance(value, (int, float)):
        return "a number (YAML reads unquoted digits as one, digits with a leading 0 as an octal number)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a value of type %s" % type(value).__name__


def require_text(
    params: Mapping[str, Any], names: Iterable[str], where: str, failing: str = "Cannot manage %s"
) -> None:
    """Refuse every option of ``names`` whose value is set but not text; raise KeycloakModuleError.

    ``where`` names what the module manages (``"user 'customer' in realm 'expertflow'"``), ``failing`` what
    failed, with ``%s`` for ``where`` (the lookup: ``"No token for %s"``). The
    message names the option and what it got, never the value: a converted number would be
    another password or secret, so nothing is converted and nothing is sent.
    """
    for name in names:
        value = params.get(name)
        if value is None or isinstance(value, str):
            continue
        raise KeycloakModuleError(
            '%s: %s must be text, but it is %s; quote it (%s: "..."). A number is never '
            "converted to text, it would be another secret; nothing was sent to Keycloak"
            % (failing % where, name, _kind(value), name)
        )

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Keycloak modules' connection options, for a lookup (private to the collection).

A lookup that talks to Keycloak subclasses :class:`KeycloakLookupBase` and documents its options with
the modules' doc fragment ``cx.api_auth.keycloak`` (``auth_keycloak_url``, ``auth_realm``,
``auth_username``, ``auth_password``, ``auth_client_id``, ``auth_client_secret``, ``validate_certs``,
``ca_path``, ``connection_timeout``), as community.hashi_vault's lookups share its module options.
:meth:`~KeycloakLookupBase.connection_params` gives them as the modules' ``params``;
:meth:`~KeycloakLookupBase.failed` turns the access layer's error into the lookup's, masked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import LOGIN_OPTIONS

if TYPE_CHECKING:
    from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets


class KeycloakLookupBase(LookupBase):
    """A lookup with the connection options of the Keycloak modules."""

    def connection_params(self, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The options of this call (``kwargs``, then the variables), by the modules' option names."""
        self.set_options(var_options=variables, direct=kwargs)
        return {name: self.get_option(name) for name in LOGIN_OPTIONS}

    def failed(self, exc: Exception, secrets: Secrets) -> AnsibleLookupError:
        """The AnsibleLookupError for ``exc`` (a ModuleError of the access layer): its message, named after the
        lookup and masked by ``secrets`` (``_masking.Secrets``)."""
        return AnsibleLookupError(secrets.scrub("%s: %s" % (self._load_name.rsplit(".", 1)[-1], exc)))

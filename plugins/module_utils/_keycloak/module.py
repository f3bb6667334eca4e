# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Keycloak module's ``main()`` in one call (private to the collection)::

    def main():
        run_keycloak_module(argument_spec(), client_secret_rotation, "Regenerating")

The module's options are the connection options plus its own (``options.keycloak_argument_spec``); the runner
unit gives ``target(params)`` (what the module manages, named by every failure) and
``run(connection, params, check_mode, diff, warn)``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import REQUIRED_ONE_OF, REQUIRED_TOGETHER
from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module


def run_keycloak_module(argument_spec: dict[str, Any], unit: Any, verb: str) -> None:
    """Build the AnsibleModule (check mode supported), connect to ``realm`` and run ``unit.run``; exits."""
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
    )
    what = unit.target(module.params)
    connection = KeycloakConnection(module.params, module.params["realm"], what)
    run_module(module, partial(unit.run, connection), "%s %s" % (verb, what), scrub=connection.scrub)

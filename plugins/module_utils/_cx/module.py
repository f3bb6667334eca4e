# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``main()`` of the CX values modules in one call (private to the collection)::

    def main():
        run_values_module(values_check.run, "Checking the CX values files")

Both take the values files and the three values a place is compared with (the two secrets ``no_log``); a module
adds its own options. The runner gets Ansible's ``no_log_values.add`` as ``hide`` (every value it learns is
masked by Ansible too) and ``atomic_move`` as ``replace`` (the rename that keeps mode, owner and SELinux context).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cx.api_auth.plugins.module_utils._runner import run_module


def run_values_module(runner: Callable[..., dict[str, Any]], what: str, **options: dict[str, Any]) -> None:
    """Build the AnsibleModule (check mode supported) and run ``runner``; exits."""
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="path", required=True),
            customer_username=dict(type="str"),
            customer_password=dict(type="str", no_log=True),
            cim_secret=dict(type="str", no_log=True),
            **options,
        ),
        supports_check_mode=True,
    )
    run_module(module, functools.partial(runner, hide=module.no_log_values.add, replace=module.atomic_move), what)

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the module-layer unit tests of the Keycloak modules share.

``main()`` runs for real through AnsibleModule with the connection options of ``fakes``; the
``keycloak`` fixture puts the fake Keycloak in place of python-keycloak. The admin password is
distinctive so that tests can assert it never reaches the output.
"""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ...fakes import ADMIN_PASSWORD, CONNECTION


def run_module_main(capsys, module, args, secrets=(), check=False, diff=False):
    """Run ``module.main()`` with ``args`` plus the connection options; return (result, failed).

    Asserts that none of ``secrets`` (and not the admin password) was printed.
    """
    module_args = dict(CONNECTION)
    module_args.update(args)
    return run_main(capsys, module, module_args, (ADMIN_PASSWORD, *secrets), check, diff)


def run_main(capsys, module, module_args, secrets=(), check=False, diff=False):
    """Run ``module.main()`` with exactly ``module_args``; return (result, failed). Asserts that none of
    ``secrets`` was printed."""
    module_args = dict(module_args)
    if check:
        module_args["_ansible_check_mode"] = True
    if diff:
        module_args["_ansible_diff"] = True
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    out = capsys.readouterr().out
    for secret in secrets:
        assert secret not in out
    return json.loads(out), exit_info.value.code != 0


def warnings_of(result):
    """The warning texts of a result (ansible-core 2.19+ wraps each one as a WarningSummary event)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]

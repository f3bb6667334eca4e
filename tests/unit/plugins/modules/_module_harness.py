"""What the module-layer unit tests of the Keycloak modules share.

``main()`` runs for real through AnsibleModule with these connection options; only the
module's ``connect`` is replaced by an in-memory Keycloak. The admin password is
distinctive so that tests can assert it never reaches the output.
"""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import KeycloakModuleError

ADMIN_PASSWORD = "Adm1n-s3cret-pw"
CONNECTION = {"auth_keycloak_url": "http://kc.example", "auth_username": "admin", "auth_password": ADMIN_PASSWORD}


def install_fake_connect(monkeypatch, module, admin):
    """Make ``module.connect`` hand out ``admin``; record the calls in ``admin.connects``.

    ``admin.connect_error``, when set, makes the connection fail with that message.
    """
    admin.connects = []

    def fake_connect(mod, realm, fail=True):  # pylint: disable=unused-argument
        admin.connects.append((realm, fail))
        if getattr(admin, "connect_error", None):
            raise KeycloakModuleError(admin.connect_error)
        return admin

    monkeypatch.setattr(module, "connect", fake_connect)
    return admin


def run_module_main(capsys, module, args, secrets, check=False, diff=False):
    """Run ``module.main()`` with ``args`` plus the connection options; return (result, failed).

    Asserts that none of ``secrets`` (and not the admin password) was printed.
    """
    module_args = dict(CONNECTION)
    module_args.update(args)
    if check:
        module_args["_ansible_check_mode"] = True
    if diff:
        module_args["_ansible_diff"] = True
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    out = capsys.readouterr().out
    for secret in (ADMIN_PASSWORD,) + tuple(secrets):
        assert secret not in out
    return json.loads(out), exit_info.value.code != 0

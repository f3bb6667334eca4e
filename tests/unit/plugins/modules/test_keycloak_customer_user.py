"""Unit tests of plugins/modules/keycloak_customer_user.py (the thin module layer).

``main()`` runs for real through AnsibleModule (option parsing, no_log, check mode, diff);
only ``connect`` and the password grant are replaced by the in-memory Keycloak of the
module_utils tests.
"""

import os
import sys

import pytest
import yaml


from ansible_collections.cx.api_auth.plugins.doc_fragments.keycloak import ModuleDocFragment
from ansible_collections.cx.api_auth.plugins.module_utils import _customer_user as cu
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import keycloak_argument_spec
from ansible_collections.cx.api_auth.plugins.modules import keycloak_customer_user as module

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_customer_user import PASSWORD, OTHER_PASSWORD, FakeAdmin  # noqa: E402  pylint: disable=wrong-import-position

from _module_harness import install_fake_connect, run_module_main  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def fake(monkeypatch):
    """The fake Keycloak that ``connect`` hands to the module; its token endpoint checks passwords."""
    admin = install_fake_connect(monkeypatch, module, FakeAdmin())

    def fake_check(adm, realm, username, password, client_id, client_secret=None):
        assert adm is admin and realm == "expertflow"
        return admin.password_check(username, password, client_id, client_secret)

    monkeypatch.setattr(cu, "check_password", fake_check)
    return admin


def run_main(capsys, args, check=False, diff=False):
    """Run main() with ``args`` (plus the connection options); return (result, failed)."""
    return run_module_main(capsys, module, args, (PASSWORD, OTHER_PASSWORD), check=check, diff=diff)


GUIDE = {"realm": "expertflow", "password": PASSWORD}


# --------------------------------------------------------------------------- documentation


def _doc():
    return yaml.safe_load(module.DOCUMENTATION)


def test_doc_sections_are_yaml_and_examples_use_real_options():
    doc = _doc()
    assert doc["module"] == "keycloak_customer_user"
    assert "cx.api_auth.keycloak" in doc["extends_documentation_fragment"]
    assert set(doc["attributes"]) >= {"check_mode", "diff_mode", "platform", "action_group"}
    assert yaml.safe_load(module.RETURN)
    spec = module.argument_spec()
    tasks = []
    for task in yaml.safe_load(module.EXAMPLES):
        tasks.extend(task.get("block", [task]))
    used = [t["cx.api_auth.keycloak_customer_user"] for t in tasks if "cx.api_auth.keycloak_customer_user" in t]
    assert len(used) == 4
    for options in used:
        assert set(options) <= set(spec)


def test_documented_options_equal_the_argument_spec():
    """The module's own options match the spec; the connection options come from the fragment."""
    options = _doc()["options"]
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = module.argument_spec()
    assert set(options) | set(fragment) == set(spec)
    own = cu.customer_user_argument_spec()
    assert set(options) == set(own)
    for name, opts in own.items():
        doc = options[name]
        assert doc["type"] == opts["type"], name
        assert doc.get("default") == opts.get("default"), name
        assert doc.get("choices") == opts.get("choices"), name
        assert doc.get("elements") == opts.get("elements"), name
        assert doc.get("required", False) == opts.get("required", False), name
        assert doc.get("aliases", []) == opts.get("aliases", []), name
    for name, opts in keycloak_argument_spec().items():
        assert spec[name] == opts, name


def test_no_option_name_or_alias_clashes():
    names = []
    for name, opts in module.argument_spec().items():
        names.append(name)
        names.extend(opts.get("aliases") or [])
    assert len(names) == len(set(names))
    assert "username" in names and "password" in names


# --------------------------------------------------------------------------- main()


def test_guide_user_check_mode_create_rerun(fake, capsys):
    result, failed = run_main(capsys, GUIDE, check=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["msg"] == "Would create user 'customer' in realm 'expertflow'"
    assert result["diff"]["after"]["password"] == "set"
    assert fake.writes == [] and fake.connects == [("expertflow", False)]

    result, failed = run_main(capsys, GUIDE)
    assert not failed and result["changed"] is True and result["password_changed"] is True
    assert result["msg"] == "Created user 'customer' in realm 'expertflow'"
    assert "diff" not in result
    assert result["user"]["realm_roles"] == ["customer", "default-roles-expertflow", "offline_access",
                                             "uma_authorization"]

    result, failed = run_main(capsys, GUIDE, diff=True)
    assert not failed and result["changed"] is False
    assert result["msg"] == "User 'customer' in realm 'expertflow' is up to date"
    assert result["diff"]["before"] == result["diff"]["after"]


def test_update_and_delete_messages(fake, capsys):
    fake.add_user("customer", password=OTHER_PASSWORD)
    result = run_main(capsys, GUIDE, check=True, diff=True)[0]
    assert result["msg"] == "Would update user 'customer' in realm 'expertflow'"
    assert result["diff"]["after"]["password"] == "changed"
    result = run_main(capsys, GUIDE)[0]
    assert result["msg"] == "Updated user 'customer' in realm 'expertflow'" and result["password_changed"] is True
    absent = {"realm": "expertflow", "state": "absent"}
    assert run_main(capsys, absent, check=True)[0]["msg"] == "Would delete user 'customer' in realm 'expertflow'"
    result = run_main(capsys, absent)[0]
    assert result["msg"] == "Deleted user 'customer' in realm 'expertflow'" and result["user"] == {}
    result = run_main(capsys, absent)[0]
    assert result["changed"] is False and result["msg"] == "User 'customer' in realm 'expertflow' is already absent"


def test_failures_name_user_and_realm_without_secrets(fake, capsys):
    fake.min_length = 40
    result, failed = run_main(capsys, GUIDE)
    assert failed
    assert result["msg"].startswith("Cannot manage user 'customer' in realm 'expertflow': Keycloak rejected the "
                                    "password of user 'customer' in realm 'expertflow': ")
    assert result["msg"].endswith("minimum length 40.; the user was not created; already applied: created realm role "
                                  "'customer'")
    fake.connect_error = "Realm 'nope' does not exist on Keycloak at http://kc.example"
    result, failed = run_main(capsys, dict(GUIDE, realm="nope"))
    assert failed and result["msg"] == ("Cannot manage user 'customer' in realm 'nope': Realm 'nope' does not exist "
                                        "on Keycloak at http://kc.example")


def test_bad_option_values_are_refused_by_ansible(fake, capsys):
    result, failed = run_main(capsys, dict(GUIDE, update_password="sometimes"))
    assert failed and "update_password" in result["msg"]
    result, failed = run_main(capsys, dict(GUIDE, roles_mode="replace"))
    assert failed and "roles_mode" in result["msg"]
    assert fake.connects == []


def test_locked_user_is_a_warning_not_a_change(fake, capsys):
    fake.realm["bruteForceProtected"] = True
    uid = fake.add_user("customer", password=OTHER_PASSWORD)
    fake.locked.add(uid)
    for check in (True, False):
        result, failed = run_main(capsys, GUIDE, check=check, diff=True)
        assert not failed and result["password_changed"] is False
        # ansible-core 2.19+ wraps each warning as a WarningSummary event
        # (the warnings of other modules' tests in this process may be listed too)
        warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
        assert [w for w in warnings if "customer" in w] == [
            "User 'customer' in realm 'expertflow' is locked by brute force detection, so its password was neither "
            "checked (a check is a login attempt) nor changed. Unlock the user or wait until the lock expires, then run "
            "again"]
    assert fake.checks == [] and not [w for w in fake.writes if w[0] == "set_user_password"]
    # once unlocked, the wrong password is found and set
    fake.locked.clear()
    assert run_main(capsys, GUIDE)[0]["password_changed"] is True


def test_unexpected_exception_fails_cleanly_without_secrets(fake, capsys, monkeypatch):
    def broken(self):
        raise ValueError("odd answer for %s" % PASSWORD)

    monkeypatch.setattr(cu.CustomerUser, "read_realm", broken)
    result, failed = run_main(capsys, GUIDE)  # run_main asserts that no secret is printed
    assert failed and "exception" not in result
    assert result["msg"] == "Cannot manage user 'customer' in realm 'expertflow': ValueError: odd answer for ********"

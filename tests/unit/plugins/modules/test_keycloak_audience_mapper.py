"""Unit tests of plugins/modules/keycloak_audience_mapper.py (the thin module layer).

``main()`` runs for real through AnsibleModule; only ``connect`` is replaced by the
in-memory Keycloak of the module_utils tests, so option parsing, messages, check mode,
diff and warnings are what a user gets.
"""

import json
import os
import sys

import pytest
import yaml


from ansible_collections.cx.api_auth.plugins.doc_fragments.keycloak import ModuleDocFragment
from ansible_collections.cx.api_auth.plugins.module_utils import _audience_mapper as am
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import keycloak_argument_spec
from ansible_collections.cx.api_auth.plugins.modules import keycloak_audience_mapper as module

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_audience_mapper import GUIDE_CONFIG_26, FakeAdmin  # noqa: E402  pylint: disable=wrong-import-position

from _module_harness import install_fake_connect, run_module_main  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def fake(monkeypatch):
    """The fake Keycloak that ``connect`` hands to the module; records connect calls."""
    return install_fake_connect(monkeypatch, module, FakeAdmin())


def run_main(capsys, args, check=False, diff=False):
    """Run main() with ``args`` (plus the connection options); return (result, failed)."""
    return run_module_main(capsys, module, args, (), check=check, diff=diff)


GUIDE = {"realm": "expertflow", "client_id": "cim"}


def test_create_check_mode_then_create_then_up_to_date(fake, capsys):
    cim = fake.uuid_of("cim")
    result, failed = run_main(capsys, GUIDE, check=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["msg"] == "Would create mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert result["mapper"]["config"] == GUIDE_CONFIG_26
    assert result["diff"] == {"before": {}, "after": result["mapper"]}
    assert result["client_uuid"] == cim and result["client_scope_id"] is None
    assert fake.writes == []
    assert fake.connects == [("expertflow", False)]

    result, failed = run_main(capsys, GUIDE)
    assert not failed and result["changed"] is True
    assert result["msg"] == "Created mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert "diff" not in result
    assert result["mapper"] == fake.mappers[cim][0]

    result, failed = run_main(capsys, GUIDE, diff=True)
    assert not failed and result["changed"] is False
    assert result["msg"] == "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is up to date"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert len(fake.writes) == 1


def test_update_and_delete_messages(fake, capsys):
    fake.put_mapper(fake.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    args = dict(GUIDE, add_to_id_token=False)
    assert run_main(capsys, args, check=True)[0]["msg"].startswith("Would update mapper 'fix-audience'")
    result = run_main(capsys, args)[0]
    assert result["msg"] == "Updated mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert result["mapper"]["config"]["id.token.claim"] == "false"
    absent = dict(GUIDE, state="absent")
    assert run_main(capsys, absent, check=True)[0]["msg"].startswith("Would delete mapper 'fix-audience'")
    result = run_main(capsys, absent)[0]
    assert result["msg"] == "Deleted mapper 'fix-audience' on client 'cim' in realm 'expertflow'"
    assert result["mapper"] is None
    result = run_main(capsys, absent)[0]
    assert result["changed"] is False
    assert result["msg"] == "Mapper 'fix-audience' on client 'cim' in realm 'expertflow' is already absent"


def test_client_scope_messages(fake, capsys):
    args = {"realm": "expertflow", "client_scope": "api-audience", "included_custom_audience": "urn:cx"}
    result, failed = run_main(capsys, args)
    assert not failed
    assert result["msg"] == "Created mapper 'fix-audience' on client scope 'api-audience' in realm 'expertflow'"
    assert result["client_scope_id"] == fake.scope_uuid("api-audience") and result["client_uuid"] is None


def test_warnings_reach_the_user(capsys, monkeypatch):
    admin = FakeAdmin("19.0.1")
    monkeypatch.setattr(module, "connect", lambda mod, realm, fail=True: admin)
    result, failed = run_main(capsys, dict(GUIDE, add_to_introspection=True))
    assert not failed
    # ansible-core 2.19+ reports warnings as structured summaries, older ones as strings
    assert "add_to_introspection=true is ignored for mapper 'fix-audience'" in json.dumps(result["warnings"])


@pytest.mark.parametrize(
    "args, message",
    [
        ({"realm": "expertflow"}, "one of the following is required: client_id, client_scope"),
        ({"realm": "expertflow", "client_id": "cim", "client_scope": "x"},
         "parameters are mutually exclusive: client_id|client_scope"),
        (dict(GUIDE, included_client_audience="a", included_custom_audience="b"),
         "parameters are mutually exclusive: included_client_audience|included_custom_audience"),
        ({"realm": "expertflow", "client_scope": "api-audience"},
         "client scope 'api-audience' in realm 'expertflow': with client_scope, one of included_client_audience"
         " or included_custom_audience is required (there is no client to default to)"),
        (dict(GUIDE, name=""), "name must not be empty"),
        (dict(GUIDE, state="gone"), "value of state must be one of: present, absent, got: gone"),
    ],
)
def test_bad_input_fails_before_connecting(fake, capsys, args, message):
    result, failed = run_main(capsys, args)
    assert failed
    assert message in result["msg"]
    assert fake.connects == [] and fake.writes == []


def test_connect_errors_name_mapper_client_and_realm(fake, capsys):
    fake.connect_error = "Realm 'nope' does not exist on Keycloak at http://kc.example"
    result, failed = run_main(capsys, {"realm": "nope", "client_id": "cim"})
    assert failed
    assert result["msg"] == ("Cannot manage mapper 'fix-audience' on client 'cim' in realm 'nope':"
                             " Realm 'nope' does not exist on Keycloak at http://kc.example")


def test_errors_of_the_logic_are_reported_as_they_are(fake, capsys):
    result, failed = run_main(capsys, {"realm": "expertflow", "client_id": "nope"})
    assert failed and result["msg"] == "client 'nope' does not exist in realm 'expertflow'"
    assert fake.writes == []


def test_unexpected_errors_fail_cleanly_without_secrets_or_traceback(fake, capsys, monkeypatch):
    """An unforeseen exception becomes a failed result naming the work, the secret masked."""
    from ansible.module_utils._internal import _traceback  # ansible-core 2.19+, as in the venv

    monkeypatch.setattr(_traceback, "_module_tracebacks_enabled_events", frozenset(_traceback.TracebackEvent))

    def broken_ensure(admin, params, check_mode, warn):
        raise ValueError("cannot parse answer for admin:%s" % params["auth_password"])

    monkeypatch.setattr(am, "ensure", broken_ensure)
    result, failed = run_main(capsys, GUIDE)
    assert failed
    assert result["msg"] == ("Managing mapper 'fix-audience' on client 'cim' in realm 'expertflow' failed:"
                             " ValueError: cannot parse answer for admin:********")
    assert "exception" not in result
    assert fake.writes == []


def test_no_permission_in_check_mode(capsys, monkeypatch):
    admin = FakeAdmin(configure=False)
    monkeypatch.setattr(module, "connect", lambda mod, realm, fail=True: admin)
    result, failed = run_main(capsys, GUIDE, check=True)
    assert failed
    assert result["msg"].startswith("no permission to create mapper 'fix-audience' on client 'cim' in realm 'expertflow'")
    assert admin.writes == []


# --------------------------------------------------------------------------- documentation


def _doc():
    return yaml.safe_load(module.DOCUMENTATION)


def test_documentation_matches_the_argument_spec():
    options = _doc()["options"]
    spec = am.argument_spec()
    assert set(options) == set(spec)
    for name, option_spec in spec.items():
        doc = options[name]
        assert doc["type"] == option_spec["type"], name
        assert doc.get("default") == option_spec.get("default"), name
        assert doc.get("choices") == option_spec.get("choices"), name
        assert bool(doc.get("required")) == bool(option_spec.get("required")), name
        assert doc["description"], name
    # the connection options come from the shared fragment, not from this module
    assert not set(options) & set(keycloak_argument_spec())
    assert "cx.api_auth.keycloak" in _doc()["extends_documentation_fragment"]
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(fragment) == set(keycloak_argument_spec())


def test_documentation_attributes_and_other_blocks():
    doc = _doc()
    assert doc["module"] == "keycloak_audience_mapper"
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert doc["attributes"]["platform"]["platforms"] == "all"
    assert doc["attributes"]["action_group"]["membership"] == ["cx.api_auth.keycloak"]
    examples = yaml.safe_load(module.EXAMPLES)
    assert examples[0]["cx.api_auth.keycloak_audience_mapper"]["client_id"] == "cim"
    returned = yaml.safe_load(module.RETURN)
    assert set(returned) == {"mapper", "client_uuid", "client_scope_id", "msg"}


def test_module_is_in_the_keycloak_action_group():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    assert "keycloak_audience_mapper" in runtime["action_groups"]["keycloak"]

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_keycloak/audience_mapper.py, on the fake Keycloak of ``fakes``."""

import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import audience_mapper as am
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.connection import KeycloakConnection
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.modules import keycloak_audience_mapper as module

from ...fakes import CONNECTION, REALM, URL

GUIDE_CONFIG_26 = {
    "included.client.audience": "cim",
    "id.token.claim": "true",
    "access.token.claim": "true",
    "introspection.token.claim": "true",
    "lightweight.claim": "false",
}
GUIDE_CONFIG_19 = {"included.client.audience": "cim", "id.token.claim": "true", "access.token.claim": "true"}
MANAGED = ["included.client.audience", "included.custom.audience", "id.token.claim", "access.token.claim"]


def params(**overrides):
    """The module's parameters for the guide's call plus ``overrides``, as AnsibleModule makes them."""
    args = dict(CONNECTION, realm=REALM, client_id="cim")
    args.update(overrides)
    result = ArgumentSpecValidator(module.argument_spec()).validate(args)
    assert result.error_messages == []
    return result.validated_parameters


def run(check_mode=False, **overrides):
    """``(result, warnings)`` of the module's runner, with the diff."""
    given = params(**overrides)
    warnings = []
    connection = KeycloakConnection(given, given["realm"], am.target(given))
    return am.run(connection, given, check_mode, True, warnings.append), warnings


def fail(check_mode=False, **overrides):
    with pytest.raises(KeycloakModuleError) as info:
        run(check_mode, **overrides)
    return str(info.value)


def properties(keycloak):
    return am.offered_properties(keycloak.get_server_info(), "X")


# --------------------------------------------------------------------------- parameters


def test_validate_params_accepts_the_guide_call():
    am.validate_params(params())


def test_validate_params_needs_an_audience_with_client_scope():
    with pytest.raises(KeycloakModuleError) as err:
        am.validate_params(params(client_id=None, client_scope="api-audience"))
    assert "client scope 'api-audience'" in str(err.value) and "included_client_audience" in str(err.value)
    am.validate_params(params(client_id=None, client_scope="api-audience", included_client_audience="cim"))
    am.validate_params(params(client_id=None, client_scope="api-audience", included_custom_audience="x"))
    am.validate_params(params(client_id=None, client_scope="api-audience", state="absent"))


@pytest.mark.parametrize("blank", ["", "  ", "\t\n"])
@pytest.mark.parametrize(
    "option", ["realm", "name", "client_id", "client_scope", "included_client_audience", "included_custom_audience"]
)
def test_validate_params_rejects_blank_strings(option, blank):
    """The blank-option branch: every string option, empty or whitespace only, fails by name."""
    given = params(**{option: blank})
    if option == "client_scope":
        given.update(client_id=None, included_custom_audience="urn:x")
    with pytest.raises(KeycloakModuleError) as err:
        am.validate_params(given)
    assert option in str(err.value) and "empty" in str(err.value)


def test_validate_params_blank_check_comes_first_and_leaves_unset_options_alone():
    # a blank client_scope is reported as such, not as the missing audience of a client scope
    with pytest.raises(KeycloakModuleError) as err:
        am.validate_params(params(client_id=None, client_scope=""))
    assert "client_scope" in str(err.value) and "empty" in str(err.value)
    # unset (None) options are not blank; padded values are the user's business
    am.validate_params(params(included_client_audience=None, included_custom_audience=None))
    am.validate_params(params(included_custom_audience=" urn:x "))


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "value, flag, expected",
    [
        (True, True, "true"),
        (False, True, "false"),
        ("TRUE", True, "true"),
        (" False ", True, "false"),
        ("", True, None),
        ("   ", False, None),
        (None, False, None),
        ("cim", False, "cim"),
        ("TRUE", False, "TRUE"),
        (7, False, "7"),
    ],
)
def test_normalise_value(value, flag, expected):
    assert am.normalise_value(value, flag=flag) == expected


def test_normalise_config_keeps_only_the_asked_keys_and_drops_empty_ones():
    config = {
        "included.client.audience": "cim",
        "included.custom.audience": "",
        "id.token.claim": "True",
        "userinfo.token.claim": "true",
        "bogus": "x",
    }
    assert am.normalise_config(config, MANAGED) == {"included.client.audience": "cim", "id.token.claim": "true"}
    assert am.normalise_config(None, MANAGED) == {}


def test_offered_properties_reads_the_audience_mapper_of_the_server(make_keycloak):
    assert properties(make_keycloak(version="19.0.1")) == [
        ("included.client.audience", None),
        ("included.custom.audience", None),
        ("id.token.claim", "false"),
        ("access.token.claim", "true"),
    ]
    names = [prop[0] for prop in properties(make_keycloak())]
    assert "lightweight.claim" in names and "introspection.token.claim" in names


def test_offered_properties_errors_name_the_mapper():
    with pytest.raises(KeycloakModuleError) as err:
        am.offered_properties({"protocolMapperTypes": {}}, "mapper 'm' on client 'cim' in realm 'r'")
    assert "mapper 'm' on client 'cim'" in str(err.value) and "'openid-connect'" in str(err.value)
    with pytest.raises(KeycloakModuleError) as err:
        am.offered_properties({"protocolMapperTypes": {"openid-connect": [{"id": "other"}]}}, "mapper 'm'")
    assert "mapper 'm'" in str(err.value) and "'oidc-audience-mapper'" in str(err.value)


def test_desired_config_defaults_to_the_client_as_audience(keycloak):
    desired, managed, warnings = am.desired_config(params(), properties(keycloak))
    assert desired == GUIDE_CONFIG_19
    assert managed == MANAGED and warnings == []


def test_desired_config_custom_audience_manages_the_client_audience_away(keycloak):
    desired, managed, _warnings = am.desired_config(
        params(included_custom_audience="urn:x", add_to_id_token=False), properties(keycloak)
    )
    assert desired == {"included.custom.audience": "urn:x", "id.token.claim": "false", "access.token.claim": "true"}
    assert "included.client.audience" in managed


def test_desired_config_sends_optional_flags_only_where_offered(make_keycloak):
    given = params(add_to_introspection=False, add_to_lightweight_token=True)
    desired, managed, warnings = am.desired_config(given, properties(make_keycloak()))
    assert desired["introspection.token.claim"] == "false" and desired["lightweight.claim"] == "true"
    assert "lightweight.claim" in managed and warnings == []
    desired, managed, warnings = am.desired_config(given, properties(make_keycloak(version="19.0.1")))
    assert "introspection.token.claim" not in desired and "lightweight.claim" not in managed
    assert len(warnings) == 2
    for option, value, key in (
        ("add_to_introspection", "false", "'introspection.token.claim'"),
        ("add_to_lightweight_token", "true", "'lightweight.claim'"),
    ):
        warning = next(w for w in warnings if option in w)
        assert "%s=%s" % (option, value) in warning and key in warning
        assert "mapper 'fix-audience'" in warning and "client 'cim' in realm 'expertflow'" in warning


def test_create_defaults_use_the_server_default_where_offered(make_keycloak):
    props26 = properties(make_keycloak())
    assert am.create_defaults(params(), props26) == {"introspection.token.claim": "true", "lightweight.claim": "false"}
    assert am.create_defaults(params(add_to_lightweight_token=True), props26) == {"introspection.token.claim": "true"}
    assert am.create_defaults(params(), properties(make_keycloak(version="19.0.1"))) == {}
    no_default = [("introspection.token.claim", None), ("lightweight.claim", "")]
    assert am.create_defaults(params(), no_default) == {
        "introspection.token.claim": "true",
        "lightweight.claim": "false",
    }


def test_find_mapper():
    mappers = [
        {"id": "1", "name": "other", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper"},
        {"id": "2", "name": "fix-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper"},
    ]
    assert am.find_mapper(mappers, "fix-audience", "X")["id"] == "2"
    assert am.find_mapper(mappers, "missing", "X") is None
    assert am.find_mapper(None, "missing", "X") is None
    with pytest.raises(KeycloakModuleError) as err:
        am.find_mapper(mappers, "other", "client 'cim' in realm 'expertflow'")
    for fact in ("client 'cim' in realm 'expertflow'", "'other'", "'oidc-hardcoded-claim-mapper'"):
        assert fact in str(err.value)
    wrong_type = [{"id": "4", "name": "fix-audience", "protocol": "openid-connect", "protocolMapper": "x-mapper"}]
    with pytest.raises(KeycloakModuleError, match="protocol 'openid-connect'"):
        am.find_mapper(wrong_type, "fix-audience", "X")


@pytest.mark.parametrize("mapper_type", ["saml-audience-mapper", "oidc-audience-mapper", "saml-role-list-mapper"])
def test_find_mapper_matches_name_and_protocol(mapper_type):
    """A mapper of the same name for another protocol (SAML) is not the module's: skipped, never an error."""
    saml = {"id": "3", "name": "fix-audience", "protocol": "saml", "protocolMapper": mapper_type}
    oidc = {"id": "2", "name": "fix-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper"}
    assert am.find_mapper([saml], "fix-audience", "X") is None
    assert am.find_mapper([saml, oidc], "fix-audience", "X") is oidc
    assert am.find_mapper([oidc, saml], "fix-audience", "X") is oidc


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_saml_mapper_of_the_same_name_is_left_untouched(keycloak, state):
    cim = keycloak.uuid_of("cim")
    saml = keycloak.put_mapper(cim, "fix-audience", {"included.client.audience": "x"}, "saml-audience-mapper", "saml")
    if state == "present":
        keycloak.put_mapper(cim, "fix-audience", dict(GUIDE_CONFIG_26, **{"id.token.claim": "false"}))
    result, _warnings = run(state=state)
    assert result["changed"] is (state == "present")
    assert saml in keycloak.mappers[cim]  # as it was
    oidc = [m for m in keycloak.mappers[cim] if m["protocol"] == "openid-connect"]
    if state == "present":
        assert [m["config"]["id.token.claim"] for m in oidc] == ["true"]
        assert run()[0]["changed"] is False
    else:
        assert oidc == []
    assert all(write[2] != saml["id"] for write in keycloak.writes if len(write) > 2)


def test_differences_ignore_unmanaged_and_server_added_keys():
    current = {
        "config": {
            "included.client.audience": "cim",
            "id.token.claim": "True",
            "access.token.claim": "true",
            "userinfo.token.claim": "true",
            "introspection.token.claim": "true",
            "included.custom.audience": "",
        }
    }
    desired = dict(GUIDE_CONFIG_19)
    assert am.differences(current, desired, MANAGED) == []
    desired["id.token.claim"] = "false"
    assert am.differences(current, desired, MANAGED) == ["id.token.claim"]
    assert am.differences(None, {"included.custom.audience": "x"}, MANAGED) == ["included.custom.audience"]


def test_build_payloads():
    payload = am.build_create_payload(
        "fix-audience", {"id.token.claim": "true", "included.client.audience": "cim"}, {"lightweight.claim": "false"}
    )
    assert payload == {
        "name": "fix-audience",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "consentRequired": False,
        "config": {"included.client.audience": "cim", "id.token.claim": "true", "lightweight.claim": "false"},
    }
    assert list(payload["config"]) == ["included.client.audience", "id.token.claim", "lightweight.claim"]
    current = {
        "id": "9",
        "name": "fix-audience",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "consentRequired": True,
        "config": {
            "included.client.audience": "cim",
            "id.token.claim": "true",
            "userinfo.token.claim": "true",
            "zz": "keep",
        },
    }
    update = am.build_update_payload(
        current,
        {"included.custom.audience": "urn:x", "id.token.claim": "false"},
        ["included.client.audience", "included.custom.audience", "id.token.claim"],
    )
    assert update["id"] == "9" and update["consentRequired"] is True
    assert update["config"] == {
        "included.custom.audience": "urn:x",
        "id.token.claim": "false",
        "userinfo.token.claim": "true",
        "zz": "keep",
    }
    assert current["config"]["included.client.audience"] == "cim"  # the input is not modified


# --------------------------------------------------------------------------- the plan (pure)


def test_plan_for_each_state(keycloak):
    props = properties(keycloak)
    create = am.plan(params(), None, props)
    assert create.action == "create" and create.before == {}
    assert create.payload["config"] == GUIDE_CONFIG_26
    # after: the payload as 26 stores it, with the key it fills from the ID token flag
    assert create.after == dict(create.payload, config=dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true"}))
    current = dict(create.payload, id="m-1")
    same = am.plan(params(), current, props)
    assert same.action is None and not same.changed and same.before == same.after == current
    update = am.plan(params(add_to_id_token=False), current, props)
    assert update.action == "update" and update.mapper_id == "m-1"
    assert update.after["config"]["id.token.claim"] == "false" and update.before == current
    delete = am.plan(params(state="absent"), current, None)
    assert delete.action == "delete" and delete.mapper_id == "m-1" and delete.after == {}
    assert am.plan(params(state="absent"), None, None).changed is False
    assert keycloak.writes == []


# --------------------------------------------------------------------------- run: present


@pytest.mark.parametrize("version", ["26.7.3", "19.0.1"])
def test_create_then_idempotent(make_keycloak, version):
    keycloak = make_keycloak(version=version)
    cim = keycloak.uuid_of("cim")
    result, warnings = run()
    assert result["changed"] is True and warnings == []
    assert "fix-audience" in result["msg"] and "cim" in result["msg"]
    assert result["client_uuid"] == cim and result["client_scope_id"] is None
    [write] = keycloak.writes
    assert write[:2] == ("add_mapper_to_client", cim)
    assert write[2]["config"] == (GUIDE_CONFIG_19 if version.startswith("19") else GUIDE_CONFIG_26)
    assert write[2]["protocolMapper"] == "oidc-audience-mapper" and write[2]["name"] == "fix-audience"
    # the result is the mapper as read back, with the server's own additions; the diff without its id
    assert result["mapper"] == keycloak.mappers[cim][0] and result["mapper"]["id"]
    assert result["diff"] == {"before": {}, "after": am.diff_view(result["mapper"])}
    assert "id" not in result["diff"]["after"]

    again = run()[0]
    assert again["changed"] is False and len(keycloak.writes) == 1
    assert again["mapper"] == result["mapper"]
    assert again["diff"]["before"] == again["diff"]["after"] == am.diff_view(result["mapper"])


def test_check_mode_create_predicts_and_writes_nothing(keycloak):
    result = run(check_mode=True)[0]
    assert result["changed"] is True and keycloak.writes == []
    # predicted with what 26 fills in by itself
    assert result["mapper"]["config"] == dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true"})
    assert "id" not in result["mapper"]
    assert result["diff"] == {"before": {}, "after": result["mapper"]}
    # the real run does what check mode predicted, diff and all
    real = run()[0]
    assert real["changed"] is True
    assert real["diff"] == result["diff"]
    assert am.diff_view(real["mapper"]) == result["mapper"]


def test_update_in_place_keeps_unmanaged_keys_and_other_mappers(keycloak):
    cim = keycloak.uuid_of("cim")
    other = keycloak.put_mapper(
        cim, "hardcoded", {"claim.name": "x", "claim.value": "y"}, mapper_type="oidc-hardcoded-claim-mapper"
    )
    mine = keycloak.put_mapper(
        cim, "fix-audience", dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true", "custom.key": "kept"})
    )

    check = run(check_mode=True, add_to_id_token=False)[0]
    assert check["changed"] is True and keycloak.writes == []
    assert check["mapper"]["id"] == mine["id"] and check["mapper"]["config"]["id.token.claim"] == "false"
    assert check["diff"]["before"]["config"]["id.token.claim"] == "true"

    result = run(add_to_id_token=False)[0]
    assert result["changed"] is True
    [write] = keycloak.writes
    assert write[0] == "update_client_mapper" and write[2] == mine["id"]
    assert write[3]["config"] == dict(
        GUIDE_CONFIG_26, **{"id.token.claim": "false", "userinfo.token.claim": "true", "custom.key": "kept"}
    )
    assert result["mapper"] == check["mapper"]  # check mode predicted the end state exactly
    assert keycloak.mappers[cim][0] == other
    assert run(add_to_id_token=False)[0]["changed"] is False


def test_unset_optional_flags_are_left_alone_on_update(keycloak):
    keycloak.put_mapper(
        keycloak.uuid_of("cim"),
        "fix-audience",
        dict(GUIDE_CONFIG_26, **{"introspection.token.claim": "false", "lightweight.claim": "true"}),
    )
    assert run()[0]["changed"] is False
    result = run(add_to_introspection=True)[0]
    assert result["changed"] is True
    assert result["mapper"]["config"]["introspection.token.claim"] == "true"
    assert result["mapper"]["config"]["lightweight.claim"] == "true"


def test_mapper_made_by_the_console_with_string_case_and_empty_values_is_up_to_date(keycloak):
    keycloak.put_mapper(
        keycloak.uuid_of("cim"),
        "fix-audience",
        {
            "included.client.audience": "cim",
            "included.custom.audience": "",
            "id.token.claim": "True",
            "access.token.claim": "TRUE",
            "userinfo.token.claim": "false",
        },
    )
    result = run()[0]
    assert result["changed"] is False and keycloak.writes == []


def test_switch_to_custom_audience_removes_the_client_audience(keycloak):
    keycloak.put_mapper(keycloak.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    result = run(included_custom_audience="urn:cx:api")[0]
    assert result["changed"] is True
    config = result["mapper"]["config"]
    assert config["included.custom.audience"] == "urn:cx:api" and "included.client.audience" not in config
    assert run(included_custom_audience="urn:cx:api")[0]["changed"] is False


def test_other_audience_client_is_checked_and_used(keycloak):
    result = run(included_client_audience="account")[0]
    assert result["mapper"]["config"]["included.client.audience"] == "account"
    assert ("raw_get", "admin/realms/expertflow/clients", {"clientId": "account"}) in keycloak.calls


def test_warning_on_19_for_explicit_new_flags_and_nothing_sent(make_keycloak):
    keycloak = make_keycloak(version="19.0.1")
    result, warnings = run(add_to_lightweight_token=False)
    assert result["changed"] is True
    assert len(warnings) == 1 and "add_to_lightweight_token=false" in warnings[0]
    assert "lightweight.claim" not in keycloak.writes[0][2]["config"]
    assert run(add_to_lightweight_token=False)[0]["changed"] is False


def test_diff_only_when_asked(keycloak):
    given = params()
    result = am.run(KeycloakConnection(given, REALM, am.target(given)), given, False, False, [].append)
    assert result["changed"] is True and "diff" not in result


# --------------------------------------------------------------------------- run: absent


def test_absent_deletes_only_this_mapper(keycloak):
    cim = keycloak.uuid_of("cim")
    other = keycloak.put_mapper(cim, "hardcoded", {"claim.name": "x"}, mapper_type="oidc-hardcoded-claim-mapper")
    mine = keycloak.put_mapper(cim, "fix-audience", GUIDE_CONFIG_26)

    check = run(check_mode=True, state="absent")[0]
    assert check["changed"] is True and keycloak.writes == [] and check["mapper"] is None
    assert check["diff"] == {"before": am.diff_view(mine), "after": {}}

    result = run(state="absent")[0]
    assert result["changed"] is True and result["mapper"] is None
    assert keycloak.writes == [("remove_client_mapper", cim, mine["id"])]
    assert keycloak.mappers[cim] == [other]

    again = run(state="absent")[0]
    assert again["changed"] is False and len(keycloak.writes) == 1
    assert again["diff"] == {"before": {}, "after": {}}


def test_absent_does_not_need_server_info_nor_audience_lookup(keycloak):
    keycloak.fail["get_server_info"] = (500, {"error": "unknown_error"})
    result = run(state="absent", included_client_audience="nope")[0]
    assert result["changed"] is False
    assert not [call for call in keycloak.calls if call[0] == "get_server_info"]


# --------------------------------------------------------------------------- run: errors before any write


def test_unknown_client(keycloak):
    message = fail(client_id="nope")
    assert "client 'nope'" in message and "realm 'expertflow'" in message and "does not exist" in message
    assert keycloak.writes == []


def test_unknown_audience_client(keycloak):
    message = fail(included_client_audience="nope")
    for fact in ("included_client_audience 'nope'", "realm 'expertflow'", "mapper 'fix-audience'", "client 'cim'"):
        assert fact in message
    assert keycloak.writes == []


@pytest.mark.parametrize("state", ["present", "absent"])
def test_same_name_of_another_type_is_an_error(keycloak, state):
    keycloak.put_mapper(
        keycloak.uuid_of("cim"), "fix-audience", {"claim.name": "aud"}, mapper_type="oidc-hardcoded-claim-mapper"
    )
    message = fail(state=state)
    assert "'fix-audience'" in message and "'oidc-hardcoded-claim-mapper'" in message
    assert keycloak.writes == []


@pytest.mark.parametrize(
    "kwargs, action",
    [({}, "create"), ({"add_to_id_token": False}, "update"), ({"state": "absent"}, "delete")],
)
@pytest.mark.parametrize("check_mode", [False, True])
def test_no_permission_is_found_before_any_write(make_keycloak, kwargs, action, check_mode):
    keycloak = make_keycloak(configure=False)
    if action != "create":
        keycloak.put_mapper(keycloak.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    message = fail(check_mode=check_mode, **kwargs)
    for fact in (
        "no permission to %s" % action,
        "mapper 'fix-audience'",
        "client 'cim'",
        "realm 'expertflow'",
        "manage-clients",
    ):
        assert fact in message
    assert keycloak.writes == []


def test_no_permission_does_not_matter_when_nothing_changes(make_keycloak):
    keycloak = make_keycloak(configure=False)
    keycloak.put_mapper(keycloak.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    assert run()[0]["changed"] is False
    assert run(state="absent", name="missing")[0]["changed"] is False


def test_server_without_access_flags_and_a_403_on_the_write(make_keycloak):
    keycloak = make_keycloak(with_access=False)
    keycloak.deny_writes(403)
    message = fail()
    for fact in ("creating mapper 'fix-audience'", "client 'cim'", "realm 'expertflow'", "no permission", "403", URL):
        assert fact in message
    assert keycloak.mappers[keycloak.uuid_of("cim")] == []


def test_403_on_reading_the_client(keycloak):
    keycloak.fail["GET admin/realms/expertflow/clients"] = (403, {"error": "HTTP 403 Forbidden"})
    message = fail()
    assert "reading client 'cim' in realm 'expertflow'" in message and "no permission" in message


def test_server_info_failure_names_the_mapper_and_client(keycloak):
    keycloak.fail["get_server_info"] = (500, {"error": "unknown_error"})
    message = fail()
    for fact in ("server info", "mapper 'fix-audience'", "client 'cim'", "realm 'expertflow'", "500", URL):
        assert fact in message
    assert keycloak.writes == []


def test_mapper_that_vanishes_after_the_write(keycloak):
    account = keycloak.uuid_of("account")
    keycloak.add_mapper_to_client = lambda _owner, payload: keycloak._create_mapper(
        "add_mapper_to_client", account, payload
    )
    assert "cannot be read back" in fail()
    assert keycloak.mappers[keycloak.uuid_of("cim")] == []


def test_unknown_realm_names_the_mapper(keycloak):
    message = fail(realm="nope")
    for fact in ("mapper 'fix-audience'", "client 'cim'", "Realm 'nope' does not exist", URL):
        assert fact in message
    assert keycloak.writes == []


# --------------------------------------------------------------------------- run: client scope

SCOPE = dict(client_id=None, client_scope="api-audience", included_client_audience="cim")


def scope(**overrides):
    """The options for the client scope ``api-audience`` with ``overrides``."""
    options = dict(SCOPE)
    options.update(overrides)
    return options


def test_client_scope_variant(keycloak):
    scope = keycloak.scope_uuid("api-audience")
    check = run(check_mode=True, **SCOPE)[0]
    assert check["changed"] is True and keycloak.writes == []
    result = run(**SCOPE)[0]
    assert result["changed"] is True and "client scope 'api-audience'" in result["msg"]
    assert result["client_uuid"] is None and result["client_scope_id"] == scope
    assert keycloak.writes[0][:2] == ("add_mapper_to_client_scope", scope)
    assert result["mapper"]["config"]["included.client.audience"] == "cim"
    assert keycloak.mappers[keycloak.uuid_of("cim")] == []
    assert run(**SCOPE)[0]["changed"] is False
    updated = run(add_to_access_token=False, **SCOPE)[0]
    assert updated["changed"] is True and keycloak.writes[-1][0] == "update_mapper_in_client_scope"
    assert updated["mapper"]["config"]["access.token.claim"] == "false"
    gone = run(state="absent", **SCOPE)[0]
    assert gone["changed"] is True and keycloak.writes[-1][0] == "delete_mapper_from_client_scope"
    assert keycloak.mappers[scope] == []


def test_client_scope_errors(keycloak):
    message = fail(**scope(client_scope="nope"))
    assert "client scope 'nope'" in message and "realm 'expertflow'" in message and "does not exist" in message
    assert "'saml'" in fail(**scope(client_scope="saml-scope"))
    assert "included_client_audience 'nope'" in fail(**scope(included_client_audience="nope"))
    keycloak.fail["get_client_scopes"] = (403, {"error": "HTTP 403 Forbidden"})
    message = fail(**SCOPE)
    assert "client scopes of realm 'expertflow'" in message and "403" in message
    assert keycloak.writes == []


@pytest.mark.parametrize("existing, action", [(False, "creating"), (True, "updating"), (True, "deleting")])
def test_client_scope_without_rights_fails_on_the_write_and_writes_nothing(keycloak, existing, action):
    """Client scopes carry no access flags: a missing right is Keycloak's 403 on the one write."""
    scope = keycloak.scope_uuid("api-audience")
    kwargs = dict(SCOPE)
    if existing:
        keycloak.put_mapper(scope, "fix-audience", dict(GUIDE_CONFIG_26, **{"access.token.claim": "false"}))
    if action == "deleting":
        kwargs["state"] = "absent"
    before = copy.deepcopy(keycloak.mappers[scope])
    keycloak.deny_writes(403)
    # check mode writes nothing, so it cannot see the missing right: it predicts the change
    assert run(check_mode=True, **kwargs)[0]["changed"] is True
    message = fail(**kwargs)
    for fact in (
        "%s mapper 'fix-audience'" % action,
        "client scope 'api-audience'",
        "realm 'expertflow'",
        "no permission",
        "403",
    ):
        assert fact in message
    assert keycloak.mappers[scope] == before


# --------------------------------------------------------------------------- check mode predicts the real run


@pytest.mark.parametrize("version", ["26.7.3", "19.0.1"])
@pytest.mark.parametrize(
    "existing, args",
    [
        (None, {}),
        (None, {"add_to_id_token": False, "add_to_access_token": False}),
        (None, {"included_custom_audience": "urn:cx", "add_to_introspection": False}),
        (GUIDE_CONFIG_19, {"add_to_id_token": False}),  # made on 19, then the server was upgraded
        (dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true", "x": "kept"}), {"add_to_access_token": False}),
        (GUIDE_CONFIG_26, {"state": "absent"}),
        (GUIDE_CONFIG_26, {}),
    ],
    ids=["create", "create-flags-off", "create-custom", "update-19-mapper", "update", "delete", "unchanged"],
)
def test_check_mode_diff_is_the_real_diff(make_keycloak, version, existing, args):
    keycloak = make_keycloak(version=version)
    cim = keycloak.uuid_of("cim")
    if existing is not None:
        keycloak.put_mapper(cim, "fix-audience", existing)
    check = run(check_mode=True, **args)[0]
    assert keycloak.writes == []
    real = run(**args)[0]
    assert check["changed"] == real["changed"] == (args != {} or existing is None)
    assert check["diff"] == real["diff"]
    assert "id" not in check["diff"]["before"] and "id" not in check["diff"]["after"]
    stored = [m for m in keycloak.mappers[cim] if m["name"] == "fix-audience"]
    assert real["diff"]["after"] == (am.diff_view(stored[0]) if stored else {})
    if existing is None and version.startswith("26"):
        assert "userinfo.token.claim" in check["diff"]["after"]["config"]  # what 26 fills in, predicted


def test_server_additions_follow_what_26_does():
    props_26 = [(name, None) for name in (am.KEY_ID_TOKEN, am.KEY_ACCESS_TOKEN, am.KEY_INTROSPECTION)]
    props_19 = props_26[:2]
    config = {am.KEY_ID_TOKEN: "true", am.KEY_ACCESS_TOKEN: "false"}
    assert am.server_additions(config, props_26) == {am.KEY_INTROSPECTION: "false", am.KEY_USERINFO: "true"}
    assert am.server_additions(config, props_19) == {}
    # set keys stay, unset sources add nothing, only exactly "true" is true
    assert am.server_additions(dict(config, **{am.KEY_USERINFO: "false"}), props_26) == {am.KEY_INTROSPECTION: "false"}
    assert am.server_additions({am.KEY_ACCESS_TOKEN: "true"}, props_26) == {am.KEY_INTROSPECTION: "true"}
    assert am.server_additions({}, props_26) == {}
    assert am.server_additions({am.KEY_ID_TOKEN: "TRUE", am.KEY_INTROSPECTION: ""}, props_26) == {
        am.KEY_USERINFO: "false"
    }
    stored = am.stored({"name": "m", "config": {am.KEY_ID_TOKEN: "true", "empty": ""}}, props_26)
    assert stored == {"name": "m", "config": {am.KEY_ID_TOKEN: "true", am.KEY_USERINFO: "true"}}


def test_public_client_refused_at_plan_time_also_for_an_unchanged_mapper(keycloak):
    cim = keycloak.uuid_of("cim")
    keycloak.put_mapper(cim, "fix-audience", GUIDE_CONFIG_26)
    keycloak.clients[cim]["publicClient"] = True
    for check_mode in (True, False):
        message = fail(check_mode)
        assert "client 'cim' in realm 'expertflow'" in message and "require_confidential" in message
    assert keycloak.writes == []
    assert run(require_confidential=False)[0]["changed"] is False
    # a client scope has no client: nothing to refuse
    scope = run(client_id=None, client_scope="api-audience", included_client_audience="cim")[0]
    assert scope["changed"] is True


@pytest.mark.parametrize("existing", [False, True], ids=["new", "unchanged"])
def test_disabled_client_refused_like_a_public_one(keycloak, existing):
    cim = keycloak.uuid_of("cim")
    if existing:
        keycloak.put_mapper(cim, "fix-audience", GUIDE_CONFIG_26)
    keycloak.clients[cim]["enabled"] = False
    for check_mode in (True, False):
        message = fail(check_mode)
        for fact in ("client 'cim' in realm 'expertflow' is disabled", "Enabled", "this task changed nothing"):
            assert fact in message, message
    assert keycloak.writes == []
    assert run(require_confidential=False)[0]["changed"] is not existing
    assert run(state="absent")[0]["changed"] is True  # deleting is always allowed

"""Unit tests of plugins/module_utils/_audience_mapper.py.

Keycloak is played by :class:`FakeAdmin`, an in-memory stand-in for python-keycloak's
``KeycloakAdmin`` that behaves like the real servers do where it matters (measured on
19.0.1 and 26.7.3): config values are strings, empty values are dropped on write, 26
adds keys of its own on create, same-named mappers are refused with 409, PUT replaces the
whole config, and every answer a caller may not have is a KeycloakError with its code.
"""

import copy
import json
import uuid

import pytest

from keycloak.exceptions import KeycloakDeleteError, KeycloakGetError, KeycloakPostError, KeycloakPutError

from ansible_collections.cx.api_auth.plugins.module_utils import _audience_mapper as am
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import KeycloakModuleError

REALM = "expertflow"


def _prop(name, default=None):
    prop = {"name": name, "label": name + ".label", "type": "String", "secret": False}
    if default is not None:
        prop["defaultValue"] = default
        prop["type"] = "boolean"
    return prop


PROPS_19 = [
    _prop("included.client.audience"),
    _prop("included.custom.audience"),
    _prop("id.token.claim", "false"),
    _prop("access.token.claim", "true"),
]
PROPS_26 = PROPS_19 + [_prop("lightweight.claim", "false"), _prop("introspection.token.claim", "true")]


class FakeResponse:
    """What ``connection.raw_get`` returns: the bits of ``requests.Response`` that are used."""

    def __init__(self, status_code, body):
        self.status_code = status_code
        self._body = body
        self.content = json.dumps(body).encode() if body is not None else b""

    def json(self):
        return self._body


class FakeConnection:
    def __init__(self, admin):
        self.admin = admin
        self.realm_name = REALM
        self.base_url = "http://kc.example/"

    def raw_get(self, path, **query):
        self.admin.calls.append(("GET", path, query))
        if path in self.admin.fail_paths:
            code = self.admin.fail_paths[path]
            return FakeResponse(code, {"error": "HTTP %s" % code})
        if path == "admin/serverinfo":
            return FakeResponse(200, self.admin.server_info())
        if path == "admin/realms/%s/clients" % REALM:
            found = [copy.deepcopy(c) for c in self.admin.clients.values()
                     if c["clientId"] == query.get("clientId")]
            return FakeResponse(200, found)
        return FakeResponse(404, {"error": "Unable to find matching target resource method"})


class FakeAdmin:
    """In-memory Keycloak realm ``expertflow`` with the python-keycloak calls the module uses."""

    def __init__(self, version="26.7.3", configure=True, with_access=True):
        self.version = version
        self.properties = PROPS_26 if version.startswith("26") else PROPS_19
        self.calls = []
        self.writes = []
        self.fail_paths = {}
        self.fail_writes = None
        self.connection = FakeConnection(self)
        self.clients = {}
        self.mappers = {}
        self.scopes = {}
        for client_id in ("cim", "account", "realm-management"):
            self.add_client(client_id, configure=configure, with_access=with_access)
        self.add_scope("api-audience")
        self.add_scope("saml-scope", protocol="saml")

    # ---- set-up helpers
    def add_client(self, client_id, configure=True, with_access=True):
        uid = str(uuid.uuid4())
        client = {"id": uid, "clientId": client_id, "protocol": "openid-connect"}
        if with_access:
            client["access"] = {"view": True, "configure": configure, "manage": configure}
        self.clients[uid] = client
        self.mappers[uid] = []
        return uid

    def add_scope(self, name, protocol="openid-connect"):
        uid = str(uuid.uuid4())
        self.scopes[uid] = {"id": uid, "name": name, "protocol": protocol, "attributes": {}}
        self.mappers[uid] = []
        return uid

    def uuid_of(self, client_id):
        return [u for u, c in self.clients.items() if c["clientId"] == client_id][0]

    def scope_uuid(self, name):
        return [u for u, s in self.scopes.items() if s["name"] == name][0]

    def put_mapper(self, owner, name, config, mapper_type="oidc-audience-mapper", protocol="openid-connect"):
        mapper = {"id": str(uuid.uuid4()), "name": name, "protocol": protocol,
                  "protocolMapper": mapper_type, "consentRequired": False, "config": dict(config)}
        self.mappers[owner].append(mapper)
        return mapper

    def server_info(self):
        info = {"protocolMapperTypes": {"openid-connect": [
            {"id": "oidc-hardcoded-claim-mapper", "properties": [_prop("claim.name")]},
            {"id": "oidc-audience-mapper", "name": "Audience", "properties": copy.deepcopy(self.properties)},
        ]}}
        if self.version:
            info["systemInfo"] = {"version": self.version}
        return info

    # ---- behaviour shared by client and client-scope mappers
    def _list(self, owner):
        self.calls.append(("LIST", owner))
        return copy.deepcopy(self.mappers[owner])

    def _check_write(self, error_class):
        if self.fail_writes:
            raise error_class(error_message=b'{"error":"HTTP 403 Forbidden"}', response_code=self.fail_writes)

    def _create(self, owner, payload):
        self._check_write(KeycloakPostError)
        self.writes.append(("POST", owner, copy.deepcopy(payload)))
        if any(m["name"] == payload["name"] and m["protocol"] == payload["protocol"] for m in self.mappers[owner]):
            raise KeycloakPostError(error_message=b'{"errorMessage":"Protocol mapper exists with same name"}',
                                    response_code=409)
        stored = copy.deepcopy(payload)
        stored["id"] = str(uuid.uuid4())
        stored["config"] = {k: v for k, v in payload["config"].items() if v not in ("", None)}
        if self.version.startswith("26"):
            stored["config"].setdefault("userinfo.token.claim", "true")
        self.mappers[owner].append(stored)
        return b""

    def _update(self, owner, mapper_id, payload):
        self._check_write(KeycloakPutError)
        self.writes.append(("PUT", owner, mapper_id, copy.deepcopy(payload)))
        for index, mapper in enumerate(self.mappers[owner]):
            if mapper["id"] == mapper_id:
                stored = copy.deepcopy(payload)
                stored["id"] = mapper_id
                stored["config"] = {k: v for k, v in payload["config"].items() if v not in ("", None)}
                self.mappers[owner][index] = stored
                return {}
        raise KeycloakPutError(error_message=b"not found", response_code=404)

    def _delete(self, owner, mapper_id):
        self._check_write(KeycloakDeleteError)
        self.writes.append(("DELETE", owner, mapper_id))
        before = len(self.mappers[owner])
        self.mappers[owner] = [m for m in self.mappers[owner] if m["id"] != mapper_id]
        if len(self.mappers[owner]) == before:
            raise KeycloakDeleteError(error_message=b"not found", response_code=404)
        return {}

    # ---- python-keycloak API
    def get_mappers_from_client(self, client_uuid):
        return self._list(client_uuid)

    def add_mapper_to_client(self, client_uuid, payload):
        return self._create(client_uuid, payload)

    def update_client_mapper(self, client_uuid, mapper_id, payload):
        return self._update(client_uuid, mapper_id, payload)

    def remove_client_mapper(self, client_uuid, mapper_id):
        return self._delete(client_uuid, mapper_id)

    def get_client_scopes(self):
        self.calls.append(("SCOPES",))
        if "scopes" in self.fail_paths:
            raise KeycloakGetError(error_message=b'{"error":"HTTP 403 Forbidden"}', response_code=403)
        return copy.deepcopy(list(self.scopes.values()))

    def get_mappers_from_client_scope(self, scope_id):
        return self._list(scope_id)

    def add_mapper_to_client_scope(self, scope_id, payload):
        return self._create(scope_id, payload)

    def update_mapper_in_client_scope(self, scope_id, mapper_id, payload):
        return self._update(scope_id, mapper_id, payload)

    def delete_mapper_from_client_scope(self, scope_id, mapper_id):
        return self._delete(scope_id, mapper_id)


def params(**kwargs):
    """Module params with the module's defaults, as AnsibleModule would pass them."""
    result = {name: spec.get("default") for name, spec in am.argument_spec().items()}
    result.update(realm=REALM, client_id="cim")
    result.update(kwargs)
    return result


class Warnings(list):
    def __call__(self, msg):
        self.append(msg)


def run(admin, check_mode=False, **kwargs):
    warnings = Warnings()
    result = am.ensure(admin, params(**kwargs), check_mode, warnings)
    return result, warnings


GUIDE_CONFIG_26 = {
    "included.client.audience": "cim",
    "id.token.claim": "true",
    "access.token.claim": "true",
    "introspection.token.claim": "true",
    "lightweight.claim": "false",
}


# --------------------------------------------------------------------------- argument spec


def test_argument_spec_defaults_follow_the_guide():
    spec = am.argument_spec()
    assert spec["name"]["default"] == "fix-audience"
    assert spec["add_to_id_token"] == {"type": "bool", "default": True}
    assert spec["add_to_access_token"] == {"type": "bool", "default": True}
    assert "default" not in spec["add_to_introspection"]
    assert "default" not in spec["add_to_lightweight_token"]
    assert spec["realm"]["required"] is True
    assert spec["state"]["choices"] == ["present", "absent"]
    assert ["client_id", "client_scope"] in am.MUTUALLY_EXCLUSIVE
    assert ["included_client_audience", "included_custom_audience"] in am.MUTUALLY_EXCLUSIVE
    assert am.REQUIRED_ONE_OF == [["client_id", "client_scope"]]


def test_validate_params_accepts_the_guide_call():
    am.validate_params(params())


def test_validate_params_needs_an_audience_with_client_scope():
    with pytest.raises(KeycloakModuleError) as err:
        am.validate_params(params(client_id=None, client_scope="api-audience"))
    assert "client scope 'api-audience' in realm 'expertflow'" in str(err.value)
    assert "included_client_audience" in str(err.value)
    am.validate_params(params(client_id=None, client_scope="api-audience", included_client_audience="cim"))
    am.validate_params(params(client_id=None, client_scope="api-audience", included_custom_audience="x"))
    am.validate_params(params(client_id=None, client_scope="api-audience", state="absent"))


@pytest.mark.parametrize("blank", ["", "  ", "\t\n"])
@pytest.mark.parametrize(
    "option", ["realm", "name", "client_id", "client_scope", "included_client_audience", "included_custom_audience"])
def test_validate_params_rejects_blank_strings(option, blank):
    """The blank-option branch: every string option, empty or whitespace only, fails by name."""
    given = params(**{option: blank})
    if option == "client_scope":
        given.update(client_id=None, included_custom_audience="urn:x")
    with pytest.raises(KeycloakModuleError) as err:
        am.validate_params(given)
    assert str(err.value) == "%s must not be empty" % option


def test_validate_params_blank_check_comes_first_and_leaves_unset_options_alone():
    # a blank client_scope is reported as such, not as the missing audience of a client scope
    with pytest.raises(KeycloakModuleError) as err:
        am.validate_params(params(client_id=None, client_scope=""))
    assert str(err.value) == "client_scope must not be empty"
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
    config = {"included.client.audience": "cim", "included.custom.audience": "", "id.token.claim": "True",
              "userinfo.token.claim": "true", "bogus": "x"}
    keys = ["included.client.audience", "included.custom.audience", "id.token.claim", "access.token.claim"]
    assert am.normalise_config(config, keys) == {"included.client.audience": "cim", "id.token.claim": "true"}
    assert am.normalise_config(None, keys) == {}


def test_offered_properties_reads_the_audience_mapper_of_the_server():
    admin = FakeAdmin("19.0.1")
    assert am.offered_properties(admin.server_info()) == [
        ("included.client.audience", None), ("included.custom.audience", None),
        ("id.token.claim", "false"), ("access.token.claim", "true"),
    ]
    names = [prop[0] for prop in am.offered_properties(FakeAdmin("26.7.3").server_info())]
    assert "lightweight.claim" in names and "introspection.token.claim" in names


def test_offered_properties_errors():
    with pytest.raises(KeycloakModuleError, match="no 'openid-connect' protocol mapper types"):
        am.offered_properties({"protocolMapperTypes": {}})
    with pytest.raises(KeycloakModuleError, match="has no 'oidc-audience-mapper'"):
        am.offered_properties({"protocolMapperTypes": {"openid-connect": [{"id": "other"}]}})


def test_desired_config_defaults_to_the_client_as_audience():
    warnings = Warnings()
    desired, managed = am.desired_config(params(), am.offered_properties(FakeAdmin().server_info()), "X", warnings)
    assert desired == {"included.client.audience": "cim", "id.token.claim": "true", "access.token.claim": "true"}
    assert managed == ["included.client.audience", "included.custom.audience", "id.token.claim", "access.token.claim"]
    assert warnings == []


def test_desired_config_custom_audience_manages_the_client_audience_away():
    desired, managed = am.desired_config(params(included_custom_audience="urn:x", add_to_id_token=False),
                                         am.offered_properties(FakeAdmin().server_info()), "X", Warnings())
    assert desired == {"included.custom.audience": "urn:x", "id.token.claim": "false", "access.token.claim": "true"}
    assert "included.client.audience" in managed


def test_desired_config_sends_optional_flags_only_where_offered():
    props26 = am.offered_properties(FakeAdmin("26.7.3").server_info())
    props19 = am.offered_properties(FakeAdmin("19.0.1").server_info())
    p = params(add_to_introspection=False, add_to_lightweight_token=True)
    warnings = Warnings()
    desired, managed = am.desired_config(p, props26, "client 'cim' in realm 'expertflow'", warnings)
    assert desired["introspection.token.claim"] == "false" and desired["lightweight.claim"] == "true"
    assert "lightweight.claim" in managed and warnings == []
    desired, managed = am.desired_config(p, props19, "client 'cim' in realm 'expertflow'", warnings)
    assert "introspection.token.claim" not in desired and "lightweight.claim" not in managed
    assert len(warnings) == 2
    assert warnings[0].startswith("add_to_introspection=false is ignored for mapper 'fix-audience' of client 'cim'")
    assert "'introspection.token.claim'" in warnings[0]
    assert warnings[1].startswith("add_to_lightweight_token=true is ignored")


def test_create_defaults_use_the_server_default_where_offered():
    props26 = am.offered_properties(FakeAdmin("26.7.3").server_info())
    assert am.create_defaults(params(), props26) == {"introspection.token.claim": "true", "lightweight.claim": "false"}
    assert am.create_defaults(params(add_to_lightweight_token=True), props26) == {"introspection.token.claim": "true"}
    assert am.create_defaults(params(), am.offered_properties(FakeAdmin("19.0.1").server_info())) == {}
    no_default = [("introspection.token.claim", None), ("lightweight.claim", "")]
    assert am.create_defaults(params(), no_default) == {"introspection.token.claim": "true", "lightweight.claim": "false"}


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
    assert "client 'cim' in realm 'expertflow' already has a mapper named 'other' of type" \
           " 'oidc-hardcoded-claim-mapper'" in str(err.value)
    saml = [{"id": "3", "name": "fix-audience", "protocol": "saml", "protocolMapper": "oidc-audience-mapper"}]
    with pytest.raises(KeycloakModuleError, match="protocol 'saml'"):
        am.find_mapper(saml, "fix-audience", "X")


def test_differences_ignore_unmanaged_and_server_added_keys():
    managed = ["included.client.audience", "included.custom.audience", "id.token.claim", "access.token.claim"]
    current = {"config": {"included.client.audience": "cim", "id.token.claim": "True", "access.token.claim": "true",
                          "userinfo.token.claim": "true", "introspection.token.claim": "true",
                          "included.custom.audience": ""}}
    desired = {"included.client.audience": "cim", "id.token.claim": "true", "access.token.claim": "true"}
    assert am.differences(current, desired, managed) == []
    desired["id.token.claim"] = "false"
    assert am.differences(current, desired, managed) == ["id.token.claim"]
    assert am.differences(None, {"included.custom.audience": "x"}, managed) == ["included.custom.audience"]


def test_build_payloads():
    payload = am.build_create_payload("fix-audience", {"id.token.claim": "true", "included.client.audience": "cim"},
                                      {"lightweight.claim": "false"})
    assert payload == {"name": "fix-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                       "consentRequired": False,
                       "config": {"included.client.audience": "cim", "id.token.claim": "true", "lightweight.claim": "false"}}
    assert list(payload["config"]) == ["included.client.audience", "id.token.claim", "lightweight.claim"]
    current = {"id": "9", "name": "fix-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
               "consentRequired": True,
               "config": {"included.client.audience": "cim", "id.token.claim": "true", "userinfo.token.claim": "true",
                          "zz": "keep"}}
    update = am.build_update_payload(current, {"included.custom.audience": "urn:x", "id.token.claim": "false"},
                                     ["included.client.audience", "included.custom.audience", "id.token.claim"])
    assert update["id"] == "9" and update["consentRequired"] is True
    assert update["config"] == {"included.custom.audience": "urn:x", "id.token.claim": "false",
                                "userinfo.token.claim": "true", "zz": "keep"}
    assert current["config"]["included.client.audience"] == "cim"  # the input is not modified


# --------------------------------------------------------------------------- ensure: present


@pytest.mark.parametrize("version", ["26.7.3", "19.0.1"])
def test_create_then_idempotent(version):
    admin = FakeAdmin(version)
    cim = admin.uuid_of("cim")
    result, warnings = run(admin)
    assert result["changed"] is True and warnings == []
    assert result["client_uuid"] == cim and result["client_scope_id"] is None
    [write] = admin.writes
    assert write[0] == "POST" and write[1] == cim
    expected = dict(GUIDE_CONFIG_26) if version.startswith("26") else {
        "included.client.audience": "cim", "id.token.claim": "true", "access.token.claim": "true"}
    assert write[2]["config"] == expected
    assert write[2]["protocolMapper"] == "oidc-audience-mapper" and write[2]["name"] == "fix-audience"
    # the result is the mapper as read back, with the server's own additions
    assert result["mapper"] == admin.mappers[cim][0]
    assert result["mapper"]["id"]
    assert result["diff"] == {"before": {}, "after": result["mapper"]}

    again = run(admin)[0]
    assert again["changed"] is False
    assert len(admin.writes) == 1
    assert again["mapper"] == result["mapper"]
    assert again["diff"]["before"] == again["diff"]["after"] == result["mapper"]


def test_check_mode_create_predicts_and_writes_nothing():
    admin = FakeAdmin()
    result = run(admin, check_mode=True)[0]
    assert result["changed"] is True
    assert admin.writes == []
    assert result["mapper"]["config"] == GUIDE_CONFIG_26
    assert "id" not in result["mapper"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"] == result["mapper"]
    # the real run does what check mode predicted
    real = run(admin)[0]
    assert real["changed"] is True
    assert real["mapper"]["config"] == dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true"})
    assert {k: v for k, v in real["mapper"].items() if k not in ("id", "config")} == {
        k: v for k, v in result["mapper"].items() if k != "config"}


def test_update_in_place_keeps_unmanaged_keys_and_other_mappers():
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    other = admin.put_mapper(cim, "hardcoded", {"claim.name": "x", "claim.value": "y"},
                             mapper_type="oidc-hardcoded-claim-mapper")
    mine = admin.put_mapper(cim, "fix-audience", dict(GUIDE_CONFIG_26, **{"userinfo.token.claim": "true",
                                                                          "custom.key": "kept"}))
    other_before = copy.deepcopy(other)

    check = run(admin, check_mode=True, add_to_id_token=False)[0]
    assert check["changed"] is True and admin.writes == []
    assert check["mapper"]["id"] == mine["id"]
    assert check["mapper"]["config"]["id.token.claim"] == "false"
    assert check["diff"]["before"]["config"]["id.token.claim"] == "true"

    result = run(admin, add_to_id_token=False)[0]
    assert result["changed"] is True
    [write] = admin.writes
    assert write[0] == "PUT" and write[2] == mine["id"]
    expected = dict(GUIDE_CONFIG_26)
    expected.update({"id.token.claim": "false", "userinfo.token.claim": "true", "custom.key": "kept"})
    assert write[3]["config"] == expected
    assert result["mapper"] == check["mapper"]  # check mode predicted the end state exactly
    assert admin.mappers[cim][0] == other_before
    assert run(admin, add_to_id_token=False)[0]["changed"] is False


def test_unset_optional_flags_are_left_alone_on_update():
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    admin.put_mapper(cim, "fix-audience", dict(GUIDE_CONFIG_26, **{"introspection.token.claim": "false",
                                                                   "lightweight.claim": "true"}))
    assert run(admin)[0]["changed"] is False
    result = run(admin, add_to_introspection=True)[0]
    assert result["changed"] is True
    assert result["mapper"]["config"]["introspection.token.claim"] == "true"
    assert result["mapper"]["config"]["lightweight.claim"] == "true"


def test_mapper_made_by_the_console_with_string_case_and_empty_values_is_up_to_date():
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    admin.put_mapper(cim, "fix-audience", {"included.client.audience": "cim", "included.custom.audience": "",
                                           "id.token.claim": "True", "access.token.claim": "TRUE",
                                           "userinfo.token.claim": "false"})
    result = run(admin)[0]
    assert result["changed"] is False and admin.writes == []


def test_switch_to_custom_audience_removes_the_client_audience():
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    admin.put_mapper(cim, "fix-audience", GUIDE_CONFIG_26)
    result = run(admin, included_custom_audience="urn:cx:api")[0]
    assert result["changed"] is True
    config = result["mapper"]["config"]
    assert config["included.custom.audience"] == "urn:cx:api"
    assert "included.client.audience" not in config
    assert run(admin, included_custom_audience="urn:cx:api")[0]["changed"] is False


def test_other_audience_client_is_checked_and_used():
    admin = FakeAdmin()
    result = run(admin, included_client_audience="account")[0]
    assert result["mapper"]["config"]["included.client.audience"] == "account"
    assert ("GET", "admin/realms/expertflow/clients", {"clientId": "account"}) in admin.calls


def test_warning_on_19_for_explicit_new_flags_and_nothing_sent():
    admin = FakeAdmin("19.0.1")
    result, warnings = run(admin, add_to_lightweight_token=False)
    assert result["changed"] is True
    assert len(warnings) == 1 and "add_to_lightweight_token=false is ignored" in warnings[0]
    assert "lightweight.claim" not in admin.writes[0][2]["config"]
    assert run(admin, add_to_lightweight_token=False)[0]["changed"] is False


# --------------------------------------------------------------------------- ensure: absent


def test_absent_deletes_only_this_mapper():
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    other = admin.put_mapper(cim, "hardcoded", {"claim.name": "x"}, mapper_type="oidc-hardcoded-claim-mapper")
    mine = admin.put_mapper(cim, "fix-audience", GUIDE_CONFIG_26)

    check = run(admin, check_mode=True, state="absent")[0]
    assert check["changed"] is True and admin.writes == [] and check["mapper"] is None
    assert check["diff"] == {"before": mine, "after": {}}

    result = run(admin, state="absent")[0]
    assert result["changed"] is True and result["mapper"] is None
    assert admin.writes == [("DELETE", cim, mine["id"])]
    assert admin.mappers[cim] == [other]

    again = run(admin, state="absent")[0]
    assert again["changed"] is False and len(admin.writes) == 1
    assert again["diff"] == {"before": {}, "after": {}}


def test_absent_does_not_need_server_info_nor_audience_lookup():
    admin = FakeAdmin()
    admin.fail_paths["admin/serverinfo"] = 500
    result = run(admin, state="absent", included_client_audience="nope")[0]
    assert result["changed"] is False
    assert not any(call[1] == "admin/serverinfo" for call in admin.calls if call[0] == "GET")


# --------------------------------------------------------------------------- ensure: errors before any write


def test_unknown_client():
    admin = FakeAdmin()
    with pytest.raises(KeycloakModuleError) as err:
        run(admin, client_id="nope")
    assert str(err.value) == "client 'nope' does not exist in realm 'expertflow'"
    assert admin.writes == []


def test_unknown_audience_client():
    admin = FakeAdmin()
    with pytest.raises(KeycloakModuleError) as err:
        run(admin, included_client_audience="nope")
    assert str(err.value) == ("included_client_audience 'nope' names no client in realm 'expertflow'"
                              " (mapper 'fix-audience' of client 'cim' in realm 'expertflow')")
    assert admin.writes == []


@pytest.mark.parametrize("state", ["present", "absent"])
def test_same_name_of_another_type_is_an_error(state):
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    admin.put_mapper(cim, "fix-audience", {"claim.name": "aud"}, mapper_type="oidc-hardcoded-claim-mapper")
    with pytest.raises(KeycloakModuleError, match="already has a mapper named 'fix-audience' of type"):
        run(admin, state=state)
    assert admin.writes == []


@pytest.mark.parametrize(
    "kwargs, action",
    [({}, "create"), ({"add_to_id_token": False}, "update"), ({"state": "absent"}, "delete")],
)
@pytest.mark.parametrize("check_mode", [False, True])
def test_no_permission_is_found_before_any_write(kwargs, action, check_mode):
    admin = FakeAdmin(configure=False)
    cim = admin.uuid_of("cim")
    if action != "create":
        admin.put_mapper(cim, "fix-audience", GUIDE_CONFIG_26)
    with pytest.raises(KeycloakModuleError) as err:
        run(admin, check_mode=check_mode, **kwargs)
    assert str(err.value).startswith(
        "no permission to %s mapper 'fix-audience' on client 'cim' in realm 'expertflow'" % action)
    assert "manage-clients" in str(err.value)
    assert admin.writes == []


def test_no_permission_does_not_matter_when_nothing_changes():
    admin = FakeAdmin(configure=False)
    admin.put_mapper(admin.uuid_of("cim"), "fix-audience", GUIDE_CONFIG_26)
    assert run(admin)[0]["changed"] is False
    assert run(admin, state="absent", name="missing")[0]["changed"] is False


def test_server_without_access_flags_and_a_403_on_the_write():
    admin = FakeAdmin(with_access=False)
    admin.fail_writes = 403
    with pytest.raises(KeycloakModuleError) as err:
        run(admin)
    message = str(err.value)
    assert message.startswith("creating mapper 'fix-audience' on client 'cim' in realm 'expertflow' failed")
    assert "no permission" in message and "403" in message


def test_403_on_reading_the_client():
    admin = FakeAdmin()
    admin.fail_paths["admin/realms/expertflow/clients"] = 403
    with pytest.raises(KeycloakModuleError) as err:
        run(admin)
    assert "reading client 'cim' in realm 'expertflow' failed" in str(err.value)
    assert "no permission" in str(err.value)


def test_server_info_failure_names_the_mapper_and_client():
    admin = FakeAdmin()
    admin.fail_paths["admin/serverinfo"] = 500
    with pytest.raises(KeycloakModuleError) as err:
        run(admin)
    assert str(err.value).startswith("mapper 'fix-audience' on client 'cim' in realm 'expertflow': reading the server info")
    assert admin.writes == []


def test_mapper_that_vanishes_after_the_write():
    admin = FakeAdmin()
    cim = admin.uuid_of("cim")
    original = admin._create

    def create_elsewhere(owner, payload):
        return original(admin.uuid_of("account"), payload)

    admin._create = create_elsewhere
    with pytest.raises(KeycloakModuleError, match="cannot be read back"):
        run(admin)
    assert admin.mappers[cim] == []


# --------------------------------------------------------------------------- ensure: client scope


def test_client_scope_variant():
    admin = FakeAdmin()
    scope = admin.scope_uuid("api-audience")
    kwargs = dict(client_id=None, client_scope="api-audience", included_client_audience="cim")
    check = run(admin, check_mode=True, **kwargs)[0]
    assert check["changed"] is True and admin.writes == []
    result = run(admin, **kwargs)[0]
    assert result["changed"] is True
    assert result["client_uuid"] is None and result["client_scope_id"] == scope
    assert admin.writes[0][:2] == ("POST", scope)
    assert result["mapper"]["config"]["included.client.audience"] == "cim"
    assert admin.mappers[admin.uuid_of("cim")] == []
    assert run(admin, **kwargs)[0]["changed"] is False
    updated = run(admin, add_to_access_token=False, **kwargs)[0]
    assert updated["changed"] is True and admin.writes[-1][0] == "PUT"
    assert updated["mapper"]["config"]["access.token.claim"] == "false"
    gone = run(admin, state="absent", **kwargs)[0]
    assert gone["changed"] is True and admin.writes[-1][0] == "DELETE" and admin.mappers[scope] == []


def test_client_scope_errors():
    admin = FakeAdmin()
    with pytest.raises(KeycloakModuleError) as err:
        run(admin, client_id=None, client_scope="nope", included_client_audience="cim")
    assert str(err.value) == "client scope 'nope' does not exist in realm 'expertflow'"
    with pytest.raises(KeycloakModuleError, match="is a 'saml' scope"):
        run(admin, client_id=None, client_scope="saml-scope", included_client_audience="cim")
    with pytest.raises(KeycloakModuleError, match="included_client_audience 'nope' names no client"):
        run(admin, client_id=None, client_scope="api-audience", included_client_audience="nope")
    admin.fail_paths["scopes"] = 403
    with pytest.raises(KeycloakModuleError, match="reading the client scopes of realm 'expertflow' failed"):
        run(admin, client_id=None, client_scope="api-audience", included_client_audience="cim")
    assert admin.writes == []


@pytest.mark.parametrize("existing, action", [(False, "creating"), (True, "updating"), (True, "deleting")])
def test_client_scope_without_rights_fails_on_the_write_and_writes_nothing(existing, action):
    """Client scopes carry no access flags: a missing right is Keycloak's 403 on the one write."""
    admin = FakeAdmin()
    scope = admin.scope_uuid("api-audience")
    kwargs = dict(client_id=None, client_scope="api-audience", included_client_audience="cim")
    if existing:
        admin.put_mapper(scope, "fix-audience", dict(GUIDE_CONFIG_26, **{"access.token.claim": "false"}))
    if action == "deleting":
        kwargs["state"] = "absent"
    before = copy.deepcopy(admin.mappers[scope])
    admin.fail_writes = 403
    # check mode writes nothing, so it cannot see the missing right: it predicts the change
    assert run(admin, check_mode=True, **kwargs)[0]["changed"] is True
    with pytest.raises(KeycloakModuleError) as err:
        run(admin, **kwargs)
    message = str(err.value)
    preposition = "from" if action == "deleting" else "on"
    assert message.startswith("%s mapper 'fix-audience' %s client scope 'api-audience' in realm 'expertflow' failed"
                              % (action, preposition))
    assert "no permission" in message and "(403" in message
    assert admin.writes == [] and admin.mappers[scope] == before

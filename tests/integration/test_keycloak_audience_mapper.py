"""Integration tests of cx.api_auth.keycloak_audience_mapper against real Keycloak servers.

Every test runs once per server of the ``keycloak`` fixture (26.x at ``/`` and 19.x under
``/auth``), in a realm of its own seeded by the fixture's helper and deleted afterwards.
The module runs through the real ``ansible`` CLI (``run_module``); what it did is checked
with the fixture's own admin REST helper, independent of the code under test, and by the
tokens Keycloak then issues to client ``cim``: the access token's ``aud`` for the default
audience ``cim``, both tokens for another audience client (the ID token of ``cim`` always
names ``cim``, so it proves nothing about a mapper for ``cim``).
"""

import json

import pytest

from ._runner import run_module
from .helpers import Tenant, assert_mentions, audiences, warnings_in

pytestmark = pytest.mark.keycloak

MODULE = "keycloak_audience_mapper"
USER = "aud-probe"
USER_PASSWORD = "Probe-pw-4711"
LIMITED_USER = "viewer"
LIMITED_PASSWORD = "Viewer-pw-4711"


# --------------------------------------------------------------------------- helpers


class MapperTenant(Tenant):
    """A tenant realm, plus what these tests read back: the protocol mappers of a client."""

    def args(self, **kwargs):
        kwargs.setdefault("client_id", self.client_id)
        return super().args(**kwargs)

    def mappers(self, uuid=None):
        return self.kc.rest(
            "GET", "realms/%s/clients/%s/protocol-mappers/models" % (self.realm, uuid or self.client_uuid)
        )

    def snapshot(self, uuid=None):
        """The client's mappers as canonical JSON text, for before/after comparisons."""
        return json.dumps(sorted(self.mappers(uuid), key=lambda m: m["id"]), sort_keys=True)

    def mapper(self, name="fix-audience", uuid=None):
        found = [m for m in self.mappers(uuid) if m["name"] == name]
        assert len(found) <= 1
        return found[0] if found else None

    def create_client(self, client_id):
        return self.kc.rest(
            "POST",
            "realms/%s/clients" % self.realm,
            json={
                "clientId": client_id,
                "enabled": True,
                "publicClient": False,
                "bearerOnly": False,
                "protocol": "openid-connect",
            },
        )

    def tokens(self, username=USER, password=USER_PASSWORD):
        """Password grant at client cim; returns the decoded (access, id) token payloads."""
        return super().tokens(username, password)


def without_id(mapper):
    """A mapper as the diff shows it: without the id, which only the server assigns."""
    return {k: v for k, v in mapper.items() if k != "id"}


def run_ok(args, **kwargs):
    result, output = run_module(MODULE, args, **kwargs)
    assert "FAILED!" not in output, output
    return result


def run_fail(args, **kwargs):
    result, output = run_module(MODULE, args, **kwargs)
    assert "FAILED!" in output, output
    assert result.get("changed") is False
    return result["msg"]


@pytest.fixture
def tenant_realm(make_tenant):
    """A realm of its own for each test (client cim and a test user), deleted afterwards."""
    tenant = make_tenant(kind=MapperTenant)
    tenant.add_login_user(USER, USER_PASSWORD)
    return tenant


# --------------------------------------------------------------------------- the guide's step


def test_create_check_rerun_and_token_effect(tenant_realm):
    t = tenant_realm
    access, id_token = t.tokens()
    assert "cim" not in audiences(access), "precondition: without the mapper cim is not an audience of the access token"
    # Precondition, not a proof of anything the module does: Keycloak always puts the
    # requesting client (cim) into the aud of the ID token it issues, mapper or not, so the
    # ID token of cim cannot show the mapper's effect for cim. The mapper's id.token.claim
    # is proven with another client as the audience in
    # test_add_to_id_token_really_controls_the_id_token.
    assert audiences(id_token) == ["cim"]
    before = t.snapshot()

    check = run_ok(t.args(), check=True, diff=True)
    assert check["changed"] is True
    where = "mapper 'fix-audience' on client 'cim' in realm '%s'" % t.realm
    assert check["msg"] == "Would create " + where
    assert check["diff"]["before"] == {}
    assert check["mapper"]["config"]["included.client.audience"] == "cim"
    assert check["mapper"]["config"]["id.token.claim"] == "true"
    assert check["client_uuid"] == t.client_uuid
    assert t.snapshot() == before, "check mode wrote to the server"

    result = run_ok(t.args(), diff=True)
    assert result["changed"] is True and result["msg"] == "Created " + where
    stored = t.mapper()
    assert result["mapper"] == stored
    assert result["diff"] == {"before": {}, "after": without_id(stored)}  # the id is the server's alone
    assert result["client_uuid"] == t.client_uuid
    assert stored["protocolMapper"] == "oidc-audience-mapper"
    assert stored["protocol"] == "openid-connect"
    config = stored["config"]
    assert config["included.client.audience"] == "cim"
    assert config["id.token.claim"] == "true"
    assert config["access.token.claim"] == "true"
    if t.kc.version.startswith("26"):
        assert config["introspection.token.claim"] == "true"
        assert config["lightweight.claim"] == "false"
    else:
        assert "introspection.token.claim" not in config and "lightweight.claim" not in config
    # the predicted state was right, settings the server adds by itself included; only the id is new
    assert check["mapper"] == without_id(stored) and check["diff"] == result["diff"]

    # The proof for cim: the access token now names it as an audience (the ID token always did).
    access = t.tokens()[0]
    assert "cim" in audiences(access)

    again = run_ok(t.args(), diff=True)
    assert again["changed"] is False and again["msg"] == "Mapper %s is up to date" % where[len("mapper ") :]
    assert again["mapper"] == stored
    assert again["diff"]["before"] == again["diff"]["after"]
    assert run_ok(t.args(), check=True)["msg"] == again["msg"]
    assert t.mapper() == stored


def test_update_absent_and_check_mode(tenant_realm):
    t = tenant_realm
    created = run_ok(t.args())["mapper"]

    before = t.snapshot()
    where = "mapper 'fix-audience' on client 'cim' in realm '%s'" % t.realm
    check = run_ok(t.args(add_to_id_token=False), check=True, diff=True)
    assert check["changed"] is True and check["msg"] == "Would update %s (change id.token.claim)" % where
    assert check["diff"]["before"]["config"]["id.token.claim"] == "true"
    assert check["diff"]["after"]["config"]["id.token.claim"] == "false"
    assert t.snapshot() == before, "check mode wrote to the server"

    result = run_ok(t.args(add_to_id_token=False))
    assert result["changed"] is True and result["msg"] == "Updated %s (changed id.token.claim)" % where
    stored = t.mapper()
    assert stored["id"] == created["id"], "the mapper must be updated in place"
    assert stored["config"]["id.token.claim"] == "false"
    assert result["mapper"] == stored == check["mapper"]
    assert run_ok(t.args(add_to_id_token=False))["changed"] is False
    access = t.tokens()[0]
    assert "cim" in audiences(access)

    before = t.snapshot()
    check = run_ok(t.args(state="absent"), check=True, diff=True)
    assert check["changed"] is True and check["mapper"] is None and check["msg"] == "Would delete " + where
    assert check["diff"] == {"before": without_id(stored), "after": {}}
    assert t.snapshot() == before, "check mode wrote to the server"

    result = run_ok(t.args(state="absent"))
    assert result["changed"] is True and result["msg"] == "Deleted " + where
    assert t.mapper() is None
    access = t.tokens()[0]
    assert "cim" not in audiences(access)
    again = run_ok(t.args(state="absent"))
    assert again["changed"] is False and again["msg"] == "Mapper %s is already absent" % where[len("mapper ") :]
    assert run_ok(t.args(state="absent"), check=True)["changed"] is False


def test_add_to_id_token_really_controls_the_id_token(tenant_realm):
    """With another client as audience the ID token shows the flag's effect both ways.

    Unlike cim (the requesting client, always in the ID token's aud), cx-gateway gets into
    a token of cim only through the mapper, so both tokens prove what it does.
    """
    t = tenant_realm
    t.create_client("cx-gateway")
    access, id_token = t.tokens()
    assert "cx-gateway" not in audiences(access) and "cx-gateway" not in audiences(id_token)

    run_ok(t.args(included_client_audience="cx-gateway"))
    assert t.mapper()["config"]["included.client.audience"] == "cx-gateway"
    access, id_token = t.tokens()
    assert "cx-gateway" in audiences(access) and "cx-gateway" in audiences(id_token)

    assert run_ok(t.args(included_client_audience="cx-gateway", add_to_id_token=False))["changed"] is True
    access, id_token = t.tokens()
    assert "cx-gateway" in audiences(access) and "cx-gateway" not in audiences(id_token)

    result = run_ok(t.args(included_custom_audience="urn:cx:api", add_to_access_token=False))
    assert result["changed"] is True
    config = t.mapper()["config"]
    assert config["included.custom.audience"] == "urn:cx:api"
    assert "included.client.audience" not in config
    access, id_token = t.tokens()
    assert "urn:cx:api" not in audiences(access) and "urn:cx:api" in audiences(id_token)
    assert "cx-gateway" not in audiences(access)


def test_other_mappers_untouched(tenant_realm):
    t = tenant_realm
    t.kc.rest(
        "POST",
        "realms/%s/clients/%s/protocol-mappers/models" % (t.realm, t.client_uuid),
        json={
            "name": "tenant-claim",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-hardcoded-claim-mapper",
            "config": {
                "claim.name": "tenant",
                "claim.value": "acme",
                "jsonType.label": "String",
                "access.token.claim": "true",
                "id.token.claim": "false",
            },
        },
    )
    other = json.dumps(t.mapper("tenant-claim"), sort_keys=True)
    run_ok(t.args())
    assert json.dumps(t.mapper("tenant-claim"), sort_keys=True) == other
    run_ok(t.args(add_to_id_token=False, add_to_access_token=False))
    assert json.dumps(t.mapper("tenant-claim"), sort_keys=True) == other
    run_ok(t.args(state="absent"))
    assert json.dumps(t.mapper("tenant-claim"), sort_keys=True) == other
    assert [m["name"] for m in t.mappers()] == ["tenant-claim"]


def test_same_name_of_another_type_is_an_error(tenant_realm):
    t = tenant_realm
    t.kc.rest(
        "POST",
        "realms/%s/clients/%s/protocol-mappers/models" % (t.realm, t.client_uuid),
        json={
            "name": "fix-audience",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-hardcoded-claim-mapper",
            "config": {"claim.name": "aud2", "claim.value": "x", "access.token.claim": "true"},
        },
    )
    before = t.snapshot()
    for state in ("present", "absent"):
        msg = run_fail(t.args(state=state))
        assert_mentions(msg, "client 'cim'", "realm '%s'" % t.realm, "'fix-audience'", "'oidc-hardcoded-claim-mapper'")
    assert t.snapshot() == before


def test_a_saml_mapper_of_the_same_name_is_left_untouched(tenant_realm):
    """Issue 18: a SAML mapper named fix-audience beside the OIDC one failed the run; mappers match by protocol."""
    t = tenant_realm
    t.kc.rest(
        "POST",
        "realms/%s/clients/%s/protocol-mappers/models" % (t.realm, t.client_uuid),
        json={
            "name": "fix-audience",
            "protocol": "saml",
            "protocolMapper": "saml-audience-mapper",
            "config": {"included.client.audience": "cim"},
        },
    )

    def of(protocol):
        found = [m for m in t.mappers() if m["name"] == "fix-audience" and m["protocol"] == protocol]
        assert len(found) <= 1
        return json.dumps(found[0], sort_keys=True) if found else None

    saml = of("saml")
    assert saml is not None
    assert run_ok(t.args())["changed"] is True  # created beside the SAML one
    oidc = json.loads(of("openid-connect"))
    assert oidc["protocolMapper"] == "oidc-audience-mapper" and oidc["config"]["included.client.audience"] == "cim"
    assert "cim" in audiences(t.tokens()[0])
    assert run_ok(t.args(add_to_id_token=False))["changed"] is True  # updated in place
    assert json.loads(of("openid-connect"))["config"]["id.token.claim"] == "false"
    assert run_ok(t.args(add_to_id_token=False))["changed"] is False
    assert of("saml") == saml
    assert run_ok(t.args(state="absent"))["changed"] is True
    assert of("openid-connect") is None and of("saml") == saml


def test_optional_flags_follow_the_server(tenant_realm):
    t = tenant_realm
    result, output = run_module(MODULE, t.args(add_to_lightweight_token=True, add_to_introspection=False))
    assert "FAILED!" not in output, output
    config = t.mapper()["config"]
    if t.kc.version.startswith("26"):
        assert config["lightweight.claim"] == "true"
        assert config["introspection.token.claim"] == "false"
        assert "is ignored" not in output
    else:
        assert "lightweight.claim" not in config and "introspection.token.claim" not in config
        warnings = warnings_in(output)
        assert_mentions(
            " ".join(w for w in warnings if "add_to_lightweight_token" in w),
            "add_to_lightweight_token=true",
            "ignored",
            "mapper 'fix-audience'",
        )
        assert_mentions(
            " ".join(w for w in warnings if "add_to_introspection" in w), "add_to_introspection=false", "ignored"
        )
    assert result["changed"] is True
    assert run_ok(t.args(add_to_lightweight_token=True, add_to_introspection=False))["changed"] is False
    # leaving them unset keeps what the mapper has
    assert run_ok(t.args())["changed"] is False


# --------------------------------------------------------------------------- client scope


def test_client_scope_variant(tenant_realm):
    t = tenant_realm
    scope_id = t.kc.rest(
        "POST",
        "realms/%s/client-scopes" % t.realm,
        json={
            "name": "cx-api-audience",
            "protocol": "openid-connect",
            "attributes": {"include.in.token.scope": "false", "display.on.consent.screen": "false"},
        },
    )
    t.kc.rest("PUT", "realms/%s/clients/%s/default-client-scopes/%s" % (t.realm, t.client_uuid, scope_id))
    client_mappers = t.snapshot()
    args = t.args(
        client_id=None, client_scope="cx-api-audience", name="api-audience", included_custom_audience="urn:cx:scope"
    )
    scope_path = "realms/%s/client-scopes/%s/protocol-mappers/models" % (t.realm, scope_id)

    check = run_ok(args, check=True)
    assert check["changed"] is True
    assert t.kc.rest("GET", scope_path) == []
    result = run_ok(args)
    assert result["changed"] is True
    assert result["client_scope_id"] == scope_id and result["client_uuid"] is None
    [stored] = t.kc.rest("GET", scope_path)
    assert result["mapper"] == stored
    assert stored["config"]["included.custom.audience"] == "urn:cx:scope"
    assert t.snapshot() == client_mappers, "the client's own mappers must not change"
    access, id_token = t.tokens()
    assert "urn:cx:scope" in audiences(access) and "urn:cx:scope" in audiences(id_token)
    assert run_ok(args)["changed"] is False

    assert run_ok(dict(args, state="absent"))["changed"] is True
    assert t.kc.rest("GET", scope_path) == []

    msg = run_fail(t.args(client_id=None, client_scope="cx-api-audience"))
    assert_mentions(msg, "included_client_audience", "included_custom_audience", "required")
    msg = run_fail(t.args(client_id=None, client_scope="nope", included_client_audience="cim"))
    assert_mentions(msg, "client scope 'nope'", "realm '%s'" % t.realm, "not exist")


# --------------------------------------------------------------------------- errors


def test_unknown_realm(tenant_realm):
    t = tenant_realm
    msg = run_fail(t.args(realm="no-such-realm"))
    assert_mentions(msg, "mapper 'fix-audience'", "realm 'no-such-realm'", "not exist")


def test_unknown_client(tenant_realm):
    t = tenant_realm
    msg = run_fail(t.args(client_id="no-such-client"))
    assert_mentions(msg, "client 'no-such-client'", "realm '%s'" % t.realm, "not exist")


def test_unknown_audience_client(tenant_realm):
    t = tenant_realm
    before = t.snapshot()
    for check in (True, False):
        msg = run_fail(t.args(included_client_audience="no-such-client"), check=check)
        assert_mentions(
            msg,
            "included_client_audience 'no-such-client'",
            "no client",
            "realm '%s'" % t.realm,
            "mapper 'fix-audience'",
        )
    assert t.snapshot() == before


def test_no_permission(tenant_realm):
    """A tenant user with only view-clients may read but not write: clear error, nothing written."""
    t = tenant_realm
    user_id = t.add_login_user(LIMITED_USER, LIMITED_PASSWORD)
    t.grant_client_roles(user_id, "realm-management", ["view-clients"])
    limited = dict(t.args(), auth_username=LIMITED_USER, auth_password=LIMITED_PASSWORD, auth_realm=t.realm)

    before = t.snapshot()
    for check in (True, False):
        msg = run_fail(limited, check=check)
        assert_mentions(
            msg,
            "no permission",
            "create",
            "mapper 'fix-audience'",
            "client 'cim'",
            "realm '%s'" % t.realm,
            "manage-clients",
        )
    assert t.snapshot() == before

    run_ok(t.args())
    before = t.snapshot()
    assert run_ok(limited)["changed"] is False, "reading is allowed"
    msg = run_fail(dict(limited, add_to_id_token=False))
    assert_mentions(msg, "no permission", "update", "mapper 'fix-audience'", "client 'cim'", "realm '%s'" % t.realm)
    msg = run_fail(dict(limited, state="absent"))
    assert_mentions(msg, "no permission", "delete", "mapper 'fix-audience'", "client 'cim'", "realm '%s'" % t.realm)
    assert t.snapshot() == before


def test_admin_password_never_in_output(tenant_realm):
    t = tenant_realm
    password = t.kc.admin_password
    assert password and len(password) >= 8
    for args, check in (
        (t.args(), False),
        (t.args(add_to_id_token=False), True),
        (t.args(client_id="nope"), False),
        (t.args(realm="no-such-realm"), False),
    ):
        result, output = run_module(MODULE, args, check=check, diff=True, verbosity=3)
        assert password not in output
        assert password not in json.dumps(result)
    wrong = dict(t.args(), auth_password="Wrong-" + password)
    result, output = run_module(MODULE, wrong, verbosity=3)
    assert "FAILED!" in output and "rejected the credentials" in result["msg"]
    assert password not in output and "Wrong-" not in output

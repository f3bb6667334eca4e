# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the openid-connect plugin config unit (build, validate per version, mask)."""

import importlib.util
import os

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import schema as facts

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SECRET = "ef61df80-061c-4b1a-9c1e-387e6bf67052"

# The snippet of the "API Authentication - Configuration Guide", as published.
GUIDE_SNIPPET = """
openid-connect:
  enable: true
  discovery: "http://keycloak.ef-external.svc/auth/realms/expertflow/.well-known/openid-configuration"
  realm: "expertflow" # this should be updated with the tanent
  client_id: "cim"   # keycloak client-id
  client_secret: "ef61df80-061c-4b1a-9c1e-387e6bf67052" # keycloak client-secret
  bearer_only: true
  token_signing_alg_values_expected: "RS256"
  set_access_token_header: false
  set_userinfo_header: false
  audience: ["cim", "account", "realm-management"]
  required_scopes: ["email", "profile"]
"""


def params(**overrides):
    """Module params as Ansible would pass them: every option, defaults filled in."""
    values = {name: spec.get("default") for name, spec in oidc.OIDC_PLUGIN_ARGUMENT_SPEC.items()}
    values.update(keycloak_url="http://keycloak.ef-external.svc/auth", realm="expertflow", client_secret=SECRET)
    values.update(overrides)
    return values


# --- build --------------------------------------------------------------------------


def test_defaults_give_the_guide_snippet():
    guide = yaml.safe_load(GUIDE_SNIPPET)["openid-connect"]
    assert oidc.build_config(params(), enable_key=True) == guide
    assert list(oidc.build_config(params(), enable_key=True)) == list(guide)  # the guide's key order
    without_enable = dict(guide)
    del without_enable["enable"]
    assert oidc.build_config(params()) == without_enable


@pytest.mark.parametrize(
    "url, realm, expected",
    [
        (
            "http://keycloak.ef-external.svc/auth",
            "t1",
            "http://keycloak.ef-external.svc/auth/realms/t1/.well-known/openid-configuration",
        ),
        ("https://sso.example.com/", "t1", "https://sso.example.com/realms/t1/.well-known/openid-configuration"),
        (
            "https://sso.example.com",
            "tën:a+b",  # allowed in a realm (one path segment), percent-encoded; "/" and spaces: see test_realm.py
            "https://sso.example.com/realms/t%C3%ABn%3Aa%2Bb/.well-known/openid-configuration",
        ),
    ],
)
def test_discovery_from_keycloak_url(url, realm, expected):
    assert oidc.build_config(params(keycloak_url=url, realm=realm))["discovery"] == expected


def test_discovery_option_wins_and_bad_urls_are_refused():
    config = oidc.build_config(params(discovery="https://idp/x/.well-known/openid-configuration", keycloak_url="bogus"))
    assert config["discovery"] == "https://idp/x/.well-known/openid-configuration"
    with pytest.raises(oidc.PluginConfigError, match="keycloak_url must be an http:// or https:// URL"):
        oidc.build_config(params(keycloak_url="keycloak.svc/auth"))
    with pytest.raises(oidc.PluginConfigError, match="realm is needed"):
        oidc.build_config(params(realm=None))


def test_empty_lists_leave_keys_out_and_extras_merge():
    config = oidc.build_config(
        params(
            audience=[],
            required_scopes=[],
            token_signing_alg_values_expected="",
            extra_config={"ssl_verify": True, "session": {"cookie_name": "c"}, "_meta": {"priority": 5}},
            secret_config={"session": {"secret": "0123456789abcdef"}},
        )
    )
    assert (
        "audience" not in config
        and "required_scopes" not in config
        and "token_signing_alg_values_expected" not in config
    )
    assert config["session"] == {"cookie_name": "c", "secret": "0123456789abcdef"}
    assert config["_meta"] == {"priority": 5} and config["ssl_verify"] is True


@pytest.mark.parametrize("version, flag", [("3.11", {"_meta": {"disable": True}}), ("2.15.3", {"disable": True})])
def test_disabled_flag_per_major_version(version, flag):
    config = oidc.build_config(params(apisix_version=version, extra_config={"_meta": {"priority": 1}}), disabled=True)
    for key, value in flag.items():
        if key == "_meta":
            assert config["_meta"] == {"priority": 1, "disable": True}
        else:
            assert config[key] is value
    assert oidc.is_disabled(config, oidc.resolve_version(version)[0])
    assert list(config)[-1] == list(flag)[0]


def test_enable_key_follows_state():
    assert list(oidc.build_config(params(), enable_key=True).items())[0] == ("enable", True)
    assert list(oidc.build_config(params(), disabled=True, enable_key=True).items())[0] == ("enable", False)


@pytest.mark.parametrize(
    "extra, secret, pattern",
    [
        ({"client_id": "x"}, {}, "extra_config sets client_id: use the option of the same name instead"),
        (
            {},
            {"client_secret": "x", "realm": "y"},
            "secret_config sets client_secret, realm: use the options of the same name",
        ),
        ({"enable": True}, {}, "extra_config sets enable: use write_enable_key"),
        (
            {"session": {"secret": "0123456789abcdef"}},
            {},
            "extra_config holds session.secret: put credentials into secret_config",
        ),
        (
            {"proxy_opts": {"https_proxy_authorization": "Basic x"}},
            {},
            "extra_config holds proxy_opts.https_proxy_authorization",
        ),
        (
            {"session": {"storage": "cookie"}},
            {"session": {"storage": "redis"}},
            "extra_config and secret_config both set session.storage",
        ),
        (
            {"_meta": {"disable": True}},
            {},
            "extra_config sets _meta.disable: true, which switches the plugin off: use state=disabled",
        ),
        ([1], {}, "extra_config must be a dictionary"),
    ],
)
def test_bad_extras(extra, secret, pattern):
    with pytest.raises(oidc.PluginConfigError, match=pattern):
        oidc.build_config(params(extra_config=extra, secret_config=secret))


# --- versions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, wanted, tag",
    [
        ("3.11", (3, 11, 0), "3.11.0"),
        ("3.11.2", (3, 11, 2), "3.11.0"),
        ("3.11.0-debian", (3, 11, 0), "3.11.0"),
        ("v3.2", (3, 2, 0), "3.2.0"),
        ("2.7", (2, 7, 0), "2.5"),
        ("2.0", (2, 0, 0), "2.0"),
        ("3.18.1", (3, 18, 1), "3.18.0"),
    ],
)
def test_resolve_version(text, wanted, tag):
    assert oidc.resolve_version(text)[:2] == (wanted, tag)
    assert oidc.resolve_version(text)[2] == []


def test_versions_outside_the_facts():
    assert "newer than the schema facts (up to 3.18.0)" in oidc.resolve_version("3.19")[2][0]
    with pytest.raises(oidc.PluginConfigError, match="older than the oldest release"):
        oidc.resolve_version("1.5")
    with pytest.raises(oidc.PluginConfigError, match=r"is not a version like 3\.11"):
        oidc.resolve_version("latest")


def test_known_properties_follow_the_history():
    assert "required_scopes" in oidc.known_properties("3.11.0") and "required_scopes" not in oidc.known_properties(
        "3.7.0"
    )
    assert "claim_validator" not in oidc.known_properties("3.11.0") and "claim_validator" in oidc.known_properties(
        "3.12.0"
    )
    assert "_meta" in oidc.known_properties("3.0.0") and "disable" in oidc.known_properties("2.15.3")
    latest = oidc.known_properties(facts.LATEST) - {"_meta"}
    assert latest == set(facts.SCHEMA["properties"])


# --- validation ---------------------------------------------------------------------


def test_guide_config_is_valid_with_the_audience_warning():
    errors, warnings = oidc.validate_config(oidc.build_config(params()), "3.11")
    assert errors == []
    assert warnings == [
        "audience is not enforced by stock APISIX (it is accepted and ignored): audience checks exist from "
        "APISIX 3.12.0 as claim_validator.audience; with 3.11.0, enforce the audience in Keycloak or upgrade"
    ]
    _errors, warnings = oidc.validate_config(oidc.build_config(params()), "3.12")
    assert "use extra_config.claim_validator.audience" in warnings[0]


def test_client_secret_required_until_3_16_then_by_rule():
    config = oidc.build_config(params(client_secret=None))
    assert oidc.validate_config(config, "3.11")[0] == ["client_secret: is required by APISIX 3.11.0"]
    assert oidc.validate_config(config, "3.16")[0] == ["client_secret: is required by APISIX 3.16.0"]
    assert oidc.validate_config(config, "3.17")[0][0].startswith("client_secret: is required by APISIX 3.17.0 unless")
    jwks = oidc.build_config(params(client_secret=None, extra_config={"use_jwks": True}))
    assert oidc.validate_config(jwks, "3.17")[0] == []
    pkce = oidc.build_config(
        params(
            client_secret=None,
            bearer_only=False,
            extra_config={"use_pkce": True},
            secret_config={"session": {"secret": "0123456789abcdef"}},
        )
    )
    assert oidc.validate_config(pkce, "3.17")[0] == []


def test_session_secret_rule_from_3_14():
    config = oidc.build_config(params(bearer_only=False))
    assert oidc.validate_config(config, "3.13")[0] == []
    assert oidc.validate_config(config, "3.14")[0] == [
        "session.secret: is required by APISIX 3.14.0 when bearer_only is false (put it in secret_config)"
    ]
    short = oidc.build_config(params(bearer_only=False, secret_config={"session": {"secret": "short"}}))
    assert oidc.validate_config(short, "3.14")[0] == ["session.secret: must be at least 16 characters long"]


@pytest.mark.parametrize(
    "extra, error",
    [
        ({"timeout": "3"}, "timeout: must be of type integer, got str"),
        ({"timeout": 0}, "timeout: must be at least 1"),
        ({"ssl_verify": "no"}, "ssl_verify: must be of type boolean, got str"),
        ({"unauth_action": "allow"}, "unauth_action: must be one of auth, deny, pass, got 'allow'"),
        (
            {"_meta": {"disabled": True}},
            "_meta.disabled: unknown key (allowed: disable, error_response, filter, pre_function, priority)",
        ),
        ({"_meta": {"error_response": 3}}, "_meta.error_response: does not match any allowed form"),
        ({"session": {"secret": "0123456789abcdef", "storage": "redis"}}, "session.redis: is required"),
        ({"introspection_addon_headers": []}, "introspection_addon_headers: needs at least 1 item(s)"),
        ({"introspection_addon_headers": ["X-A:b"]}, "introspection_addon_headers[0]: must match ^[^:]+$"),
        (
            {"claim_validator": {"audience": {"required": "yes"}}},
            "claim_validator.audience.required: must be of type boolean, got str",
        ),
        ({"dpop": {"enabled": True}}, "dpop.private_key: is required"),
    ],
)
def test_schema_errors_name_the_key(extra, error):
    secret = {}
    if "session" in extra:
        secret = {"session": {"secret": extra["session"].pop("secret")}}
    config = oidc.build_config(params(extra_config=extra, secret_config=secret, apisix_version="3.18"))
    errors, _warnings = oidc.validate_config(config, "3.18")
    assert any(error in message for message in errors), errors


def test_dpop_public_jwk_must_not_hold_private_parts():
    config = oidc.build_config(
        params(
            extra_config={"dpop": {"enabled": True, "public_jwk": {"kty": "EC", "d": "x"}}},
            secret_config={"dpop": {"private_key": "k"}},
        )
    )
    assert oidc.validate_config(config, "3.18")[0] == ["dpop.public_jwk: is not allowed in this form"]
    ok = oidc.build_config(
        params(
            extra_config={"dpop": {"enabled": True, "public_jwk": {"kty": "EC"}}},
            secret_config={"dpop": {"private_key": "k"}},
        )
    )
    assert oidc.validate_config(ok, "3.18")[0] == []


def test_flat_par_dpop_keys_rejected_from_3_18():
    config = oidc.build_config(params(extra_config={"use_par": True}))
    assert oidc.validate_config(config, "3.18")[0] == [
        "use_par: is rejected by APISIX 3.18.0 (use the par/dpop objects)"
    ]
    assert oidc.validate_config(config, "3.17")[0] == []
    assert (
        "use_par: ignored by APISIX 3.17.0 (it is not an openid-connect attribute)"
        in oidc.validate_config(config, "3.17")[1][1]
    )


def test_keys_unknown_to_the_version_warn():
    config = oidc.build_config(params(extra_config={"claim_validator": {"audience": {"required": True}}}))
    _errors, warnings = oidc.validate_config(config, "3.11")
    assert (
        "claim_validator: ignored by APISIX 3.11.0 (it exists from APISIX 3.12.0); stock APISIX accepts unknown keys silently"
        in warnings
    )
    _errors, warnings = oidc.validate_config(oidc.build_config(params()), "3.7")
    assert any(w.startswith("required_scopes: ignored by APISIX 3.7.0 (it exists from APISIX 3.8.0)") for w in warnings)


def test_enable_false_warning_unless_switched_off():
    active = dict(oidc.build_config(params()), enable=False)
    assert any("the plugin stays ACTIVE" in w for w in oidc.validate_config(active, "3.11")[1])
    off = oidc.build_config(params(), disabled=True, enable_key=True)
    assert not any("ACTIVE" in w for w in oidc.validate_config(off, "3.11")[1])


def test_messages_never_carry_secret_values():
    config = oidc.build_config(params(secret_config={"session": {"secret": "tiny-secret"}}, bearer_only=False))
    config["client_secret"] = 12345
    errors, warnings = oidc.validate_config(config, "3.14")
    text = " ".join(errors + warnings)
    assert "tiny-secret" not in text and "12345" not in text
    assert "client_secret: must be of type string, got int" in errors
    assert oidc._show("client_secret", "x") == "(value hidden)"  # pylint: disable=protected-access


def test_validate_rejects_non_mapping():
    assert oidc.validate_config(["x"], "3.11")[0] == ["the plugin config must be a mapping"]


# --- secrets ------------------------------------------------------------------------


def test_mask_config_and_secret_values():
    config = oidc.build_config(
        params(secret_config={"session": {"secret": "0123456789abcdef", "redis": {"password": "pw"}}})
    )
    masked = masking.mask_config(config)
    assert masked["client_secret"] == masking.SECRET_MASK and masked["session"]["secret"] == masking.SECRET_MASK
    assert masked["session"]["redis"]["password"] == masking.SECRET_MASK and masked["client_id"] == "cim"
    assert config["client_secret"] == SECRET  # the original is untouched
    assert sorted(masking.secret_values(config)) == sorted([SECRET, "0123456789abcdef", "pw"])


def test_mask_text():
    text = (
        "  client_secret: \"abc\" # c  \r\n#   client_secret: xyz\n  secret: 'a''b'\n"
        '  password: |\n  key: v\n  client_secret: "a # b"   \n  note: it\'s a\\"b"\n'
    )
    masked = masking.mask_text(text, ['a"b'])
    assert masked == (
        "  client_secret: \"********\" # c  \r\n#   client_secret: ********\n  secret: '********'\n"
        '  password: |\n  key: ********\n  client_secret: "********"   \n  note: it\'s ********"\n'
    )
    text = (
        "a:\n  key_type: var\n  key: remote_addr # count per client\n  hmac: {access_key: ak1, \"secret_key\": 's k', n: [1]}\n"
        "#   token: tt\r\n  - adminKey: xx\n  enable: true\n#  password: >-\n#    line one\n#\n#    two\n#  set_access_token_header: true\n"
        "  api_token: |\n    p1\n\n    p2\n  x: {secret: y}\n  session_secret_x: 1\n"
    )
    assert masking.mask_text(text) == (
        "a:\n  key_type: var\n  key: ******** # count per client\n  hmac: {access_key: ********, \"secret_key\": '********', n: [1]}\n"
        "#   token: ********\r\n  - adminKey: ********\n  enable: true\n#  password: >-\n#    ********\n#\n#    ********\n"
        "#  set_access_token_header: true\n  api_token: |\n    ********\n\n    ********\n  x: {secret: ********}\n  session_secret_x: 1\n"
    )
    assert masking.mask_text(None) is None


@pytest.mark.parametrize(
    "text, masked",
    [
        ("http://user:PASS@proxy:3128", "http://user:********@proxy:3128"),
        ("https://u:p@ss:w0rd@kc/auth/realms/r", "https://u:********@kc/auth/realms/r"),  # up to the last @
        ("https://TOKEN@host/x", "https://********@host/x"),  # a user alone is often a token
        ("socks5h://u:pw@proxy", "socks5h://u:********@proxy"),
        ('{"http_proxy": "http://u:pw@p:1", "x": "a@b"}', '{"http_proxy": "http://u:********@p:1", "x": "a@b"}'),
        ("    http_proxy: 'http://u:pw@p:1' # c\n", "    http_proxy: 'http://u:********@p:1' # c\n"),
        ("{a: http://u:pw@p, b: c@d}", "{a: http://u:********@p, b: c@d}"),
        ("mail me: a@b.example, http://h/a@b", "mail me: a@b.example, http://h/a@b"),  # no userinfo: as is
        ("http://u:********@p", "http://u:********@p"),
    ],
)
def test_mask_urls(text, masked):
    assert masking.mask_urls(text) == masked
    assert masking.mask_text(text) == masking.mask_text(masked)


def test_url_credentials_masked_in_config_results_and_text():
    config = {"proxy_opts": {"http_proxy": "http://u:PW1@p:1", "https_proxy": "http://u:PW2@p:1"}, "n": 1}
    assert masking.mask_config(config)["proxy_opts"] == {
        "http_proxy": "http://u:********@p:1",
        "https_proxy": "http://u:********@p:1",
    }
    assert config["proxy_opts"]["http_proxy"] == "http://u:PW1@p:1"  # the original is untouched
    nested = masking.mask_urls_in({"a": ["http://u:PW@h", ("x", 2)], "http://k:PW@h": None})
    assert nested == {"a": ["http://u:********@h", ("x", 2)], "http://k:********@h": None}
    assert "PW" not in masking.mask_text("  http_proxy: http://u:PW@p:1\n#  https_proxy: http://u:PW@p\n")


def test_changed_secrets_and_note():
    before = {"client_secret": "a", "session": {"secret": "s"}, "realm": "r"}
    assert masking.changed_secrets(before, dict(before, realm="x")) == []
    assert masking.changed_secrets(before, dict(before, client_secret="b")) == ["client_secret"]
    assert masking.changed_secrets(before, {"client_secret": "a"}) == ["session.secret"]
    assert masking.changed_secrets(None, before) == []
    assert masking.secret_change_note(["client_secret"]) == "# client_secret changed (values not shown)\n"
    assert masking.secret_change_note([]) == ""


# --- facts, documentation -----------------------------------------------------------


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_apisix_schema", os.path.join(ROOT, "tools", "gen_apisix_schema.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_schema_module_is_up_to_date():
    with open(os.path.join(ROOT, "plugins", "module_utils", "_apisix", "schema.py"), encoding="utf-8") as handle:
        assert handle.read() == _generator().render()


def test_generator_refuses_unknown_keywords():
    with pytest.raises(SystemExit, match="unsupported JSON schema keyword 'format' at"):
        _generator()._strip({"properties": {"x": {"type": "string", "format": "uri"}}})  # pylint: disable=protected-access

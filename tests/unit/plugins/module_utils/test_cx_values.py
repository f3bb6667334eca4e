# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_cx (the table of places and the read-only values check)."""

import json
import pathlib

import pytest

from ansible_collections.cx.api_auth.plugins.module_utils._cx import places, values_check
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "cx"
PUBLISHED = places.PUBLISHED_CIM_SECRET
KC_SECRET = "Kc-held-cim-secret-5e1b9a"
VAULT_PASSWORD = "Vault-customer-pass-77q"
FILES = ("ef-cx-values.yaml", "qm-values.yaml", "cisco-sync-values.yaml", "gateway-values.yaml")


def copy(tmp_path, name, replace=()):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for old, new in replace:
        text = text.replace(old, new)
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return str(target)


def run(files, secret=KC_SECRET, password=VAULT_PASSWORD, username="customer"):
    warnings = []
    hidden = []
    result = values_check.run(
        dict(files=list(files), customer_username=username, customer_password=password, cim_secret=secret),
        False,
        False,
        warnings.append,
        hide=hidden.append,
    )
    return result, warnings, hidden


def by_path(result, name):
    return {(pathlib.Path(e["file"]).name, e["path"]): e for e in result["places"] if e["file"]}


def line_of(path, needle):
    for number, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


# the table: which key path has which role -------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, role",
    [
        ("web-channel-manager.extraEnvVars[name=KEYCLOAK_USERNAME_CUSTOMER].value", places.CUSTOMER_USERNAME),
        ("web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value", places.CUSTOMER_PASSWORD),
        ("efConnectionVars.KEYCLOAK_CLIENT_DB_ID", places.CIM_SECRET),
        ("efConnectionVars.KEYCLOAK_CREDENTIALS", places.CIM_SECRET),
        ("qm-backend.extraEnvVars[name=KEYCLOAK_CREDENTIALS].value", places.CIM_SECRET),
        ("qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value", places.UNKNOWN),
        ("qm-connector.extraEnvVars[name=KEYCLOAK_CLIENT_SECRET].value", places.CIM_SECRET),
        ("extraEnvVars[name=SECRET].value", places.CIM_SECRET),
        ("extraEnvVars[name=CLIENT_DB_ID].value", places.UNKNOWN),
        ("unified-admin.extraEnvVars[name=CLIENT_SECRET].value", places.CIM_SECRET),
        ("global.apisix.keycloak.clientSecret", places.CIM_SECRET),
        ("apisixStandalone.routes[id=r1].plugins.openid-connect.client_secret", places.CIM_SECRET),
        ("other.KEYCLOAK_CLIENT_DB_ID", places.UNKNOWN),
    ],
)
def test_the_table_gives_each_key_its_role(path, role):
    found = places.lookup(path)
    assert found and found[0][0].role == role and found[0][0].source


@pytest.mark.parametrize(
    "path",
    [
        "efConnectionVars.KEYCLOAK_CLIENT_ID",
        "extraEnvVars[name=SECRET_KEY].value",
        "x.extraEnvVars[name=PORT].value",
        "efConnectionVars.MY_KEYCLOAK_CLIENT_DB_ID",
        "plugins.openid-connect.client_id",
    ],
)
def test_other_keys_have_no_row(path):
    assert places.lookup(path) == []


def test_every_row_has_a_known_role_and_a_source():
    assert all(place.role in places.ROLES and place.source and place.component for place in places.PLACES)


# the check ----------------------------------------------------------------------------------------------------
def test_all_places_of_the_published_charts_differ_from_keycloaks_secret(tmp_path):
    files = [copy(tmp_path, name) for name in FILES]
    result, warnings, _hidden = run(files)
    found = by_path(result, None)
    core, qm, cisco, gateway = FILES
    expect = {
        (core, "efConnectionVars.KEYCLOAK_CLIENT_DB_ID"): ("cim_secret", "differs", "KEYCLOAK_CLIENT_DB_ID"),
        (core, "efConnectionVars.KEYCLOAK_CREDENTIALS{secret}"): ("cim_secret", "differs", "KEYCLOAK_CREDENTIALS"),
        (core, "unified-admin.extraEnvVars[name=CLIENT_SECRET].value"): ("cim_secret", "differs", "value: 'ef61"),
        (core, "web-channel-manager.extraEnvVars[name=KEYCLOAK_USERNAME_CUSTOMER].value"): (
            "customer_username",
            "same",
            "value: customer",
        ),
        (core, "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value"): (
            "customer_password",
            "differs",
            None,
        ),
        (qm, "qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value"): ("unknown", "unknown", None),
        (qm, "qm-backend.extraEnvVars[name=KEYCLOAK_CREDENTIALS].value{secret}"): ("cim_secret", "differs", None),
        (qm, "qm-connector.extraEnvVars[name=KEYCLOAK_CLIENT_SECRET].value"): ("cim_secret", "differs", None),
        (cisco, "extraEnvVars[name=SECRET].value"): ("cim_secret", "differs", None),
        (cisco, "extraEnvVars[name=CLIENT_DB_ID].value"): ("unknown", "unknown", None),
        (gateway, "apisixStandalone.routes[id=cim-customer-main].plugins.openid-connect.client_secret"): (
            "cim_secret",
            "differs",
            "client_secret",
        ),
    }
    assert set(found) == set(expect)
    for key, (role, status, needle) in expect.items():
        assert (found[key]["role"], found[key]["status"]) == (role, status), key
        if needle:
            assert found[key]["line"] == line_of(found[key]["file"], needle), key
    assert result["counts"] == {"same": 1, "differs": 8, "not found": 0, "unknown": 2}
    assert result["in_step"] is False and result["published_default"] is False and warnings == []
    assert result["changed"] is False


def test_places_in_step_are_same_and_the_password_line_is_the_value_line(tmp_path):
    core = copy(
        tmp_path,
        FILES[0],
        [
            (PUBLISHED, KC_SECRET),
            ("value: customer\n      - name: PORT", "value: %s\n      - name: PORT" % VAULT_PASSWORD),
        ],
    )
    result, _warnings, _hidden = run([core])
    found = by_path(result, None)
    password = found[(FILES[0], "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value")]
    assert password["status"] == "same"
    assert password["line"] == line_of(core, "value: " + VAULT_PASSWORD)
    assert {e["status"] for e in result["places"] if e["file"]} == {"same"}
    assert result["in_step"] is True


def test_a_role_no_file_carries_is_not_found(tmp_path):
    result, _warnings, _hidden = run([copy(tmp_path, "cisco-sync-values.yaml")])
    missing = [e for e in result["places"] if e["status"] == "not found"]
    assert {e["role"] for e in missing} == {"customer_username", "customer_password"}
    assert all(e["file"] is None for e in missing) and result["in_step"] is False


def test_json_in_a_string_without_the_key_is_not_found(tmp_path):
    core = copy(tmp_path, FILES[0], [('{"secret": "%s"}' % PUBLISHED, '{"realm": "expertflow"}')])
    result, _warnings, _hidden = run([core])
    entry = by_path(result, None)[(FILES[0], "efConnectionVars.KEYCLOAK_CREDENTIALS{secret}")]
    assert entry["status"] == "not found" and entry["line"] == line_of(core, "KEYCLOAK_CREDENTIALS")


def test_a_helm_template_is_not_compared(tmp_path):
    core = copy(tmp_path, FILES[0], [("value: 'ef61df80-061c-4c29-b9ac-387e6bf67052'", "value: '{{ .Values.s }}'")])
    result, _warnings, _hidden = run([core])
    entry = by_path(result, None)[(FILES[0], "unified-admin.extraEnvVars[name=CLIENT_SECRET].value")]
    assert entry["status"] == "unknown" and "template" in entry["note"]


def test_unknown_role_places_say_whether_they_hold_the_secret_and_are_never_compared(tmp_path):
    qm = copy(tmp_path, "qm-values.yaml", [(PUBLISHED, KC_SECRET)])
    result, _warnings, _hidden = run([qm])
    entry = by_path(result, None)[("qm-values.yaml", "qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value")]
    assert entry["status"] == "unknown" and entry["note"] == "holds the cim secret"


def test_a_value_outside_the_table_holding_the_secret_is_reported_unknown(tmp_path):
    core = copy(tmp_path, FILES[0], [("KEYCLOAK_REALM: expertflow", "MY_SECRET_COPY: %s" % PUBLISHED)])
    result, _warnings, _hidden = run([core], secret=PUBLISHED)
    entry = by_path(result, None)[(FILES[0], "efConnectionVars.MY_SECRET_COPY")]
    assert entry["role"] == "unknown" and entry["status"] == "unknown"
    assert entry["line"] == line_of(core, "MY_SECRET_COPY")


def test_the_published_default_warns_and_sets_the_flag(tmp_path):
    result, warnings, _hidden = run([copy(tmp_path, name) for name in FILES], secret=PUBLISHED)
    assert result["published_default"] is True and len(warnings) == 1 and "publish" in warnings[0]
    assert PUBLISHED not in warnings[0]


def test_list_entries_without_a_name_are_named_by_index(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("a:\n  - [x]\n  - plugins:\n      openid-connect:\n        client_secret: s3\n", encoding="utf-8")
    result, _warnings, _hidden = run([str(path)])
    assert [e["path"] for e in result["places"] if e["file"]] == ["a[1].plugins.openid-connect.client_secret"]
    assert result["places"][0]["line"] == 5


@pytest.mark.parametrize(
    "text, fragment",
    [
        (None, "does not exist"),
        (b"\xff\xfe", "not UTF-8"),
        (b"a: [\n  secret: ef61df80-061c-4c29-b9ac-387e6bf67052\n", "not valid YAML"),
    ],
)
def test_bad_files_fail_naming_the_file_and_no_value(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    if text is not None:
        path.write_bytes(text)
    with pytest.raises(ModuleError) as info:
        run([str(path)])
    assert str(path) in info.value.msg and fragment in info.value.msg and PUBLISHED not in info.value.msg


# no secret anywhere in the result -----------------------------------------------------------------------------
SCENARIOS = {
    "published": dict(replace=(), secret=PUBLISHED),
    "keycloak-differs": dict(replace=(), secret=KC_SECRET),
    "in-step": dict(
        replace=(
            (PUBLISHED, KC_SECRET),
            ("value: customer\n      - name: PORT", "value: %s\n      - name: PORT" % VAULT_PASSWORD),
        ),
        secret=KC_SECRET,
    ),
    "file-password-differs": dict(
        replace=(("value: customer\n      - name: PORT", "value: File-only-pass-3k\n      - name: PORT"),),
        secret=KC_SECRET,
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_value_read_or_given_in_the_result(tmp_path, name):
    scenario = SCENARIOS[name]
    files = [copy(tmp_path, f, scenario["replace"]) for f in FILES]
    result, warnings, hidden = run(files, secret=scenario["secret"])
    text = json.dumps(result) + json.dumps(warnings)
    for secret in (PUBLISHED, KC_SECRET, VAULT_PASSWORD, "File-only-pass-3k"):
        assert secret not in text
    assert scenario["secret"] in hidden and VAULT_PASSWORD in hidden

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad inputs an installer can give, through ``ansible-playbook``: each is refused with a message that
names what and where, before anything changes, and nothing of another plugin is ever printed.

No Keycloak is needed: the tenant's Keycloak URL points at a closed port, so a test also proves that
the checks ran before the first Keycloak task (which would fail on it).
"""

import os
import shutil
import subprocess
import sys

import pytest

from ._runner import run_playbook
from .helpers import warnings_in

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "apisix")
SECRET = "Host1le-cim-secret-value"
CUSTOMER = "Host1le-customer-pw"
ADMIN = "Host1le-admin-pw-unused"
APISIX_ONLY = """---
- name: The APISIX part alone
  hosts: apisix_gateway
  gather_facts: false
  roles:
    - role: cx.api_auth.apisix_api_auth
"""


def _corpus():
    with open(os.path.join(FIXTURES, "foreign-credentials.txt"), encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def _tenant(tmp_path, sample="helm-values-standalone.yaml.sample", **lines):
    """An inventory like inventories/expertflow, each variable given as the YAML text of its value."""
    path = tmp_path / "values.yaml"
    shutil.copyfile(os.path.join(FIXTURES, sample), path)
    values = {
        "keycloak_api_auth_url": "http://127.0.0.1:9",
        "keycloak_api_auth_admin_password": '"%s"' % ADMIN,
        "keycloak_api_auth_customer_password": '"%s"' % CUSTOMER,
        "apisix_api_auth_routes_file": str(path),
        "apisix_api_auth_routes": "[orders-main-secured, files-main]",
        "apisix_api_auth_keycloak_url": "http://keycloak.ef-external.svc/auth",
        "apisix_api_auth_client_secret": '"%s"' % SECRET,
        # no Keycloak here: the given secret is trusted, not compared with Keycloak's
        "apisix_api_auth_keycloak_lookup": "false",
    }
    values.update(lines)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  children:\n    keycloak_admin:\n      hosts:\n        installer:\n"
        "          ansible_connection: local\n          ansible_python_interpreter: %s\n"
        "    apisix_gateway:\n      hosts:\n        installer:\n  vars:\n%s"
        % (sys.executable, "".join("    %s: %s\n" % item for item in values.items()))
    )
    (tmp_path / "apisix.yml").write_text(APISIX_ONLY)
    return inventory, path


@pytest.mark.parametrize(
    "line, facts",
    [
        ({"keycloak_api_auth_customer_password": "0775312"}, ["keycloak_api_auth_customer_password", "quote it"]),
        ({"keycloak_api_auth_customer_password": '""'}, ["keycloak_api_auth_customer_password", "empty"]),
        ({"apisix_api_auth_version": "3.10"}, ["apisix_api_auth_version", "3.1", "quote it"]),
        ({"apisix_api_auth_client_secret": "0775312"}, ["apisix_api_auth_client_secret", "quote it"]),
        ({"apisix_api_auth_routes": '"orders-main-secured, files-main"'}, ["apisix_api_auth_routes", "list"]),
    ],
    ids=["numeric-password", "empty-password", "unquoted-version", "numeric-secret", "routes-as-string"],
)
def test_bad_tenant_input_stops_the_site_before_the_first_change(tmp_path, line, facts):
    inventory, path = _tenant(tmp_path, **line)
    before = path.read_bytes()
    rc, output = run_playbook("cx.api_auth.site", inventory, diff=True, verbosity=3)
    assert rc != 0
    for fact in facts:
        assert fact in output, fact
    assert "Audience mapper on the dedicated scope" not in output  # Keycloak was never touched
    assert path.read_bytes() == before and sorted(os.listdir(path.parent)) == ["apisix.yml", "hosts.yml", path.name]
    assert "260810" not in output and SECRET not in output and CUSTOMER not in output and ADMIN not in output


@pytest.mark.parametrize(
    "routes, facts",
    [
        ("[orders-main-secured, ' files-main']", ["' files-main'", "space"]),
        ("[orders/main]", ["'orders/main'", "'/'"]),
        ("[orders-main-secured, files-mian]", ["'files-mian'", "did you mean 'files-main'", "values.yaml"]),
    ],
)
def test_route_ids_are_quoted_checked_and_the_file_is_left_as_it_was(tmp_path, routes, facts):
    inventory, path = _tenant(tmp_path, apisix_api_auth_routes=routes)
    before = path.read_bytes()
    rc, output = run_playbook(str(tmp_path / "apisix.yml"), inventory, diff=True)
    assert rc != 0 and "changed=0" in output
    for fact in facts:
        assert fact in output, fact
    assert path.read_bytes() == before


def test_unsecured_ids_warn_and_the_audience_note_is_said_once(tmp_path):
    inventory, _path = _tenant(tmp_path, apisix_api_auth_routes="[orders-login-unsecured, files-main]")
    rc, output = run_playbook(str(tmp_path / "apisix.yml"), inventory)
    warnings = warnings_in(output)
    assert rc == 0 and "changed=1" in output
    assert [w for w in warnings if "'orders-login-unsecured'" in w and "unsecured" in w]
    assert [w for w in warnings if "audience is not enforced" in w]
    rc, output = run_playbook(str(tmp_path / "apisix.yml"), inventory)
    assert rc == 0 and "changed=0" in output
    assert not [w for w in warnings_in(output) if "audience is not enforced" in w]


def test_credentials_the_module_does_not_own_never_appear_at_vvv_diff(tmp_path):
    inventory, path = _tenant(
        tmp_path,
        sample="helm-values-credentials.yaml.sample",
        apisix_api_auth_routes="[orders-main-secured, files-main, admin-backend-secured]",
    )
    corpus = _corpus()
    original = path.read_text()
    assert all(original.count(value) == 1 for value in corpus)
    outputs = []
    for state, check in (
        ("present", True),
        ("present", False),
        ("present", False),
        ("disabled", False),
        ("absent", True),
        ("absent", False),
    ):
        rc, output = run_playbook(
            str(tmp_path / "apisix.yml"),
            inventory,
            check=check,
            diff=True,
            verbosity=3,
            extra_vars={"apisix_api_auth_state": state},
        )
        assert rc == 0, output[-3000:]
        outputs.append(output)
    printed = "\n".join(outputs)
    assert "openid-connect" in printed and "+         openid-connect:" in printed
    for value in corpus + [SECRET]:
        assert value not in printed, value
    assert all(path.read_text().count(value) == 1 for value in corpus)  # the file keeps them all


# A realm goes into Keycloak's admin URL paths: only one plain path segment is a realm. Given as YAML text.
NOT_ONE_SEGMENT = {
    "dotdot-into-master": '"acme/../master"',
    "parent-master": '"../master"',
    "query": '"a?b"',
    "fragment": '"a#b"',
    "percent": '"a%2Fb"',
    "backslash": '"a\\\\b"',
    "slash": '"a/b"',
    "dot": '"."',
    "dotdot": '".."',
    "space": '"a b"',
    "tab": '"a\\tb"',
    "newline": '"a\\nb"',
    "control": '"a\\x01b"',
    "nbsp": '"a\\u00a0b"',
    "empty": '""',
}


@pytest.mark.parametrize("variable", ["keycloak_api_auth_realm", "apisix_api_auth_realm"])
@pytest.mark.parametrize("realm", list(NOT_ONE_SEGMENT.values()), ids=list(NOT_ONE_SEGMENT))
def test_a_realm_that_is_not_one_path_segment_is_refused_in_the_first_play(tmp_path, variable, realm):
    inventory, path = _tenant(tmp_path, **{variable: realm})
    before = path.read_bytes()
    rc, output = run_playbook("cx.api_auth.site", inventory, diff=True, verbosity=3)
    assert rc != 0
    text = " ".join(output.split())
    assert "%s " % variable in text, output[-3000:]
    # an empty keycloak_api_auth_realm is already refused by the role's first check (non-empty text)
    assert "is not one plain realm name" in text or (realm == '""' and "must be non-empty text" in text)
    if "\\" not in realm and realm != '""':  # the value, as JSON (escapes are doubled again in -vvv's JSON)
        assert "%s %s" % (variable, realm) in text, realm
    assert "Audience mapper on the dedicated scope" not in output  # Keycloak was never touched
    assert "Openid-connect on the tenant's routes" not in output
    assert path.read_bytes() == before


@pytest.mark.parametrize("variable", ["keycloak_api_auth_realm", "apisix_api_auth_realm"])
def test_the_tenant_realm_master_is_refused_unless_allowed(tmp_path, variable):
    inventory, _path = _tenant(tmp_path, **{variable: "master"})
    rc, output = run_playbook("cx.api_auth.site", inventory)
    text = " ".join(output.split())
    assert rc != 0 and "%s is 'master'" % variable in text and "allow_master_realm" in text, output[-3000:]
    assert "Audience mapper on the dedicated scope" not in output

    # allowed: the checks pass and the run goes on to Keycloak (a closed port here, so it fails there)
    rc, output = run_playbook("cx.api_auth.site", inventory, extra_vars={"keycloak_api_auth_allow_master_realm": True})
    assert "is 'master'" not in output and "Audience mapper on the dedicated scope" in output, output[-3000:]


# A vault value with Jinja markup: Ansible would template it. Each is refused, naming the variable and the vault
# variable, never the value; the same value marked !unsafe passes.
TEMPLATED = {
    "unbalanced": "Ab{{cd-J1nja-SECRET",
    "expression": "Ab{{ cd J1nja-SECRET }}",
    "undefined-name": "Ab{{ J1nja_SECRET }}",
    "statement": "Ab{% if %}J1nja-SECRET",
    "comment": "Ab{# J1nja-SECRET",
}


@pytest.mark.parametrize(
    "variable, vault_var",
    [
        ("keycloak_api_auth_customer_password", "vault_customer_password"),
        ("keycloak_api_auth_admin_password", "vault_keycloak_admin_password"),
        ("apisix_api_auth_client_secret", "vault_cim_client_secret"),
    ],
)
@pytest.mark.parametrize("value", list(TEMPLATED.values()), ids=list(TEMPLATED))
def test_a_vault_value_with_jinja_markup_is_refused_with_the_unsafe_hint_and_never_printed(
    tmp_path, variable, vault_var, value
):
    inventory, path = _tenant(tmp_path, **{variable: '"{{ %s }}"' % vault_var})
    vault_dir = tmp_path / "group_vars" / "all"
    vault_dir.mkdir(parents=True)
    (tmp_path / "vault-pass").write_text("test-vault-pass\n")
    plain = tmp_path / "plain.yml"
    plain.write_text("%s: '%s'\n" % (vault_var, value))
    vault = vault_dir / "vault.yml"
    env = {"ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "vault-pass")}
    rc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-vault"), "encrypt", "--output", str(vault), str(plain)],
        env=dict(os.environ, **env),
        capture_output=True,
        check=False,
    ).returncode
    assert rc == 0
    plain.unlink()
    before = path.read_bytes()
    rc, output = run_playbook("cx.api_auth.site", inventory, diff=True, verbosity=3, env=env)
    assert rc != 0
    text = " ".join(output.split())
    assert "%s (its value %s): the value contains '{{'" % (variable, vault_var) in text, output[-3000:]
    assert "Mark it !unsafe in the vault file" in text and "missing or empty" not in text
    assert "J1nja" not in output  # no piece of the value, not even in Ansible's own template errors
    assert "Audience mapper on the dedicated scope" not in output and path.read_bytes() == before

    plain.write_text("%s: !unsafe '%s'\n" % (vault_var, value))  # marked: used as it is
    vault.unlink()
    subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-vault"), "encrypt", "--output", str(vault), str(plain)],
        env=dict(os.environ, **env),
        capture_output=True,
        check=True,
    )
    plain.unlink()
    rc, output = run_playbook("cx.api_auth.site", inventory, env=env)
    assert "Mark it !unsafe" not in output and "J1nja" not in output


def test_check_mode_shows_the_resolved_route_list_before_anything_is_written(tmp_path):
    inventory, path = _tenant(tmp_path, apisix_api_auth_routes="['*-secured', files-main]")
    before = path.read_bytes()
    rc, output = run_playbook(str(tmp_path / "apisix.yml"), inventory, check=True)
    assert rc == 0, output[-3000:]
    text = " ".join(output.split())
    assert "TASK [cx.api_auth.apisix_api_auth : The tenant's routes]" in text
    assert (
        "openid-connect would be enabled on 2 route(s) ('orders-main-secured', 'admin-backend-secured') and updated on"
        " 1 route(s) ('files-main')" in text
    ), output[-3000:]
    assert path.read_bytes() == before and SECRET not in output


def test_a_referenced_value_that_is_one_whole_expression_is_taken_as_meant(tmp_path):
    """``"{{ vault_x }}"`` -> ``"{{ lookup(...) }}"`` is a template on purpose (as the molecule inventories have)."""
    inventory, _path = _tenant(
        tmp_path,
        keycloak_api_auth_customer_password='"{{ customer_from_env }}"',
        customer_from_env="\"{{ lookup('ansible.builtin.env', 'CX_TEST_CUSTOMER') }}\"",
    )
    _rc, output = run_playbook("cx.api_auth.site", inventory, env={"CX_TEST_CUSTOMER": CUSTOMER})
    assert "Mark it !unsafe" not in output and "Audience mapper on the dedicated scope" in output, output[-3000:]
    assert CUSTOMER not in output


@pytest.mark.parametrize(
    "lines",
    [
        {"apisix_api_auth_routes_file": '""'},
        {"apisix_api_auth_admin_url": "http://127.0.0.1:9"},
        {"apisix_api_auth_admin_url": "http://127.0.0.1:9", "apisix_api_auth_admin_key": "0775312"},
    ],
    ids=["no-target", "admin-api-without-key", "numeric-admin-key"],
)
def test_one_target_a_routes_file_or_the_admin_api_with_its_key(tmp_path, lines):
    """The target rule of the role (apisix_api_auth__target) and its check agree: neither target, or the Admin API
    without a text key, is refused in the first play, naming both variables, before anything changes."""
    inventory, path = _tenant(tmp_path, **lines)
    before = path.read_bytes()
    rc, output = run_playbook("cx.api_auth.site", inventory)
    text = " ".join(output.split())
    assert rc != 0 and "Set apisix_api_auth_routes_file" in text and "apisix_api_auth_admin_key" in text, output[-3000:]
    assert "Audience mapper on the dedicated scope" not in output  # Keycloak was never touched
    assert path.read_bytes() == before

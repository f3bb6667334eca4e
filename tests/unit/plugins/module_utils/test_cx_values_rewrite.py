# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_cx/values_rewrite.py and scalar_edit.py (cx_values_credentials' runner).

The CX-shaped fixtures (tests/unit/fixtures/cx/) are copied to a temporary directory; every test checks the
bytes of the files, not only the parsed data: a place rewritten changes its value's characters and nothing else.
"""

import json
import os
import pathlib
import stat

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.module_utils._cx import places, scalar_edit, values_rewrite
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "cx"
PUBLISHED = places.PUBLISHED_CIM_SECRET
NEW_SECRET = "Kc-new-cim-secret-7d41c2"
OLD_SECRET = "Kc-old-cim-secret-19be0f"
VAULT_PASSWORD = "Vault-customer-pass-5rT"
FILE_PASSWORD = "File-only-pass-w8"
FILE_SECRET = "File-only-cim-secret-q3"
NAMES = ("ef-cx-values.yaml", "qm-values.yaml", "cisco-sync-values.yaml", "gateway-values.yaml")
ALL_SECRETS = (PUBLISHED, NEW_SECRET, OLD_SECRET, VAULT_PASSWORD, FILE_PASSWORD, FILE_SECRET)

# (file, key path, line) of every place the rewrite changes in the fixtures, with the role it has
PLACES = [
    ("ef-cx-values.yaml", "efConnectionVars.KEYCLOAK_CLIENT_DB_ID", places.CIM_SECRET),
    ("ef-cx-values.yaml", "efConnectionVars.KEYCLOAK_CREDENTIALS{secret}", places.CIM_SECRET),
    ("ef-cx-values.yaml", "unified-admin.extraEnvVars[name=CLIENT_SECRET].value", places.CIM_SECRET),
    ("ef-cx-values.yaml", "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value", "password"),
    ("qm-values.yaml", "qm-backend.extraEnvVars[name=KEYCLOAK_CREDENTIALS].value{secret}", places.CIM_SECRET),
    ("qm-values.yaml", "qm-connector.extraEnvVars[name=KEYCLOAK_CLIENT_SECRET].value", places.CIM_SECRET),
    ("cisco-sync-values.yaml", "extraEnvVars[name=SECRET].value", places.CIM_SECRET),
    ("gateway-values.yaml", "apisixStandalone.routes[id=cim-customer-main].plugins.openid-connect.client_secret", "x"),
]
UNKNOWN = [
    ("qm-values.yaml", "qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value"),
    ("cisco-sync-values.yaml", "extraEnvVars[name=CLIENT_DB_ID].value"),
]


def copy(tmp_path, names=NAMES, replace=()):
    paths = []
    for name in names:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        for old, new in replace:
            text = text.replace(old, new)
        target = tmp_path / name
        target.write_bytes(text.encode("utf-8"))
        paths.append(str(target))
    return paths


def run(files, check=False, diff=False, replace=None, **params):
    args = dict(files=list(files), customer_username="customer", customer_password=VAULT_PASSWORD)
    args["cim_secret"] = NEW_SECRET
    args.update(params)
    warnings, hidden = [], []
    result = values_rewrite.run(args, check, diff, warnings.append, hide=hidden.append, replace=replace)
    return result, warnings, hidden


def by_path(result):
    return {(pathlib.Path(e["file"]).name, e["path"]): e for e in result["places"]}


def snapshot(paths):
    return {path: (pathlib.Path(path).read_bytes(), os.stat(path).st_mtime_ns) for path in paths}


def changed_lines(before, after):
    old, new = before.splitlines(True), after.splitlines(True)
    assert len(old) == len(new)
    return [(number, a, b) for number, (a, b) in enumerate(zip(old, new), 1) if a != b]


def assert_no_secret(*texts):
    for text in texts:
        for secret in ALL_SECRETS:
            assert secret not in text


# every kind of place: only its value changes, every other byte stays --------------------------------------------
@pytest.mark.parametrize("name, path, _role", PLACES, ids=[p[1] for p in PLACES])
def test_each_place_kind_changes_its_value_and_nothing_else(tmp_path, name, path, _role):
    files = copy(tmp_path)
    before = {f: pathlib.Path(f).read_text(encoding="utf-8") for f in files}
    result, _warnings, _hidden = run(files)
    entry = by_path(result)[(name, path)]
    assert entry["before"] == "differs" and entry["after"] == "same"
    assert entry["action"] == "rewritten" and entry["generation"] == "new"
    target = str(tmp_path / name)
    after = pathlib.Path(target).read_text(encoding="utf-8")
    lines = changed_lines(before[target], after)
    line = [item for item in lines if item[0] == entry["line"]]
    assert line, "line %d of %s did not change" % (entry["line"], name)
    _number, old, new = line[0]
    old_value = FILE_PASSWORD if "PASSWORD" in path else PUBLISHED
    if "PASSWORD" in path:
        old_value = "customer"
        assert old.replace("value: customer", "value: " + VAULT_PASSWORD) == new
    else:
        assert old.replace(old_value, NEW_SECRET) == new
    # the rest of the file: only other places' lines changed, each by its value only
    for _n, other_old, other_new in lines:
        assert other_old.replace(PUBLISHED, NEW_SECRET).replace(
            "value: customer\n", "value: %s\n" % VAULT_PASSWORD
        ) == (other_new)


def test_the_whole_set_rewritten_unknown_left_and_a_rerun_changes_nothing(tmp_path):
    files = copy(tmp_path)
    before = {f: pathlib.Path(f).read_text(encoding="utf-8") for f in files}
    result, warnings, hidden = run(files)
    assert result["changed"] is True
    assert result["msg"] == "8 places rewritten in 4 files, 2 of unknown role left"
    assert sorted(result["files_changed"]) == sorted(files)
    found = by_path(result)
    for name, path in UNKNOWN:
        entry = found[(name, path)]
        assert entry["action"] == "left" and entry["before"] == entry["after"] == "unknown"
        assert entry["note"].startswith("holds the published default; ") and "rewrite_unknown" in entry["note"]
    # the unknown places still hold the published value: the whole file is the old one with the places changed
    for path in files:
        text = pathlib.Path(path).read_text(encoding="utf-8")
        assert text.count(PUBLISHED) == sum(1 for n, _p in UNKNOWN if path.endswith(n))
        assert len(text) - len(before[path]) == sum(
            len(NEW_SECRET) - len(PUBLISHED)
            if e["role"] == places.CIM_SECRET
            else len(VAULT_PASSWORD) - len("customer")
            for e in result["places"]
            if e["file"] == path and e["action"] == "rewritten"
        )
    assert VAULT_PASSWORD in hidden and NEW_SECRET in hidden
    assert not warnings

    again, _warnings, _hidden = run(files)
    assert again["changed"] is False and again["files_changed"] == []
    assert again["msg"] == "0 places rewritten in 0 files, 2 of unknown role left"
    assert all(e["action"] in ("kept", "left") for e in again["places"])


def test_check_mode_writes_nothing_and_gives_the_same_result(tmp_path):
    files = copy(tmp_path)
    before = snapshot(files)
    checked, _w, _h = run(files, check=True, diff=True)
    assert snapshot(files) == before
    assert not [name for name in os.listdir(tmp_path) if name.endswith((".tmp", "~"))]
    assert checked["msg"] == "8 places would be rewritten in 4 files, 2 of unknown role left"
    real, _w, _h = run(files, diff=True)
    assert real["places"] == checked["places"] and real["diff"] == checked["diff"]
    assert real["files_changed"] == checked["files_changed"] and checked["changed"] is True


# the diff: per file, the lines rewritten, masked -------------------------------------------------------------
def test_the_diff_masks_every_value_and_names_each_place(tmp_path):
    files = copy(
        tmp_path, replace=[("value: customer\n      - name: PORT", "value: %s\n      - name: PORT" % FILE_PASSWORD)]
    )
    result, _w, _h = run(files, diff=True)
    assert [entry["before_header"] for entry in result["diff"]] == files
    core = result["diff"][0]
    assert "KEYCLOAK_CREDENTIALS: '********'" in core["before"] and "KEYCLOAK_CREDENTIALS: '********'" in core["after"]
    assert "value: '********'" in core["after"]  # unified-admin's quoting kept
    assert (
        "# web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value (line 43) changed" in core["after"]
    )
    assert_no_secret(json.dumps(result))


# unknown role: reported, rewritten only when opted in --------------------------------------------------------
@pytest.mark.parametrize(
    "opt_in",
    [
        ["qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value", "extraEnvVars[name=CLIENT_DB_ID].value"],
        ["**[name=KEYCLOAK_CLIENT_DB_ID].value", "**[name=CLIENT_DB_ID].value"],
    ],
    ids=["exact paths", "patterns"],
)
def test_rewrite_unknown_opts_in_places_of_unknown_role(tmp_path, opt_in):
    files = copy(tmp_path)
    result, warnings, _h = run(files, rewrite_unknown=opt_in)
    found = by_path(result)
    for name, path in UNKNOWN:
        assert found[(name, path)]["action"] == "rewritten" and found[(name, path)]["generation"] == "new"
    assert result["msg"] == "10 places rewritten in 4 files, 0 of unknown role left"
    assert not warnings
    for path in files:
        assert PUBLISHED not in pathlib.Path(path).read_text(encoding="utf-8")


def test_an_opt_in_that_names_no_place_warns(tmp_path):
    files = copy(tmp_path, names=("ef-cx-values.yaml",))
    _result, warnings, _h = run(files, rewrite_unknown=["qm.nothing[name=X].value"])
    assert warnings == ["rewrite_unknown: qm.nothing[name=X].value names no place of unknown role in the files given"]


def test_a_helm_template_is_never_rewritten(tmp_path):
    files = copy(
        tmp_path,
        names=("cisco-sync-values.yaml",),
        replace=[
            ("value: %s\n    - name: CLIENT_ID" % PUBLISHED, "value: '{{ .Values.cimSecret }}'\n    - name: CLIENT_ID")
        ],
    )
    before = pathlib.Path(files[0]).read_bytes()
    result, _w, _h = run(files)
    entry = by_path(result)[("cisco-sync-values.yaml", "extraEnvVars[name=SECRET].value")]
    assert entry["action"] == "left" and entry["generation"] is None and "Helm template" in entry["note"]
    assert result["changed"] is False and pathlib.Path(files[0]).read_bytes() == before


# byte-preserving edits of unusual texts ---------------------------------------------------------------------
TRICKY = (
    "\ufeff# comment with the key SECRET: keep\r\n"
    "efConnectionVars:   # trailing comment\r\n"
    '    KEYCLOAK_CREDENTIALS: "{\\"realm\\": \\"x\\", \\"secret\\" :  \\"%(old)s\\", \\"other\\": \\"%(old)s\\"}"\r\n'
    "    KEYCLOAK_CLIENT_DB_ID: '%(old)s'   # it's quoted\r\n"
    "qm-connector:\r\n"
    "  extraEnvVars: [{name: KEYCLOAK_CLIENT_SECRET, value: %(old)s}, {name: X, value: %(old)s}]\r\n"
    'global: {apisix: {keycloak: {clientSecret: "%(old)s"}}}'
)


def test_quoting_escaping_line_breaks_bom_and_comments_are_kept(tmp_path):
    path = tmp_path / "tricky.yaml"
    path.write_bytes((TRICKY % dict(old=OLD_SECRET)).encode("utf-8"))
    result, _w, _h = run([str(path)], previous_cim_secret=OLD_SECRET)
    assert result["msg"] == "4 places rewritten in 1 file, 1 of unknown role left"
    found = {e["path"]: e for e in result["places"]}
    assert found["qm-connector.extraEnvVars[name=X].value"]["generation"] == "previous"
    assert "previous cim secret" in found["qm-connector.extraEnvVars[name=X].value"]["note"]
    want = TRICKY % dict(old=OLD_SECRET)
    want = want.replace('\\"secret\\" :  \\"%s\\"' % OLD_SECRET, '\\"secret\\" :  \\"%s\\"' % NEW_SECRET)
    want = want.replace("'%s'" % OLD_SECRET, "'%s'" % NEW_SECRET)
    want = want.replace(
        "KEYCLOAK_CLIENT_SECRET, value: %s}" % OLD_SECRET, "KEYCLOAK_CLIENT_SECRET, value: %s}" % NEW_SECRET
    )
    want = want.replace('clientSecret: "%s"' % OLD_SECRET, 'clientSecret: "%s"' % NEW_SECRET)
    assert path.read_bytes() == want.encode("utf-8")


def test_the_diff_masks_the_other_values_of_a_line_it_shows(tmp_path):
    path = tmp_path / "tricky.yaml"
    path.write_bytes((TRICKY % dict(old=OLD_SECRET)).encode("utf-8"))
    result, _w, _h = run([str(path)], diff=True, check=True)  # OLD_SECRET is given nowhere: masked as a value
    shown = result["diff"][0]["before"] + result["diff"][0]["after"]
    assert "extraEnvVars: [{name: ********, value: ********}, {name: ********, value: ********}]" in shown
    assert "# comment" not in shown and OLD_SECRET not in json.dumps(result)


def test_a_value_that_needs_quoting_gets_it_and_json_escapes_are_written(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text(
        'efConnectionVars:\n  KEYCLOAK_CREDENTIALS: \'{"secret": "x"}\'\n  KEYCLOAK_CLIENT_DB_ID: x\n', encoding="utf-8"
    )
    secret = '#it\'s "odd": \\ yes'
    result, _w, _h = run([str(path)], cim_secret=secret)
    assert result["changed"] is True
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert json.loads(data["efConnectionVars"]["KEYCLOAK_CREDENTIALS"]) == {"secret": secret}
    assert data["efConnectionVars"]["KEYCLOAK_CLIENT_DB_ID"] == secret
    assert secret not in json.dumps(result)


def test_a_multi_line_value_fails_naming_file_and_path_and_writes_nothing(tmp_path):
    files = copy(tmp_path, names=("qm-values.yaml", "cisco-sync-values.yaml"))
    folded = pathlib.Path(files[0])
    folded.write_text(
        folded.read_text(encoding="utf-8").replace(
            "KEYCLOAK_CLIENT_SECRET\n      value: %s" % PUBLISHED,
            "KEYCLOAK_CLIENT_SECRET\n      value: >-\n        %s" % PUBLISHED,
        ),
        encoding="utf-8",
    )
    before = snapshot(files)
    with pytest.raises(ModuleError) as failure:
        run(files)
    assert files[0] in failure.value.msg and "qm-connector.extraEnvVars[name=KEYCLOAK_CLIENT_SECRET].value" in (
        failure.value.msg
    )
    assert snapshot(files) == before


# the set write: nothing half-written, generations said on failure, a rerun converges -------------------------------
def test_a_read_only_file_fails_before_any_file_is_written(tmp_path):
    files = copy(tmp_path, names=("ef-cx-values.yaml", "qm-values.yaml", "gateway-values.yaml"))
    os.chmod(files[1], 0o444)
    before = snapshot(files)
    with pytest.raises(ModuleError) as failure:
        run(files, previous_cim_secret=PUBLISHED)
    message = failure.value.msg
    assert "cannot rewrite the values file %s: it is read-only (mode 0444)" % files[1] in message
    assert "%s as it was: efConnectionVars.KEYCLOAK_CLIENT_DB_ID (line 9) previous" % files[0] in message
    assert "web-channel-manager.extraEnvVars[name=KEYCLOAK_PASSWORD_CUSTOMER].value (line 43) other" in message
    assert failure.value.result["changed"] is False and failure.value.result["files_changed"] == []
    assert snapshot(files) == before
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert_no_secret(message, json.dumps(failure.value.result))

    os.chmod(files[1], 0o644)
    result, _w, _h = run(files, previous_cim_secret=PUBLISHED)
    assert result["changed"] is True and all(e["generation"] in ("new", "previous") for e in result["places"])
    assert run(files)[0]["changed"] is False


def test_a_rename_failing_midway_says_which_files_hold_which_generation_and_a_rerun_converges(tmp_path):
    files = copy(tmp_path, names=("ef-cx-values.yaml", "qm-values.yaml", "gateway-values.yaml"))
    calls = []

    def replace(src, dest):
        calls.append(dest)
        if len(calls) == 2:
            raise OSError(13, "Permission denied")
        os.replace(src, dest)

    with pytest.raises(ModuleError) as failure:
        run(files, previous_cim_secret=PUBLISHED, replace=replace)
    message, result = failure.value.msg, failure.value.result
    assert message.startswith("cannot write the values file %s: Permission denied" % files[1])
    assert "%s rewritten: efConnectionVars.KEYCLOAK_CLIENT_DB_ID (line 9) new" % files[0] in message
    assert "%s as it was: qm-backend.extraEnvVars[name=KEYCLOAK_CLIENT_DB_ID].value (line 11) previous" % files[1] in (
        message
    )
    assert "%s as it was: apisixStandalone" % files[2] in message
    assert result["changed"] is True and result["files_changed"] == [files[0]]
    states = {(pathlib.Path(e["file"]).name, e["path"]): e for e in result["places"]}
    assert states[("ef-cx-values.yaml", "efConnectionVars.KEYCLOAK_CLIENT_DB_ID")]["generation"] == "new"
    assert states[("qm-values.yaml", "qm-connector.extraEnvVars[name=KEYCLOAK_CLIENT_SECRET].value")]["generation"] == (
        "previous"
    )
    assert (
        states[("qm-values.yaml", "qm-connector.extraEnvVars[name=KEYCLOAK_CLIENT_SECRET].value")]["after"] == "differs"
    )
    assert PUBLISHED in pathlib.Path(files[1]).read_text(encoding="utf-8")
    assert NEW_SECRET in pathlib.Path(files[0]).read_text(encoding="utf-8")
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert_no_secret(message, json.dumps(result))

    again, _w, _h = run(files, previous_cim_secret=PUBLISHED)
    assert sorted(again["files_changed"]) == sorted(files[1:])
    assert run(files)[0]["changed"] is False


def test_backup_keeps_each_file_as_it_was(tmp_path):
    files = copy(tmp_path, names=("ef-cx-values.yaml", "qm-values.yaml"))
    before = {f: pathlib.Path(f).read_bytes() for f in files}
    result, _w, _h = run(files, backup=True)
    assert sorted(result["backup_files"]) == sorted(files)
    for path, backup in result["backup_files"].items():
        assert pathlib.Path(backup).read_bytes() == before[path]
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_the_mode_of_a_file_is_kept(tmp_path):
    files = copy(tmp_path, names=("qm-values.yaml",))
    os.chmod(files[0], 0o640)
    run(files)
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o640


# input that is refused before anything is read or written ----------------------------------------------------
@pytest.mark.parametrize(
    "params, fragment",
    [
        (dict(files=[]), "files is empty"),
        (dict(customer_username=None, customer_password=None, cim_secret=None), "give at least one of"),
        (dict(rewrite_unknown=[" "]), "rewrite_unknown holds an empty key path"),
    ],
    ids=["no files", "nothing to write", "empty opt-in"],
)
def test_bad_input_is_refused(tmp_path, params, fragment):
    files = params.pop("files", None)
    with pytest.raises(ModuleError) as failure:
        run(copy(tmp_path, names=("qm-values.yaml",)) if files is None else files, **params)
    assert fragment in failure.value.msg


def test_a_file_named_twice_is_refused(tmp_path):
    files = copy(tmp_path, names=("qm-values.yaml",))
    with pytest.raises(ModuleError, match="names a file twice"):
        run(files + [str(tmp_path / "." / "qm-values.yaml")])


def test_the_published_default_warns(tmp_path):
    files = copy(tmp_path, names=("qm-values.yaml",))
    result, warnings, _h = run(files, cim_secret=PUBLISHED)
    assert result["published_default"] is True and result["changed"] is False
    assert len(warnings) == 1 and "publish:" in warnings[0] and PUBLISHED not in warnings[0]


# scalar_edit on its own ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, key, span",
    [
        ('{"secret": "abc"}', "secret", (12, 15)),
        ('{"secret": "a", "secret": "bc"}', "secret", (27, 29)),
        ('{"a": {"secret": "x"}, "secret": ""}', "secret", (34, 34)),
        ('{"secret": 5}', "secret", None),
        ('{"other": "x"}', "secret", None),
        ("not json", "secret", None),
        ('{"secret": "a\\"b"}', "secret", (12, 16)),
    ],
)
def test_json_span_finds_the_value_json_loads_keeps(text, key, span):
    assert scalar_edit.json_span(text, key) == span


def test_a_symlinked_file_is_written_through_its_link(tmp_path):
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    real = copy(real_dir, names=("qm-values.yaml",))[0]
    link = link_dir / "qm-values.yaml"
    link.symlink_to(real)
    result, _w, _h = run([str(link)])
    assert result["changed"] is True and link.is_symlink()
    assert NEW_SECRET in pathlib.Path(real).read_text(encoding="utf-8")
    assert os.listdir(link_dir) == ["qm-values.yaml"]


def test_a_file_changed_by_another_writer_midway_is_not_overwritten(tmp_path):
    files = copy(tmp_path, names=("ef-cx-values.yaml", "qm-values.yaml"))

    def replace(src, dest):
        os.replace(src, dest)
        with open(files[1], "a", encoding="utf-8") as handle:  # another writer, after the first file
            handle.write("# edited meanwhile\n")

    with pytest.raises(ModuleError) as failure:
        run(files, previous_cim_secret=PUBLISHED, replace=replace)
    assert failure.value.msg.startswith("%s changed on disk while the module was editing it" % files[1])
    assert "%s rewritten" % files[0] in failure.value.msg and "%s as it was" % files[1] in failure.value.msg
    assert pathlib.Path(files[1]).read_text(encoding="utf-8").endswith("# edited meanwhile\n")
    assert PUBLISHED in pathlib.Path(files[1]).read_text(encoding="utf-8")
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_an_anchor_or_a_tag_before_the_value_stays(tmp_path):
    path = tmp_path / "values.yaml"
    text = (
        "efConnectionVars:\n"
        "  KEYCLOAK_CLIENT_DB_ID: &db %s\n"
        '  KEYCLOAK_CREDENTIALS: !!str \'{"secret": "%s"}\'\n' % (PUBLISHED, PUBLISHED)
    )
    path.write_text(text, encoding="utf-8")
    result, _w, _h = run([str(path)])
    assert result["msg"] == "2 places rewritten in 1 file, 0 of unknown role left"
    assert path.read_text(encoding="utf-8") == text.replace(PUBLISHED, NEW_SECRET)


def test_an_anchor_used_through_an_alias_is_refused_naming_the_place(tmp_path):
    path = tmp_path / "values.yaml"
    text = "efConnectionVars:\n  KEYCLOAK_CLIENT_DB_ID: &db %s\nqm:\n  CLIENT_DB_ID: *db\n" % PUBLISHED
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModuleError) as failure:
        run([str(path)])
    assert failure.value.msg.startswith(
        "%s: efConnectionVars.KEYCLOAK_CLIENT_DB_ID (line 2) is an anchor (&) that other keys use through an alias"
        % path
    )
    assert path.read_text(encoding="utf-8") == text

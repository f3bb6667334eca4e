# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the surgical route-file editor (plugins/module_utils/_apisix/route_file/).

Every edit is checked three ways: the lines outside the plugin block are the same
as before (compared after dropping the block's lines, found here independently with
PyYAML's pure-Python parser), the parsed data outside the block is equal, and the
block holds the wanted config. Files come from the shared samples and from a seeded
generator of field-style files (tests/unit/fixtures/apisix/gen_route_files.py).
"""

import copy
import os
import re

import pytest
import yaml

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import editor, layout, nodes
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.document import Document
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.editor import RouteFile
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.errors import RouteFileError
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.nodes import same
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.render import (
    render_entry,
    render_key_text,
    render_scalar,
)
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.text import Edits
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.target import PluginState

from ...fixtures.apisix import gen_route_files as gen

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "apisix")

OIDC = "openid-connect"
SECRET = "s3cr3t-0f-the-cim-client"
CONFIG = {
    "discovery": "http://keycloak.ef-external.svc/auth/realms/tenant-x/.well-known/openid-configuration",
    "realm": "tenant-x",
    "client_id": "cim",
    "client_secret": SECRET,
    "bearer_only": True,
    "token_signing_alg_values_expected": "RS256",
    "set_access_token_header": False,
    "set_userinfo_header": False,
    "audience": ["cim", "account", "realm-management"],
    "required_scopes": ["email", "profile"],
}
DISABLED = dict(CONFIG, _meta={"disable": True})
# What the helm sample's commented-out block holds (written in the guide's style).
SAMPLE_BLOCK = {
    "enable": True,
    "discovery": "http://keycloak.identity.svc/auth/realms/tenant-a/.well-known/openid-configuration",
    "realm": "tenant-a",
    "client_id": "cim",
    "client_secret": "00000000-0000-0000-0000-000000000000",
    "bearer_only": True,
    "token_signing_alg_values_expected": "RS256",
    "set_access_token_header": False,
    "set_userinfo_header": False,
    "audience": ["cim", "account", "realm-management"],
    "required_scopes": ["email", "profile"],
}


def _fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as handle:
        return handle.read()


HELM = _fixture("helm-values-standalone.yaml.sample")
STANDALONE = _fixture("apisix-standalone.yaml.sample")


# --- independent checks -------------------------------------------------------------


def _routes_key(data):
    return "routes" if "routes" in data else "apisixStandalone.routes"


def _get(data, dotted):
    for part in dotted.split("."):
        data = data[part]
    return data


def _without(route, name):
    route = copy.deepcopy(route)
    plugins = route.get("plugins")
    if isinstance(plugins, dict):
        plugins.pop(name, None)
    if not route.get("plugins"):
        route.pop("plugins", None)
    return route


def _allowed_lines(text, ids, name=OIDC):
    """Line numbers (0-based) that an edit of ``name`` in routes ``ids`` may touch.

    Found with PyYAML's pure-Python parser and a plain indentation scan: the
    ``plugins:`` line, the block (its key line, every following line that is blank
    or indented deeper, trailing blank lines excluded) and column-0 comment lines
    among the route's plugins.
    """
    lines = text.splitlines()
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text)
    routes = root
    for part in _routes_key(data).split("."):
        routes = [v for k, v in routes.value if k.value == part][0]
    allowed = set()
    for route in routes.value:
        ids_here = [v.value for k, v in route.value if k.value == "id"]
        if not ids_here or ids_here[0] not in ids:
            continue
        if not [key for key, _value in route.value if key.value == "plugins"]:
            # a route without plugins: its column-0 comment lines (a commented-out plugins: range)
            first = route.start_mark.line
            dash = len(lines[first]) - len(lines[first].lstrip())
            line = first + 1
            while line < len(lines):
                content = lines[line]
                if content.strip() and not content.startswith("#") and len(content) - len(content.lstrip()) <= dash:
                    break
                if content.startswith("#") and content[1:].strip():
                    allowed.add(line)
                line += 1
        for key, plugins in route.value:
            if key.value != "plugins":
                continue
            allowed.add(key.start_mark.line)
            plugins_col = key.start_mark.column
            line = key.start_mark.line + 1
            while line < len(lines):
                content = lines[line]
                if (
                    content.strip()
                    and not content.lstrip().startswith("#")
                    and len(content) - len(content.lstrip()) <= plugins_col
                ):
                    break
                body = content[1:]
                if content.startswith("#") and body.strip() and len(body) - len(body.lstrip()) + 1 > plugins_col:
                    allowed.add(line)
                line += 1
            if isinstance(plugins, yaml.MappingNode):
                for pkey, _value in plugins.value:
                    if pkey.value != name:
                        continue
                    col = pkey.start_mark.column
                    block = [pkey.start_mark.line]
                    line = pkey.start_mark.line + 1
                    while line < len(lines):
                        content = lines[line]
                        if content.strip() and len(content) - len(content.lstrip()) <= col:
                            break
                        block.append(line)
                        line += 1
                    while len(block) > 1 and not lines[block[-1]].strip():
                        block.pop()
                    allowed.update(block)
    return allowed


def assert_surgical(old, new, ids, name=OIDC):
    """Only the block lines (and plugins: lines) of ``ids`` differ; line breaks unchanged."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    allowed_old, allowed_new = _allowed_lines(old, ids, name), _allowed_lines(new, ids, name)
    kept_old = [line for number, line in enumerate(old_lines) if number not in allowed_old]
    kept_new = [line for number, line in enumerate(new_lines) if number not in allowed_new]
    assert kept_old == kept_new
    if "\r\n" in old:
        assert new.count("\n") == new.count("\r\n"), "a bare LF crept into a CRLF file"
    else:
        assert "\r" not in new
    if old.endswith(("\n", "\r")) != new.endswith(("\n", "\r")):
        # a block that ended the file without a line break went away after a block
        # scalar: the break that ends the scalar's value stays
        assert not old.endswith(("\n", "\r")) and len(old_lines) - 1 in allowed_old
        assert re.search(r"(?m)^\s*\S+: [|>]\+?\s*$", old)
    if old.rstrip().endswith("#END"):
        assert new.endswith(old[old.rindex("#END") :])


def assert_data(old, new, ids, want, name=OIDC):
    """Same data outside the block; the block of ``ids`` is ``want`` (None: no block)."""
    old_data, new_data = yaml.safe_load(old), yaml.safe_load(new)
    key = _routes_key(old_data)
    old_routes, new_routes = _get(old_data, key), _get(new_data, key)
    assert [r.get("id") for r in old_routes] == [r.get("id") for r in new_routes]
    for old_route, new_route in zip(old_routes, new_routes):
        assert _without(old_route, name) == _without(new_route, name)
        if str(new_route.get("id")) in ids:
            block = (new_route.get("plugins") or {}).get(name)
            assert same(block, want), new_route["id"]
        else:
            assert (old_route.get("plugins") or {}).get(name) == (new_route.get("plugins") or {}).get(name)
    parent = key.rsplit(".", 1)[0] if "." in key else None
    for data in (old_data, new_data):
        holder = _get(data, parent) if parent else data
        holder[key.rsplit(".", 1)[-1]] = None
    assert old_data == new_data


def edit(text, ids, op="set", config=None, style="remove", routes_key=None):
    config = CONFIG if config is None else config
    doc = RouteFile(text, "test.yaml", routes_key)
    changed = []
    for route_id in ids:
        if op == "set":
            changed.append(doc.set_plugin(route_id, OIDC, config))
        else:
            changed.append(doc.unset_plugin(route_id, OIDC, style))
    new = doc.result()
    assert (new != text) == any(changed)
    return new, changed


def _states(text, name=OIDC):
    doc = RouteFile(text)
    return {route_id: doc.plugin_state(route_id, name) for route_id in doc.route_ids()}


# --- samples ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [HELM, STANDALONE], ids=["helm", "standalone"])
def test_sample_enable_then_remove_restores_bytes(text):
    states = _states(text)
    plain = [route_id for route_id, state in states.items() if not state.active and not state.commented]
    assert len(plain) >= 1
    for route_id in plain:
        new, changed = edit(text, [route_id])
        assert changed == [True]
        assert_surgical(text, new, [route_id])
        assert_data(text, new, [route_id], CONFIG)
        back, _changed = edit(new, [route_id], op="unset")
        assert back == text
    new, _changed = edit(text, plain)
    assert_surgical(text, new, plain)
    assert_data(text, new, plain, CONFIG)
    assert edit(new, plain, op="unset")[0] == text


def test_helm_sample_block_indented_like_siblings():
    new, _changed = edit(HELM, ["portal-main", "catchall"])
    lines = new.splitlines()
    portal = lines.index("     - id: portal-main")
    block = lines.index("         openid-connect:", portal)
    assert lines[block - 1] == "       plugins:"  # right under plugins:, 9 columns like proxy-rewrite
    assert lines[block + 1] == '           discovery: "%s"' % CONFIG["discovery"]
    catchall = lines.index("     - id: catchall")
    plugins = lines.index("       plugins:", catchall)  # a new plugins: at the route's key column
    assert lines[plugins - 1] == "       status: 1"
    assert lines[plugins + 1] == "         openid-connect:"
    assert lines[plugins + 2] == '           discovery: "%s"' % CONFIG["discovery"]


def test_helm_sample_guide_style_rendering():
    new, _changed = edit(HELM, ["scheduler-main"], config=SAMPLE_BLOCK)
    start = new.index("     - id: scheduler-main")
    expected = "\n".join(
        [
            "       plugins:",
            "         openid-connect:",
            "           enable: true",
            '           discovery: "http://keycloak.identity.svc/auth/realms/tenant-a/.well-known/openid-configuration"',
            '           realm: "tenant-a"',
            '           client_id: "cim"',
            '           client_secret: "00000000-0000-0000-0000-000000000000"',
            "           bearer_only: true",
            '           token_signing_alg_values_expected: "RS256"',
            "           set_access_token_header: false",
            "           set_userinfo_header: false",
            '           audience: ["cim", "account", "realm-management"]',
            '           required_scopes: ["email", "profile"]',
            "         proxy-rewrite:",
        ]
    )
    assert expected in new[start:]
    assert new.endswith('           regex_uri: ["^/scheduler/?(.*)", "/$1"]\n           \n\n')


def test_helm_sample_commented_block_replaced_in_place_and_commented_back():
    assert _states(HELM)["orders-main-secured"] == PluginState(False, None, 1)
    new, _changed = edit(HELM, ["orders-main-secured"], config=SAMPLE_BLOCK)
    assert_surgical(HELM, new, ["orders-main-secured"])
    assert_data(HELM, new, ["orders-main-secured"], SAMPLE_BLOCK)
    route = new[new.index("- id: orders-main-secured") : new.index("# --- portal")]
    assert "#" not in route  # no stale commented copy left
    assert route.index("openid-connect:") < route.index("proxy-rewrite:")
    state = _states(new)["orders-main-secured"]
    assert state.active and state.commented == 0
    back, _changed = edit(new, ["orders-main-secured"], op="unset", style="comment")
    assert back == HELM


def test_helm_sample_other_config_replaces_commented_copy():
    new, _changed = edit(HELM, ["orders-main-secured"])
    assert "#         openid-connect:" not in new
    assert_surgical(HELM, new, ["orders-main-secured"])
    assert_data(HELM, new, ["orders-main-secured"], CONFIG)
    commented, _changed = edit(new, ["orders-main-secured"], op="unset", style="comment")
    assert commented.count("#         openid-connect:") == 1
    assert_data(HELM, commented, ["orders-main-secured"], None)


def test_helm_sample_enable_false_block_updated_key_by_key():
    want = dict(SAMPLE_BLOCK)
    new, _changed = edit(HELM, ["files-main"], config=want)
    diff = [(a, b) for a, b in zip(HELM.splitlines(), new.splitlines()) if a != b]
    assert diff == [
        (
            '           enable: false # meant as "off", but stock APISIX ignores this key',
            '           enable: true # meant as "off", but stock APISIX ignores this key',
        )
    ]
    assert len(new.splitlines()) == len(HELM.splitlines())


def test_helm_sample_secret_rotation_changes_one_line_and_keeps_quotes():
    want = dict(SAMPLE_BLOCK, enable=False, client_secret="new-secret")
    new, _changed = edit(HELM, ["files-main"], config=want)
    diff = [(a, b) for a, b in zip(HELM.splitlines(), new.splitlines()) if a != b]
    assert diff == [
        ('           client_secret: "00000000-0000-0000-0000-000000000000"', '           client_secret: "new-secret"')
    ]


def test_helm_sample_present_drops_keys_not_wanted():
    new, _changed = edit(HELM, ["files-main"])
    assert_surgical(HELM, new, ["files-main"])
    assert_data(HELM, new, ["files-main"], CONFIG)
    block = new[new.index("- id: files-main") : new.index("# --- admin")]
    assert "enable" not in block.split("proxy-rewrite")[0]
    assert edit(new, ["files-main"])[1] == [False]


def test_standalone_sample_keeps_end_marker_and_disables():
    new, _changed = edit(STANDALONE, ["orders-secured", "orders-health", "reports"], config=DISABLED)
    assert new.endswith('        required_scopes: ["email", "profile"]\n#END\n')
    assert_surgical(STANDALONE, new, ["orders-secured", "orders-health", "reports"])
    assert_data(STANDALONE, new, ["orders-secured", "orders-health", "reports"], DISABLED)
    # reports already had _meta.disable: only the keys that differ changed
    reports = [line for line in new.splitlines() if "CIM_CLIENT_SECRET" in line]
    assert reports == []
    assert new.count("_meta:") == 3


def test_standalone_sample_remove_block_with_nested_meta():
    new, changed = edit(STANDALONE, ["reports", "orders-health"], op="unset")
    assert changed == [True, False]
    assert "openid-connect" not in new
    assert "plugins:" not in new[new.index("- id: reports") :]  # empty plugins: removed with the block
    assert new.endswith("    upstream_id: up-orders\n#END\n")
    assert_data(STANDALONE, new, ["reports"], None)


# --- generated files ----------------------------------------------------------------

GENERATED = [
    dict(seed=seed, flavor=flavor, crlf=crlf, final_newline=final_newline, tail=tail)
    for seed, flavor, crlf, final_newline, tail in [
        (1, "helm", False, True, True),
        (2, "standalone", False, True, True),
        (3, "helm", True, True, True),
        (4, "standalone", True, False, False),
        (5, "helm", False, False, False),
        (6, "helm", False, True, False),
        (7, "standalone", False, False, True),
        (8, "helm", True, False, False),
        (9, "standalone", False, True, True),
        (10, "helm", False, True, True),
        (11, "helm", False, True, True),
        (12, "standalone", True, True, True),
        (13, "helm", False, False, False),
        (14, "helm", True, True, True),
        (15, "standalone", False, False, False),
        (16, "helm", False, True, True),
    ]
]


def _generated(case):
    return gen.generate(case["seed"], 14, case["flavor"], case["crlf"], case["final_newline"], case["tail"])


def _case_id(case):
    return "{seed}-{flavor}{crlf}{nl}{tail}".format(
        seed=case["seed"],
        flavor=case["flavor"],
        crlf="-crlf" if case["crlf"] else "",
        nl="" if case["final_newline"] else "-noeol",
        tail="" if case["tail"] else "-eofroute",
    )


@pytest.mark.parametrize("case", GENERATED, ids=_case_id)
@pytest.mark.parametrize("want", [CONFIG, DISABLED], ids=["present", "disabled"])
def test_generated_set_is_surgical_and_idempotent(case, want):
    text = _generated(case)
    states = _states(text)
    ids = list(states)
    new, changed = edit(text, ids, config=want)
    assert_surgical(text, new, ids)
    assert_data(text, new, ids, want)
    assert changed == [not (s.active and same(s.config, want)) for s in states.values()]
    again, changed_again = edit(new, ids, config=want)
    assert again == new and not any(changed_again)


@pytest.mark.parametrize("case", GENERATED, ids=_case_id)
def test_generated_enable_then_remove_restores_bytes(case):
    text = _generated(case)
    plain = [
        route_id
        for route_id, state in _states(text).items()
        if not state.active and not state.commented and "plugins: {}" not in _route_text(text, route_id)
    ]
    assert plain
    new, _changed = edit(text, plain)
    assert new != text
    assert edit(new, plain, op="unset")[0] == text


def _route_text(text, route_id):
    doc = Document(text)
    route = doc.by_id[route_id][0]
    first, last = layout.route_window(doc, route)
    return "\n".join(doc.lines.content(line) for line in range(first, last + 1))


@pytest.mark.parametrize("case", GENERATED, ids=_case_id)
@pytest.mark.parametrize("style", ["remove", "comment"])
def test_generated_unset(case, style):
    text = _generated(case)
    states = _states(text)
    ids = list(states)
    new, changed = edit(text, ids, op="unset", style=style)
    assert changed == [s.active for s in states.values()]
    assert_surgical(text, new, ids)
    assert_data(text, new, ids, None)
    after = _states(new)
    for route_id, state in states.items():
        assert not after[route_id].active
        if style == "comment" and state.active:
            assert after[route_id].commented == 1
        else:
            assert after[route_id].commented == state.commented
    again, changed_again = edit(new, ids, op="unset", style=style)
    assert again == new and not any(changed_again)


@pytest.mark.parametrize("case", GENERATED[:6], ids=_case_id)
def test_generated_enable_replaces_commented_copies(case):
    text = _generated(case)
    ids = list(_states(text))
    new, _changed = edit(text, ids)
    assert all(s.active and s.commented == 0 for s in _states(new).values())
    assert not re.search(r"(?m)^#\s*openid-connect:", new)


def test_generated_styles_cover_the_cases():
    """The generated files really hold the layouts the tests claim to cover."""
    texts = [_generated(case) for case in GENERATED]
    joined = "\n".join(texts)
    assert "plugins: {}" in joined and "#END" in joined and "\r\n" in joined
    assert re.search(r"(?m)^#\s+openid-connect:", joined)
    assert "openid-connect: {" in joined and "enable: false" in joined and "disable: true" in joined
    assert "response_example: |" in joined and "{{ .Values.global.ingressRouter }}" in joined
    eof_routes = [text for case, text in zip(GENERATED, texts) if not case["tail"] and not case["final_newline"]]
    assert eof_routes and all(text.splitlines()[-1].startswith("  ") and not text.endswith("\n") for text in eof_routes)
    steps = set()
    for text in texts:
        match = re.search(r"(?m)^( +)plugins:\r?\n( +)\S", text)
        if match:
            steps.add(len(match.group(2)) - len(match.group(1)))
    assert {2, 3, 4} <= steps
    states = [state for text in texts for state in _states(text).values()]
    assert any(state.active for state in states) and any(state.commented for state in states)


# --- layouts ------------------------------------------------------------------------

ROUTES = """\
routes:
  - id: a
    uri: /a
    plugins: {}   # none yet
  - id: b
    uri: /b
    plugins: ~
  - id: c
    uri: /c
    plugins:
  - id: d
    uri: /d
#END
"""


def test_empty_plugins_forms_are_edited():
    new, changed = edit(ROUTES, ["a", "b", "c", "d"])
    assert changed == [True] * 4
    assert_data(ROUTES, new, ["a", "b", "c", "d"], CONFIG)
    # the empty value the route had stays on the line, commented out, so that it comes back without the block
    assert "    plugins: # {}   # none yet\n      openid-connect:\n" in new
    assert "    plugins: # ~\n      openid-connect:\n" in new
    assert "    plugins: #\n      openid-connect:\n" in new
    assert "    uri: /d\n    plugins:\n      openid-connect:\n" in new
    assert new.count("plugins:") == 4
    assert new.endswith('required_scopes: ["email", "profile"]\n#END\n')
    assert edit(new, ["a", "b", "c", "d"])[1] == [False] * 4
    assert edit(new, ["a", "b", "c", "d"], op="unset")[0] == ROUTES
    commented, _changed = edit(new, ["a", "b", "c", "d"], op="unset", style="comment")
    assert "    plugins: {}   # none yet\n#      openid-connect:\n" in commented
    assert "    plugins: ~\n#      openid-connect:\n" in commented
    assert "    plugins:\n#      openid-connect:\n" in commented
    assert "    uri: /d\n#    plugins:\n#      openid-connect:\n" in commented
    again, _changed = edit(commented, ["a", "b", "c", "d"])
    assert again == new  # and enabling once more gives the same text as the first time


def test_flow_route_and_flow_plugins_are_refused_only_when_an_edit_is_due():
    text = ROUTES.replace(
        "  - id: d\n    uri: /d\n", "  - {id: d, uri: /d}\n  - id: e\n    plugins: {proxy-rewrite: {uri: /x}}\n"
    )
    for route_id, what in (("d", "flow mapping"), ("e", "plugins written as a flow mapping")):
        with pytest.raises(RouteFileError, match="route '%s' .*%s" % (route_id, re.escape(what))):
            edit(text, [route_id])
        assert edit(text, [route_id], op="unset")[1] == [False]  # nothing to remove: no error


def test_existing_flow_block_is_rewritten_as_block_and_removable():
    text = "routes:\n- id: a\n  plugins:\n    openid-connect: {client_id: x, discovery: y}\n    cors: {}\n"
    new, _changed = edit(text, ["a"])
    assert "    openid-connect:\n      discovery:" in new
    assert_data(text, new, ["a"], CONFIG)
    removed, _changed = edit(text, ["a"], op="unset")
    assert removed == "routes:\n- id: a\n  plugins:\n    cors: {}\n"
    assert edit(text, ["a"], config={"client_id": "x", "discovery": "y"})[1] == [False]


def test_route_window_with_dash_on_its_own_line_and_int_ids():
    text = "routes:\n  -\n    id: 7\n    uri: /a\n  - id: 8\n    uri: /b\n"
    new, _changed = edit(text, ["7", "8"])
    assert_data(text, new, ["7", "8"], CONFIG)
    assert edit(new, ["7", "8"], op="unset")[0] == text


def test_only_block_lines_change_with_comments_inside_and_around():
    text = """\
routes:
    - id: x
      plugins:
          # auth first
          openid-connect:
              client_id: old   # the client
              # ssl_verify: true   (commented option of the block)

              discovery: "http://old"
          # limits next
          limit-count:
              count: 1
"""
    want = {"client_id": "cim", "discovery": "http://old", "realm": "r"}
    new, _changed = edit(text, ["x"], config=want)
    assert new == text.replace("client_id: old   #", "client_id: cim   #").replace(
        '              discovery: "http://old"\n', '              discovery: "http://old"\n              realm: "r"\n'
    )
    removed, _changed = edit(text, ["x"], op="unset")
    assert removed == text.replace(text[text.index("          openid-connect") : text.index("          # limits")], "")


def test_value_styles_are_mirrored_when_a_value_changes():
    text = "routes:\n- id: x\n  plugins:\n    openid-connect:\n      a: plain\n      b: 'single'\n      c: \"double\"\n      d: [x, y]\n"
    want = {"a": "other", "b": "it's", "c": "new", "d": ["z"]}
    new, _changed = edit(text, ["x"], config=want)
    assert (
        new
        == "routes:\n- id: x\n  plugins:\n    openid-connect:\n      a: other\n      b: 'it''s'\n      c: \"new\"\n      d: [\"z\"]\n"
    )
    tricky = {"a": "yes", "b": "x\ny", "c": "1", "d": []}
    new, _changed = edit(text, ["x"], config=tricky)
    assert yaml.safe_load(new)["routes"][0]["plugins"]["openid-connect"] == tricky
    assert '      a: "yes"\n' in new


def test_nested_mapping_updated_key_by_key():
    text = "routes:\n- id: x\n  plugins:\n    openid-connect:\n      client_id: c\n      _meta:\n        priority: 10 # keep me\n"
    want = {"client_id": "c", "_meta": {"priority": 10, "disable": True}}
    new, _changed = edit(text, ["x"], config=want)
    assert new == text + "        disable: true\n"
    back, _changed = edit(new, ["x"], config={"client_id": "c", "_meta": {"priority": 10}})
    assert back == text


def test_new_nested_values_render_as_block():
    want = dict(
        CONFIG,
        claim_validator={"audience": {"required": True}},
        authorization_params={},
        introspection_addon_headers=["X-A"],
        filters=[{"a": 1, "b": [1, {"c": None}]}, [1, 2]],
    )
    new, _changed = edit(STANDALONE, ["orders-health"], config=want)
    assert_data(STANDALONE, new, ["orders-health"], want)
    assert "      openid-connect:\n" in new and "          audience:\n            required: true\n" in new


def test_crlf_and_last_line_without_break():
    text = "routes:\r\n  - id: a\r\n    uri: /a"
    new, _changed = edit(text, ["a"])
    assert "\n" not in new.replace("\r\n", "") and not new.endswith("\r\n")
    assert_data(text, new, ["a"], CONFIG)
    assert edit(new, ["a"], op="unset")[0] == text


def test_non_ascii_before_the_block():
    text = 'routes:\n- id: "é😀"\n  desc: "naïve — ✓ 😀"\n  plugins:\n    cors: {}\n- id: b\n  desc: 日本\n'
    new, _changed = edit(text, ["é😀", "b"])
    assert_data(text, new, ["é😀", "b"], CONFIG)
    assert edit(new, ["é😀", "b"], op="unset")[0] == text


def test_comment_style_comments_out_a_bare_plugins_line_left_empty():
    # a null plugins violates APISIX's route schema (plugins must be an object)
    text = "routes:\n- id: a\n  plugins:\n    openid-connect:\n      client_id: x # kept\n      bearer_only: true\n- id: b\n"
    new, _changed = edit(text, ["a"], op="unset", style="comment")
    assert (
        new
        == "routes:\n- id: a\n#  plugins:\n#    openid-connect:\n#      client_id: x # kept\n#      bearer_only: true\n- id: b\n"
    )
    assert "plugins" not in yaml.safe_load(new)["routes"][0]
    assert _states(new)["a"] == PluginState(False, None, 1)
    again, changed = edit(new, ["a"], config={"client_id": "x", "bearer_only": True})
    assert changed == [True] and again == text  # the original bytes come back
    other, _changed = edit(new, ["a"], config={"client_id": "y"})
    # another config: the copy's lines come back updated key by key (its comment kept, the style mirrored)
    assert other == "routes:\n- id: a\n  plugins:\n    openid-connect:\n      client_id: y # kept\n- id: b\n"
    # with another plugin left, plugins: stays
    text = "routes:\n- id: a\n  plugins:\n    cors: {}\n    openid-connect:\n      client_id: x\n"
    new, _changed = edit(text, ["a"], op="unset", style="comment")
    assert new == "routes:\n- id: a\n  plugins:\n    cors: {}\n#    openid-connect:\n#      client_id: x\n"


def test_enabling_replaces_a_commented_out_plugins_range():
    old = "OLD-secret-in-a-comment"
    text = (
        "routes:\n- id: a\n  uri: /a\n#  plugins:\n#    openid-connect:\n#      client_id: cim\n"
        "#      client_secret: %s\n- id: b\n  uri: /b\n" % old
    )
    assert _states(text)["a"] == PluginState(False, None, 1)
    new, changed = edit(text, ["a"], config={"client_id": "x"})
    assert changed == [True] and old not in new
    assert (
        new == "routes:\n- id: a\n  uri: /a\n  plugins:\n    openid-connect:\n      client_id: x\n- id: b\n  uri: /b\n"
    )
    # the commented range also holds another plugin: only the openid-connect copy goes, the rest stays commented
    text = (
        "routes:\n- id: a\n  uri: /a\n#  plugins:\n#    cors:\n#      allow_origins: '*'\n#    openid-connect:\n"
        "#      client_secret: %s\n- id: b\n" % old
    )
    new, _changed = edit(text, ["a"], config={"client_id": "x"})
    assert old not in new
    assert new == (
        'routes:\n- id: a\n  uri: /a\n  plugins:\n    openid-connect:\n      client_id: "x"\n#  plugins:\n#    cors:\n'
        "#      allow_origins: '*'\n- id: b\n"
    )


def test_prose_comments_are_not_commented_blocks():
    text = (
        "routes:\n- id: a\n  plugins:\n#      openid-connect: see wiki\n#    openid-connect:\n#      -- ask the team\n"
        "    cors: {}\n"
    )
    assert _states(text)["a"].commented == 0
    new, _changed = edit(text, ["a"], config={"client_id": "x"})
    assert new == (
        'routes:\n- id: a\n  plugins:\n    openid-connect:\n      client_id: "x"\n#      openid-connect: see wiki\n'
        "#    openid-connect:\n#      -- ask the team\n    cors: {}\n"
    )


def test_several_commented_copies_collapse_into_one():
    text = (
        "routes:\n- id: a\n  plugins:\n#    openid-connect:\n#      client_id: old1\n    cors: {}\n"
        "#    openid-connect:\n#      client_id: old2\n    # openid-connect: (indented comment, not a copy)\n"
    )
    assert _states(text)["a"].commented == 2
    new, _changed = edit(text, ["a"], config={"client_id": "x"})
    assert new == (
        "routes:\n- id: a\n  plugins:\n    openid-connect:\n      client_id: x\n    cors: {}\n"
        "    # openid-connect: (indented comment, not a copy)\n"
    )
    commented, _changed = edit(new, ["a"], op="unset", style="comment")
    assert commented.count("#    openid-connect:") == 1


def test_comment_style_drops_older_copies():
    text = "routes:\n- id: a\n  plugins:\n#    openid-connect:\n#      client_id: old\n    openid-connect:\n      client_id: new\n"
    new, _changed = edit(text, ["a"], op="unset", style="comment")
    assert new == "routes:\n- id: a\n#  plugins:\n#    openid-connect:\n#      client_id: new\n"


@pytest.mark.parametrize("chomp", ["", "-", "+"])
def test_block_scalar_at_end_of_route_and_file(chomp):
    text = "routes:\n- id: a\n  body: |%s\n    line\n\n    more\n\n\n" % chomp
    new, _changed = edit(text, ["a"])
    assert_data(text, new, ["a"], CONFIG)
    if chomp == "+":
        assert new.startswith(text)  # the blank lines are part of the value
    else:
        assert new.startswith("routes:\n- id: a\n  body: |%s\n    line\n\n    more\n  plugins:\n" % chomp)
        assert new.endswith("\n\n\n")
    assert edit(new, ["a"], op="unset")[0] == text


def test_anchors_elsewhere_are_fine_aliases_in_the_block_are_refused():
    text = (
        "defaults: &up\n  type: roundrobin\nroutes:\n- id: a\n  upstream: *up\n  plugins:\n    cors: {}\n"
        "- id: b\n  plugins: &shared\n    cors: {}\n- id: c\n  plugins: *shared\n"
        "- id: d\n  plugins:\n    openid-connect: &oidc\n      client_id: x\n- id: e\n  plugins:\n    openid-connect: *oidc\n"
    )
    new, _changed = edit(text, ["a"])
    assert_data(text, new, ["a"], CONFIG)
    for route_id, what in (
        ("b", "plugins mapping"),
        ("c", "plugins mapping"),
        ("d", "openid-connect block"),
        ("e", "openid-connect block"),
    ):
        with pytest.raises(RouteFileError, match="route '%s': the %s uses a YAML anchor/alias" % (route_id, what)):
            edit(text, [route_id], op="unset" if route_id in "de" else "set")


def test_merge_keys_are_refused():
    text = "base: &b\n  cors: {}\nroutes:\n- id: a\n  plugins:\n    <<: *b\n"
    with pytest.raises(RouteFileError, match="route 'a': the plugins mapping uses a YAML merge key"):
        edit(text, ["a"])


def test_internal_check_catches_a_broken_edit(monkeypatch):
    real = render_entry

    def shifted(key, value, indent, step):
        return real(key, value, indent - 1, step)

    monkeypatch.setattr(editor, "render_entry", shifted)
    with pytest.raises(RouteFileError, match="internal check failed: route 'portal-main'"):
        edit(HELM, ["portal-main"])


def test_internal_check_catches_a_broken_edit_with_aliases(monkeypatch):
    text = "d: &x 1\nroutes:\n- id: a\n  n: *x\n  plugins:\n    cors: {}\n"
    monkeypatch.setattr(editor, "render_entry", lambda key, value, indent, step: ["  bogus: 1"])
    with pytest.raises(RouteFileError, match="internal check failed"):
        edit(text, ["a"])


def test_pure_python_parser_gives_the_same_result(monkeypatch):
    with_c, _changed = edit(HELM, ["catchall", "files-main", "orders-main-secured"])
    monkeypatch.setattr(nodes, "LOADER", yaml.SafeLoader)
    without_c, _changed = edit(HELM, ["catchall", "files-main", "orders-main-secured"])
    assert with_c == without_c


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("routes:\n  - id: a\n    uri: [/a\n", r"test.yaml is not valid YAML: .* at line 4, column 1"),
        ("routes:\n- id: a\n\turi: /a\n", r"not valid YAML: .* line 3, column 1"),
        (
            "{{- if .Values.enabled }}\nroutes: []\n{{- end }}\n",
            r"looks like a Helm template, not a values file: line 1 .*\{\{- if \.Values\.enabled \}\}",
        ),
        (
            '# chart\nroutes:\n  {{ include "x" . | nindent 2 }}\n  - id: a\n',
            r"not valid YAML.*looks like a Helm template.*line 3",
        ),
        ("", r"does not hold a YAML mapping at the top level \(empty file\)"),
        ("- id: a\n", r"does not hold a YAML mapping at the top level \(found a sequence\)"),
        (
            "global: {}\nother: 1\n",
            r"no routes under routes or apisixStandalone.routes \(top-level keys: global, other\); set routes_key",
        ),
        ("routes: []\napisixStandalone:\n  routes: []\n", r"has routes under both routes and apisixStandalone.routes"),
        ("routes: [{id: a}]\n", r"routes is written as a flow sequence"),
        ("routes:\n", r"routes holds no routes \(line 1\)"),
        ("routes: 3\n", r"routes is a scalar, expected a list of routes"),
        ("routes:\n- id: a\nroutes:\n- id: b\n", r"key routes appears 2 times under the top level \(lines 1, 3\)"),
    ],
)
def test_bad_files(text, pattern):
    with pytest.raises(RouteFileError, match=pattern):
        RouteFile(text, "test.yaml").check_targets(["a"])


def test_routes_key_not_found_names_the_missing_part():
    with pytest.raises(
        RouteFileError,
        match=r"routes_key apisix.routes not found: no key apisix under the top level \(keys there: routes\)",
    ):
        RouteFile("routes:\n- id: a\n", "f", "apisix.routes")
    with pytest.raises(RouteFileError, match=r"routes_key routes.x not found: routes is not a mapping"):
        RouteFile("routes:\n- id: a\n", "f", "routes.x")
    doc = RouteFile("gw:\n  conf:\n    routes:\n    - id: a\n", "f", "gw.conf.routes")
    assert doc.route_ids() == ["a"]


def test_unknown_and_duplicate_route_ids():
    doc = RouteFile(HELM, "values.yaml")
    with pytest.raises(RouteFileError) as info:
        doc.check_targets(["files-mian", "nope"])
    message = str(info.value)
    assert "unknown route ids 'files-mian', 'nope' under apisixStandalone.routes (did you mean 'files-main'" in message
    assert "route ids in the file: orders-login-unsecured, orders-main-secured, portal-main" in message
    text = "routes:\n- id: a\n- id: b\n- id: a\n- id: c\n- id: c\n"
    doc = RouteFile(text, "f")
    with pytest.raises(RouteFileError, match=r"duplicate route id under routes: 'a' \(lines 2, 4\)"):
        doc.check_targets(["b", "a"])
    doc.check_targets(["b"])
    assert doc.duplicate_ids() == ["a", "c"]
    with pytest.raises(RouteFileError, match="duplicate route id"):
        doc.set_plugin("a", OIDC, CONFIG)


def test_long_id_lists_are_cut():
    text = "routes:\n" + "".join("- id: r%03d\n" % number for number in range(80))
    with pytest.raises(RouteFileError, match=r"r009 \.\.\. and 70 more \(80 in all\)"):
        RouteFile(text, "f").check_targets(["zzz"])


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("routes:\n- id: a\n  plugins: 5\n", r"route 'a': plugins is a scalar, not a mapping \(line 3\)"),
        ("routes:\n- id: a\n  plugins: {}\n  plugins: {}\n", r"route 'a' has 2 plugins keys \(lines 3, 4\)"),
        (
            "routes:\n- id: a\n  plugins:\n    openid-connect: {}\n    openid-connect: {}\n",
            r"route 'a' has 2 openid-connect blocks",
        ),
    ],
)
def test_bad_routes(text, pattern):
    with pytest.raises(RouteFileError, match=pattern):
        edit(text, ["a"])


# --- rendering and helpers ----------------------------------------------------------


def test_render_scalar_and_keys():
    assert render_scalar("RS256") == '"RS256"'
    assert render_scalar('a"b\\c\n\u2028\x7f') == '"a\\"b\\\\c\\n\\u2028\\u007f"'
    assert yaml.safe_load(render_scalar('a"b\\c\n\u2028\x7f')) == 'a"b\\c\n\u2028\x7f'
    assert render_scalar("cim", None) == "cim"
    for value in ("true", "123", "1.5", "null", "~", "a: b", "#x", " lead", "-x", "2026-01-01", ""):
        rendered = render_scalar(value, None)
        assert yaml.safe_load("k: " + rendered)["k"] == value
    assert render_scalar(True) == "true" and render_scalar(3) == "3" and render_scalar(None) == "null"
    assert render_scalar(float("inf")) == ".inf" and render_scalar(1.5) == "1.5"
    assert render_key_text("openid-connect") == "openid-connect"
    assert render_key_text("on") == '"on"' and render_key_text("a b") == '"a b"'


def test_same_is_type_strict():
    assert same({"a": [1, True]}, {"a": [1, True]})
    assert not same(True, 1) and not same(1, 1.0) and not same("1", 1)
    assert not same({"a": 1}, {"a": 1, "b": 2}) and not same([1], [1, 2]) and not same({}, [])


def test_secret_texts_collects_values_of_all_blocks():
    found = RouteFile(HELM).secret_texts(OIDC, ("client_secret", "session.secret"))
    assert found == {"00000000-0000-0000-0000-000000000000"}
    text = "routes:\n- id: a\n  plugins:\n    openid-connect:\n      session:\n        secret: |\n          line-one\n          line-two\n"
    found = RouteFile(text).secret_texts(OIDC, ("session.secret",))
    assert {"line-one\nline-two\n", "line-one", "line-two"} <= found


def test_lines_table_matches_the_parser():
    text = gen.generate(21, 10, "helm", crlf=True)
    doc = Document(text)
    for _route_id, route in doc.routes:
        for key, _value in route.value:
            assert doc.lines.line_of(key.start_mark.index) == key.start_mark.line
            assert doc.lines.column(key.start_mark.index) == key.start_mark.column


def test_unreadable_yaml_is_reported_not_raised():
    text = "routes:\n- id: a\n  plugins:\n    openid-connect:\n      ? [x, y]\n      : 1\n- id: b\n  odd: !!python/name:os.system\n"
    with pytest.raises(RouteFileError, match=r"route 'a': the openid-connect block cannot be read: .*line 5"):
        RouteFile(text, "f").plugin_state("a", OIDC)
    with pytest.raises(RouteFileError, match=r"route 'b': the route cannot be read"):
        edit(text, ["b"])
    assert list(RouteFile(text, "f").iter_plugin_configs(OIDC)) == []


@pytest.mark.parametrize("chomp", ["", "+", "-"])
def test_block_scalar_ending_the_file_without_line_break(chomp):
    text = (
        "routes:\n- id: a\n  plugins:\n    mocking:\n      body: |%s\n        text\n    openid-connect:\n      client_id: x"
        % chomp
    )
    removed, _changed = edit(text, ["a"], op="unset")
    assert_data(text, removed, ["a"], None)
    if chomp == "-":
        assert removed == "routes:\n- id: a\n  plugins:\n    mocking:\n      body: |-\n        text"
    else:  # the break after "text" is part of the value
        assert removed == "routes:\n- id: a\n  plugins:\n    mocking:\n      body: |%s\n        text\n" % chomp
    bare = "routes:\n- id: a\n  body: |%s\n    text" % chomp
    if chomp == "-":
        assert edit(edit(bare, ["a"])[0], ["a"], op="unset")[0] == bare
    else:
        with pytest.raises(
            RouteFileError, match=r"the file ends with a block scalar .* end the file with a line break"
        ):
            edit(bare, ["a"])


@pytest.mark.parametrize("seed", range(12))
def test_random_edit_sequences(seed):
    """Random chains of set/unset on random routes of random files keep every invariant."""
    import random  # pylint: disable=import-outside-toplevel

    rng = random.Random(seed)
    configs = [
        CONFIG,
        DISABLED,
        {"client_id": "x", "discovery": "y"},
        dict(CONFIG, _meta={"priority": 3}),
        SAMPLE_BLOCK,
    ]
    text = gen.generate(
        5000 + seed,
        rng.randint(1, 10),
        rng.choice(["helm", "standalone"]),
        rng.random() < 0.3,
        rng.random() < 0.7,
        rng.random() < 0.6,
    )
    for _step in range(4):
        ids = RouteFile(text).route_ids()
        pick = rng.sample(ids, rng.randint(1, len(ids)))
        if rng.random() < 0.5:
            config = rng.choice(configs)
            new, _changed = edit(text, pick, config=config)
            assert_data(text, new, pick, config)
        else:
            new, _changed = edit(text, pick, op="unset", style=rng.choice(["remove", "comment"]))
            assert_data(text, new, pick, None)
        assert_surgical(text, new, pick)
        text = new


def test_last_keys_removed_at_end_of_file_without_line_break():
    head = "routes:\n- id: a\n  plugins:\n    openid-connect:\n"
    text = head + '      client_id: "cim"\n      discovery: "d"\n      realm: "r"\n      _meta:\n         disable: true'
    new, _changed = edit(text, ["a"], config={"client_id": "x", "discovery": "y"})
    assert new == head + '      client_id: "x"\n      discovery: "y"'
    back, _changed = edit(
        new, ["a"], config={"client_id": "cim", "discovery": "d", "realm": "r", "_meta": {"disable": True}}
    )
    assert (
        back
        == head + '      client_id: "cim"\n      discovery: "d"\n      realm: "r"\n      _meta:\n        disable: true'
    )


def test_whole_file_check_catches_a_route_id_changed_outside_the_edit(monkeypatch):
    text = "routes:\n- id: a\n  uri: /a\n- id: b\n  uri: /b\n"
    real_apply = Edits.apply

    def corrupting(self):
        return real_apply(self).replace("- id: b\n", "- id: c\n")

    monkeypatch.setattr(Edits, "apply", corrupting)
    doc = RouteFile(text, "f.yaml")
    doc.set_plugin("a", OIDC, {"client_id": "x"})
    message = r"^internal check failed: the edit would change the routes of f.yaml \(their ids or order\); file left untouched$"
    with pytest.raises(RouteFileError, match=message):
        doc.result()


def _foreign_lines(text):
    """Stripped lines of every route's keys other than ``plugins`` and of plugins other than openid-connect,
    less those that an openid-connect block holds too (found with PyYAML's pure-Python parser, independently
    of the editor)."""
    foreign, ours = set(), set()
    lines = text.splitlines()

    def span(key, value):
        return lines[key.start_mark.line : max(value.end_mark.line, key.start_mark.line) + 1]

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value:
        node = value
        if key.value == "apisixStandalone":
            node = dict((k.value, v) for k, v in value.value)["routes"]
        elif key.value != "routes":
            continue
        for route in node.value:
            for rkey, rvalue in route.value:
                if rkey.value != "plugins":
                    foreign.update(line.strip() for line in span(rkey, rvalue))
                elif isinstance(rvalue, yaml.MappingNode):
                    for pkey, pvalue in rvalue.value:
                        (ours if pkey.value == OIDC else foreign).update(line.strip() for line in span(pkey, pvalue))
    return {line for line in foreign - ours if line and not line.startswith("#")}


@pytest.mark.parametrize("case", GENERATED, ids=_case_id)
@pytest.mark.parametrize("op", ["set", "unset", "comment"])
def test_route_changes_show_nothing_but_the_plugin_block(case, op):
    text = _generated(case)
    ids = list(_states(text))
    doc = RouteFile(text)
    for route_id in ids:
        if op == "set":
            doc.set_plugin(route_id, OIDC, CONFIG)
        else:
            doc.unset_plugin(route_id, OIDC, "remove" if op == "unset" else "comment")
    new_text = doc.result()
    ours = {line.strip() for line in render_entry(OIDC, CONFIG, 0, 2)} | {"plugins:", "plugins: {}", "plugins: ~"}
    foreign = _foreign_lines(text) - ours
    changes = doc.route_changes()
    assert changes or new_text == text
    for _route_id, before, after in changes:
        for line in (before + after).splitlines():
            assert line.strip() not in foreign, (line, before, after)


@pytest.mark.parametrize(
    ("asked", "meant"),
    [
        ("files-mian", "files-main"),  # typo
        ("portal-mian", "portal-main"),
        ("Files-Main", "files-main"),  # case
        ("orders-main", "orders-main-secured"),  # a part less
        ("portal-main-secured", "portal-main"),  # a part more
    ],
)
def test_unknown_route_id_suggests_a_close_id(asked, meant):
    doc = RouteFile(HELM, "values.yaml")
    with pytest.raises(RouteFileError) as info:
        doc.check_targets([asked])
    assert "(did you mean '%s'?)" % meant in str(info.value)  # and nothing unrelated beside it


@pytest.mark.parametrize("asked", ["nope", "orders-x", "main", "scheduler-orders", "demo-route"])
def test_unknown_route_id_suggests_no_unrelated_id(asked):
    doc = RouteFile(HELM, "values.yaml")
    with pytest.raises(RouteFileError) as info:
        doc.check_targets([asked])
    message = str(info.value)
    assert "did you mean" not in message, message
    assert "route ids in the file: orders-login-unsecured, orders-main-secured, portal-main" in message


def test_unknown_route_id_lists_a_few_ids_and_the_count():
    text = "routes:\n" + "".join("- id: route-%02d\n" % number for number in range(40))
    with pytest.raises(RouteFileError) as info:
        RouteFile(text, "f").check_targets(["other"])
    message = str(info.value)
    assert "route ids in the file: route-00, route-01," in message and "route-09 ... and 30 more (40 in all)" in message
    assert "route-10" not in message and "did you mean" not in message


def _laughs(indent, levels=9):
    """A billion-laughs sequence: 9 levels of 9 aliases each (9**9 strings once expanded)."""
    pad = " " * indent
    lines = [pad + '- &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(pad + "- &l%d [%s]" % (level, ", ".join(["*l%d" % (level - 1)] * 9)))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (  # in a route's own key (vars)
            "routes:\n  - id: a\n    uri: /a\n  - id: bomb\n    uri: /b\n    vars:\n" + _laughs(6) + "#END\n",
            r"f\.yaml: route 'bomb' \(line 4\), under vars \(line 7\): its YAML aliases expand to more than 20000",
        ),
        (  # in a plugin's config of another route than the edited one
            "routes:\n  - id: a\n    uri: /a\n  - id: bomb\n    plugins:\n      mocking:\n        list:\n"
            + _laughs(10)
            + "#END\n",
            r"route 'bomb' \(line 4\), under plugins \(line 6\)",
        ),
        (  # a route without id
            "routes:\n  - id: a\n    uri: /a\n  - uri: /b\n    vars:\n" + _laughs(6) + "#END\n",
            r"route without id \(line 4\), under vars",
        ),
        (  # under a route of Helm values
            "apisixStandalone:\n  routes:\n    - id: a\n      uri: /a\n      vars:\n" + _laughs(8),
            r"route 'a' \(line 3\), under vars \(line 6\)",
        ),
        (  # outside the routes: anchors defined elsewhere, expanded in many routes
            "laughs:\n"
            + _laughs(2, 5)
            + "routes:\n"
            + "".join("  - id: r%d\n    vars: [*l3, *l3]\n" % number for number in range(60)),
            r"f\.yaml: the YAML aliases under routes \(line 8\) expand to more than 200000",
        ),
    ],
    ids=["route-vars", "plugin-config", "route-without-id", "helm-values", "across-routes"],
)
def test_alias_bombs_anywhere_are_refused_naming_file_and_where(text, where):
    with pytest.raises(RouteFileError, match=where + r".*\(an alias bomb\?\)"):
        RouteFile(text, "f.yaml")


def test_a_recursive_alias_is_refused():
    with pytest.raises(RouteFileError, match=r"f\.yaml: a YAML alias holds itself in route 'a' \(line 3\)"):
        RouteFile("routes:\n  - id: a\n    vars: &v\n      - *v\n", "f.yaml")


def test_a_few_aliases_are_fine():
    text = "up: &up\n  type: roundrobin\n  nodes: {'a:1': 1}\nroutes:\n" + "".join(
        "  - id: r%d\n    upstream: *up\n" % number for number in range(500)
    )
    doc = RouteFile(text, "f.yaml")
    assert doc.set_plugin("r3", OIDC, {"a": 1}) and "openid-connect" in doc.result()


# --- blocks commented out in any style (column 0, own indentation, '#' before the key) -----

OLD_SECRET = "0ld-secret-in-the-commented-copy"
COMMENT_STYLES = {
    # `#` at column 0 (by hand, the chart's style)
    "column-0": ["#    openid-connect:", "#      client_id: cim", "#      client_secret: %s" % OLD_SECRET],
    # `# ` at the block's own indentation (an editor's comment toggle)
    "own-indentation": ["    # openid-connect:", "    #   client_id: cim", "    #   client_secret: %s" % OLD_SECRET],
    # `#` directly before the key, at the block's indentation
    "hash-before-key": ["    #openid-connect:", "    #  client_id: cim", "    #  client_secret: %s" % OLD_SECRET],
    # `#` directly before each key, at each key's own indentation
    "hash-before-each-key": ["    #openid-connect:", "      #client_id: cim", "      #client_secret: %s" % OLD_SECRET],
    # `# ` before each key at its own indentation
    "own-indentation-each-key": [
        "    # openid-connect:",
        "      # client_id: cim",
        "      # client_secret: %s" % OLD_SECRET,
    ],
    # mixed: header at column 0, keys toggled at their indentation
    "mixed": ["#    openid-connect:", "      # client_id: cim", "      # client_secret: %s" % OLD_SECRET],
}


def _commented_route(style, before=("    cors: {}",), after=("    proxy-rewrite:", "      uri: /x")):
    lines = ["routes:", "- id: a", "  uri: /a", "  plugins:"] + list(before) + COMMENT_STYLES[style] + list(after)
    return "\n".join(lines + ["- id: b", "  uri: /b", ""])


@pytest.mark.parametrize("style", sorted(COMMENT_STYLES))
@pytest.mark.parametrize("where", ["first", "middle", "last", "alone"])
def test_commented_blocks_in_any_style_are_recognised(style, where):
    before = {"first": (), "middle": ("    cors: {}",), "last": ("    cors: {}",), "alone": ()}[where]
    after = {"first": ("    cors: {}",), "middle": ("    cors: {}",), "last": (), "alone": ()}[where]
    text = _commented_route(style, before, after)
    assert _states(text)["a"] == PluginState(False, None, 1)
    assert _states(text)["b"].commented == 0
    # enabling replaces the commented copy: one block, no old secret left
    new, changed = edit(text, ["a"], config={"client_id": "x"})
    assert changed == [True] and OLD_SECRET not in new and new.count("openid-connect") == 1
    assert _states(new)["a"] == PluginState(True, {"client_id": "x"}, 0)
    assert_data(text, new, ["a"], {"client_id": "x"})
    # the same config as the copy's: the copy's own lines come back uncommented
    same_config, _changed = edit(text, ["a"], config={"client_id": "cim", "client_secret": OLD_SECRET})
    assert "    openid-connect:\n" in same_config and "client_secret: %s\n" % OLD_SECRET in same_config
    assert "#" not in same_config.replace("  plugins: #\n", "")  # a bare plugins: keeps a mark of it
    # an active block beside a commented copy: commenting it out drops the older copy
    both = text.replace("  plugins:\n", "  plugins:\n    openid-connect:\n      client_id: new\n", 1)
    assert _states(both)["a"].active and _states(both)["a"].commented == 1
    commented, _changed = edit(both, ["a"], op="unset", style="comment")
    assert OLD_SECRET not in commented and commented.count("openid-connect:") == 1
    assert "#    openid-connect:\n#      client_id: new\n" in commented


@pytest.mark.parametrize("style", sorted(COMMENT_STYLES))
def test_commented_plugins_range_in_any_style_is_recognised(style):
    block = [line.replace("#", "#  ", 1) if line.startswith("#") else "  " + line for line in COMMENT_STYLES[style]]
    if not COMMENT_STYLES[style][0].startswith("#"):
        head = "  # plugins:" if "# " in COMMENT_STYLES[style][0] else "  #plugins:"
    else:
        head = "#  plugins:"
    text = "\n".join(["routes:", "- id: a", "  uri: /a", head] + block + ["- id: b", "  uri: /b", ""])
    assert _states(text)["a"] == PluginState(False, None, 1), text
    new, _changed = edit(text, ["a"], config={"client_id": "x"})
    assert OLD_SECRET not in new and new.count("plugins:") == 1 and "#" not in new
    assert_data(text, new, ["a"], {"client_id": "x"})


def test_indented_comments_that_are_not_copies_stay():
    text = (
        "routes:\n- id: a\n  plugins:\n    proxy-rewrite:\n      uri: /x\n"
        # inside another plugin's block: not a copy of a plugin
        "      # openid-connect:\n      #   client_id: nested\n"
        "    # openid-connect: see the wiki\n"  # prose
        "    cors: {}\n"
    )
    assert _states(text)["a"].commented == 0
    new, _changed = edit(text, ["a"], config={"client_id": "x"})
    assert "      # openid-connect:\n      #   client_id: nested\n    # openid-connect: see the wiki\n" in new


# --- enabling a commented-out block keeps the lines the module does not write ----------

CHART_COPY = (
    "#    openid-connect:\n"
    "#      enable: true # set to false to switch off\n"
    '#      client_id: "cim"\n'
    '#      client_secret: "old" # from the Credentials tab\n'
    "#      # authz-keycloak:\n"
    "#      #   enable: true\n"
    "#      audience:\n"
    "#        - cim\n"
    "#      # trailing note\n"
)
CHART_DATA = {"enable": True, "client_id": "cim", "client_secret": "old", "audience": ["cim"]}


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("under plugins", "routes:\n- id: a\n  plugins:\n" + CHART_COPY + "    cors: {}\n- id: b\n"),
        ("under a bare plugins", "routes:\n- id: a\n  plugins:\n" + CHART_COPY + "- id: b\n"),
        ("commented plugins", "routes:\n- id: a\n  uri: /a\n#  plugins:\n" + CHART_COPY + "- id: b\n"),
    ],
)
def test_enable_then_comment_out_gives_back_the_copy(where, text):
    assert _states(text)["a"].commented == 1, where
    same_config, _changed = edit(text, ["a"], config=CHART_DATA)
    assert "      # authz-keycloak:\n      #   enable: true\n" in same_config
    assert edit(same_config, ["a"], op="unset", style="comment")[0] == text
    other = dict(CHART_DATA, client_secret="new", realm="r")
    enabled, _changed = edit(text, ["a"], config=other)
    assert_data(text, enabled, ["a"], other)
    assert "# set to false to switch off" in enabled and "# authz-keycloak:" in enabled and "# trailing note" in enabled
    back, _changed = edit(enabled, ["a"], op="unset", style="comment")
    added = [line for line in back.splitlines() if line not in text.splitlines()]
    assert [line.strip("# ") for line in added] == ['client_secret: "new" # from the Credentials tab', 'realm: "r"']
    assert [line for line in text.splitlines() if line not in back.splitlines()] == [
        line for line in text.splitlines() if "client_secret" in line
    ]


def test_a_managed_key_that_goes_or_is_rewritten_keeps_the_comments_after_it():
    text = (
        "routes:\n- id: a\n  plugins:\n    openid-connect:\n      client_id: cim\n      audience:\n        - cim\n"
        "      # authz-keycloak:\n      #   enable: true\n      required_scopes: [email]\n      # note\n"
    )
    rewritten, _changed = edit(text, ["a"], config={"client_id": "cim", "audience": ["a", "b", "c"]})
    assert "      # authz-keycloak:\n      #   enable: true\n" in rewritten and "      # note\n" in rewritten
    assert "required_scopes" not in rewritten
    gone, _changed = edit(text, ["a"], config={"client_id": "cim"})
    assert gone == (
        "routes:\n- id: a\n  plugins:\n    openid-connect:\n      client_id: cim\n"
        "      # authz-keycloak:\n      #   enable: true\n      # note\n"
    )


def test_alias_bomb_under_a_custom_routes_key_names_the_route():
    text = "gw:\n  conf:\n    routes:\n    - id: a\n      vars:\n" + _laughs(6)
    with pytest.raises(RouteFileError, match=r"f\.yaml: route 'a' \(line 4\), under vars \(line 6\)"):
        RouteFile(text, "f.yaml", "gw.conf.routes")

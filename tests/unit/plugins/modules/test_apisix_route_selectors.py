# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Route selectors of apisix_route_oidc on route files: glob patterns in ``routes`` and
``route_selector: [openid_connect_block]``, run in-process on copies of the Helm sample.

In the sample, ``orders-main-secured`` has a commented-out openid-connect block and ``files-main``
an active one; no other route has one.
"""

from .test_apisix_route_oidc import PLUGIN_ARGS, _copy, _route_block, run

BLOCKS = ["orders-main-secured", "files-main"]


def test_selector_picks_commented_and_active_blocks_and_a_rerun_picks_the_same(tmp_path, capsys):
    path = _copy(tmp_path)
    original = path.read_bytes()
    args = dict(PLUGIN_ARGS, path=str(path), route_selector=["openid_connect_block"])

    result = run(capsys, check=True, diff=True, **args)
    assert result["_rc"] == 0 and result["changed"] is True
    assert result["routes_selected"] == BLOCKS and path.read_bytes() == original
    assert [(r["id"], r["before"], r["after"]) for r in result["routes"]] == [
        ("orders-main-secured", "commented", "present"),
        ("files-main", "present", "present"),
    ]

    result = run(capsys, **args)
    assert result["changed"] is True and result["routes_selected"] == BLOCKS
    assert all(_route_block(path, rid)["realm"] == "tenant-a" for rid in BLOCKS)
    enabled = path.read_bytes()

    result = run(capsys, **args)  # the enabled block is no longer commented out: still selected
    assert result["changed"] is False and result["routes_selected"] == BLOCKS and path.read_bytes() == enabled

    result = run(capsys, path=str(path), route_selector=["openid_connect_block"], state="disabled", **PLUGIN_ARGS)
    assert result["changed"] is True and result["routes_selected"] == BLOCKS

    result = run(
        capsys, path=str(path), route_selector=["openid_connect_block"], state="absent", absent_style="comment"
    )
    assert result["changed"] is True and result["routes_selected"] == BLOCKS
    assert all(_route_block(path, rid) is None for rid in BLOCKS)
    result = run(
        capsys, path=str(path), route_selector=["openid_connect_block"], state="absent", absent_style="comment"
    )
    assert result["changed"] is False and result["routes_selected"] == BLOCKS


def test_patterns_and_union_with_the_selector(tmp_path, capsys):
    path = _copy(tmp_path)
    result = run(capsys, check=True, path=str(path), routes=["*-secured"], **PLUGIN_ARGS)
    assert result["_rc"] == 0 and result["routes_selected"] == ["orders-main-secured", "admin-backend-secured"]
    result = run(
        capsys,
        check=True,
        path=str(path),
        routes=["catchall", "*-secured"],
        route_selector=["openid_connect_block"],
        **PLUGIN_ARGS,
    )
    assert result["routes_selected"] == ["catchall", "orders-main-secured", "admin-backend-secured", "files-main"]
    assert [r["id"] for r in result["routes"]] == result["routes_selected"]


def test_unmatched_pattern_and_missing_id_fail_before_any_write(tmp_path, capsys):
    path = _copy(tmp_path)
    original = path.read_bytes()
    result = run(capsys, path=str(path), routes=["files-main", "*-securd"], **PLUGIN_ARGS)
    assert result["_rc"] == 1 and result["msg"] == (
        "%s (under apisixStandalone.routes): the route pattern '*-securd' matches no route id" % path
    )
    result = run(capsys, path=str(path), routes=["*-secured", "files-mian"], **PLUGIN_ARGS)
    assert result["_rc"] == 1 and "unknown route id 'files-mian'" in result["msg"]
    assert "did you mean 'files-main'" in result["msg"]
    assert path.read_bytes() == original


def test_selector_that_matches_nothing_fails(tmp_path, capsys):
    path = tmp_path / "apisix.yaml"
    path.write_text("routes:\n  - id: a\n    uri: /a\n#END\n")
    result = run(capsys, path=str(path), route_selector=["openid_connect_block"], **PLUGIN_ARGS)
    assert result["_rc"] == 1
    assert "route_selector=openid_connect_block matches no route" in result["msg"] and str(path) in result["msg"]


def test_routes_or_selector_is_required_and_path_or_admin_url(tmp_path, capsys):
    path = _copy(tmp_path)
    result = run(capsys, path=str(path), **PLUGIN_ARGS)
    assert result["_rc"] == 1 and "one of the following is required: routes, route_selector" in result["msg"]
    result = run(capsys, routes=["a"], **PLUGIN_ARGS)
    assert result["_rc"] == 1 and "one of the following is required: path, admin_url" in result["msg"]


TOGGLED = """\
routes:
  - id: column-0
    uri: /a
    plugins:
#      openid-connect:
#        client_id: cim
#        client_secret: old-secret-a
      cors: {}
  - id: toggled
    uri: /b
    plugins:
      cors: {}
      # openid-connect:
      #   client_id: cim
      #   client_secret: old-secret-b
  - id: hash-before-key
    uri: /c
    plugins:
      #openid-connect:
      #  client_id: cim
      #  client_secret: old-secret-c
      cors: {}
  - id: plain
    uri: /d
#END
"""


def test_blocks_commented_at_their_own_indentation_are_selected_and_replaced(tmp_path, capsys):
    path = tmp_path / "apisix.yaml"
    path.write_text(TOGGLED)
    args = dict(PLUGIN_ARGS, path=str(path))
    result = run(capsys, route_selector=["openid_connect_block"], check=True, **args)
    assert result["routes_selected"] == ["column-0", "toggled", "hash-before-key"]
    assert [r["before"] for r in result["routes"]] == ["commented"] * 3
    result = run(capsys, routes=["toggled"], **args)  # an explicit id: the copy is replaced, not doubled
    assert result["_rc"] == 0 and result["routes"][0]["before"] == "commented"
    text = path.read_text()
    assert "old-secret-b" not in text and text.count("openid-connect:") == 3
    assert _route_block(path, "toggled")["realm"] == "tenant-a"

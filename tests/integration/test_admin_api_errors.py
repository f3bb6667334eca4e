# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every failure of apisix_route_oidc on the Admin API, through ``ansible-playbook`` at -vvv against the
emulator: a clear message naming the route and URL, nothing half-changed (or, after a failure midway,
which routes were written), and no secret (admin key, client secret, other plugins' keys) printed."""

import json
import socket
import subprocess
import urllib.request

import pytest

from ._admin_api import FOREIGN, PLUGIN_ARGS, SECRET, play

ROUTES = ["orders-main-secured", "files-main"]


def _args(emulator, **extra):
    args = dict(PLUGIN_ARGS, admin_url=emulator.url, admin_key=emulator.admin_key, routes=ROUTES)
    args["apisix_version"] = emulator.apisix_version
    args.update(extra)
    return args


def _clean(output, result, *more):
    printed = output + json.dumps(result)
    for value in [SECRET, *FOREIGN, *more]:
        assert value not in printed, value


def _failed(tmp_path, args, check=False):
    rc, output, result = play(tmp_path, args, check=check, diff=True, verbosity=3)
    assert rc != 0 and result.get("failed") is True, output[-3000:]
    assert "Traceback" not in output
    return output, result


def test_wrong_key_is_refused_naming_the_url(tmp_path, start_emulator):
    emulator = start_emulator()
    wrong = "Wr0ng-admin-key-value"
    output, result = _failed(tmp_path, _args(emulator, admin_key=wrong))
    assert (
        "GET route 'orders-main-secured' at %s/apisix/admin/routes/orders-main-secured was refused" % emulator.url
        in (result["msg"])
    )
    assert (
        "401: failed to check token: wrong apikey" in result["msg"] and "admin_key is wrong or missing" in result["msg"]
    )
    assert emulator.writes() == []
    _clean(output, result, wrong, emulator.admin_key)
    output, result = _failed(tmp_path, _args(emulator, admin_key=None))
    assert "missing apikey" in result["msg"]


def test_viewer_key_reads_in_check_mode_and_is_refused_on_the_first_write(tmp_path, start_emulator):
    emulator = start_emulator()
    before = {rid: emulator.stored(rid) for rid in ROUTES}
    args = _args(emulator, admin_key=emulator.viewer_key)
    rc, output, result = play(tmp_path, args, check=True, diff=True, verbosity=3)
    assert rc == 0 and result["changed"] is True and emulator.writes() == []
    output, result = _failed(tmp_path, args)
    assert "viewer role, which may only read" in result["msg"]
    assert "Written before the failure: none; not written: 'orders-main-secured', 'files-main'" in result["msg"]
    assert result["routes_written"] == [] and result["routes_not_written"] == ROUTES and result["changed"] is False
    assert {rid: emulator.stored(rid) for rid in ROUTES} == before
    _clean(output, result, emulator.viewer_key, emulator.admin_key)


def test_missing_route_names_route_and_url_and_nothing_is_written(tmp_path, start_emulator):
    emulator = start_emulator()
    output, result = _failed(tmp_path, _args(emulator, routes=["files-main", "nope-route"]))
    assert result["msg"] == (
        "GET route 'nope-route': not found at %s/apisix/admin/routes/nope-route (404: Key not found)" % emulator.url
    )
    assert emulator.writes() == [] and "openid-connect" not in emulator.stored("files-main").get("plugins", {})
    _clean(output, result, emulator.admin_key)


def test_apisix_rejection_shows_its_error_msg(tmp_path, start_emulator):
    # valid for 3.17 (no client_secret with bearer_only and use_jwks), rejected by the 3.11 server
    emulator = start_emulator("3.11")
    args = _args(emulator, apisix_version="3.17", extra_config={"use_jwks": True})
    del args["client_secret"]
    output, result = _failed(tmp_path, args)
    assert "writing openid-connect on route 'orders-main-secured' at %s" % emulator.url in result["msg"]
    assert (
        "was rejected by APISIX (400: failed to check the configuration of plugin openid-connect err: "
        'property "client_secret" is required)' in result["msg"]  # APISIX's wording (its JSON-schema library)
    )
    assert "not written: 'orders-main-secured', 'files-main'" in result["msg"]
    assert "openid-connect" not in emulator.stored("orders-main-secured")["plugins"]
    _clean(output, result, emulator.admin_key)


def test_concurrent_change_is_retried_then_reported_with_what_was_written(tmp_path, start_emulator):
    emulator = start_emulator()
    emulator.inject_conflicts("orders-main-secured", 2)
    rc, output, result = play(tmp_path, _args(emulator), verbosity=3)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    assert [p for m, p in emulator.writes()].count(
        "/apisix/admin/routes/orders-main-secured/plugins/openid-connect"
    ) == 3

    emulator = start_emulator()
    emulator.inject_conflicts("files-main", 3)
    output, result = _failed(tmp_path, _args(emulator))
    assert (
        "PATCH %s/apisix/admin/routes/files-main/plugins/openid-connect: the route changed under every one of 3 "
        "attempts (503 value changed before overwritten)" % emulator.url
    ) in result["msg"]
    assert "Written before the failure: 'orders-main-secured'; not written: 'files-main'" in result["msg"]
    assert result["changed"] is True and result["routes_written"] == ["orders-main-secured"]
    assert result["routes_not_written"] == ["files-main"]
    assert "openid-connect" in emulator.stored("orders-main-secured")["plugins"]
    assert "openid-connect" not in emulator.stored("files-main")["plugins"]
    _clean(output, result, emulator.admin_key)
    rc, output, result = play(tmp_path, _args(emulator))  # the rerun converges
    assert rc == 0 and [r["changed"] for r in result["routes"]] == [False, True]


def test_connection_refused(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = "http://127.0.0.1:%d" % port
    output, result = _failed(tmp_path, dict(PLUGIN_ARGS, admin_url=url, admin_key="k3y-never-shown", routes=ROUTES))
    message = result["msg"]
    assert message.startswith("GET %s/apisix/admin/routes/orders-main-secured: " % url)
    assert "connection refused" in message and "APISIX Admin API" in message and "admin_url" in message
    _clean(output, result, "k3y-never-shown")


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def test_tls_failure_then_ca_path(tmp_path, start_emulator, certificate):
    emulator = start_emulator(tls=certificate)
    assert emulator.url.startswith("https://")
    output, result = _failed(tmp_path, _args(emulator))
    message = result["msg"]
    assert message.startswith("GET %s/apisix/admin/routes/orders-main-secured: " % emulator.url)
    assert "TLS verification failed" in message and "certificate verify failed" in message
    assert "ca_path" in message and "validate_certs" in message
    _clean(output, result, emulator.admin_key)
    rc, output, result = play(tmp_path, _args(emulator, ca_path=certificate[0]), check=True)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    rc, output, result = play(tmp_path, _args(emulator, validate_certs=False), check=True)
    assert rc == 0 and result["changed"] is True
    assert emulator.writes() == []


@pytest.mark.parametrize(
    "marks, shown",
    [
        ({"labels": {"managed-by": "apisix-ingress-controller"}}, "labels.managed-by=apisix-ingress-controller"),
        (
            {
                "labels": {
                    "k8s/controller-name": "apisix.apache.org/apisix-ingress-controller",
                    "manager-by": "apisix-ingress-controller",
                }
            },
            "labels.manager-by=apisix-ingress-controller, labels.k8s/controller-name=apisix.apache.org/apisix-ingress-controller",
        ),
        (
            {"desc": "Created by apisix-ingress-controller, DO NOT modify it manually"},
            "desc='Created by apisix-ingress-controller",
        ),
    ],
    ids=["1.x-label", "2.x-labels", "desc"],
)
def test_routes_of_the_ingress_controller_are_refused(tmp_path, start_emulator, marks, shown):
    emulator = start_emulator()
    owned = dict({"id": "crd-route", "uri": "/crd/*", "upstream": {"type": "roundrobin", "nodes": {"x:1": 1}}}, **marks)
    emulator.seed(owned)
    _output, result = _failed(tmp_path, _args(emulator, routes=["files-main", "crd-route"]))
    assert "route(s) 'crd-route' (%s" % shown in result["msg"]
    assert "owned by the APISIX ingress controller" in result["msg"] and "overwrites Admin API edits" in result["msg"]
    assert "Nothing was written." in result["msg"] and emulator.writes() == []


def test_options_of_the_other_target_are_refused(tmp_path, start_emulator):
    emulator = start_emulator()
    _output, result = _failed(tmp_path, _args(emulator, backup=True))
    assert result["msg"] == "backup only apply to route files (path), not to the Admin API (admin_url)"
    _output, result = _failed(tmp_path, _args(emulator, state="absent", absent_style="comment"))
    assert "absent_style=comment only apply to route files" in result["msg"]
    _output, result = _failed(tmp_path, _args(emulator, path=str(tmp_path / "values.yaml")))
    assert "mutually exclusive: path|admin_url" in result["msg"]
    _output, result = _failed(tmp_path, _args(emulator, admin_url="ftp://127.0.0.1:9180"))
    assert "admin_url must be an http:// or https:// URL" in result["msg"]
    assert emulator.requests == []


@pytest.mark.parametrize("version", ["3.18", "3.11", "2.15"])
def test_a_timed_out_write_is_read_back_written(tmp_path, start_emulator, version):
    """The write of one route is applied but answered after the module's timeout: the read-back finds it
    written, the run goes on and reports changed (PATCH on 3.18 and 2.15, GET + PUT on 3.11)."""
    emulator = start_emulator(version)
    emulator.inject_slow("orders-main-secured", 3)
    args = _args(emulator, timeout=1, apisix_version="2.15" if emulator.v2 else emulator.apisix_version)
    rc, output, result = play(tmp_path, args, verbosity=3)
    assert rc == 0 and result["changed"] is True, output[-3000:]
    assert [r["changed"] for r in result["routes"]] == [True, True]
    assert (
        "route 'orders-main-secured'" in output and "no answer within 1 seconds (timeout); read back: written" in output
    )
    for rid in ROUTES:
        assert emulator.stored(rid)["plugins"]["openid-connect"]["client_secret"] == SECRET
    _clean(output, result, emulator.admin_key)
    rc, output, result = play(tmp_path, args)  # converged
    assert rc == 0 and result["changed"] is False


def test_a_timed_out_write_whose_read_back_fails_is_unknown_and_an_unwritten_one_not_written(tmp_path, start_emulator):
    emulator = start_emulator("3.18")
    emulator.inject_slow("files-main", 3, reads=True)
    output, result = _failed(tmp_path, _args(emulator, timeout=1))
    url = "%s/apisix/admin/routes/files-main" % emulator.url
    assert (
        "writing openid-connect on route 'files-main': PATCH %s/plugins/openid-connect: no answer within 1 seconds "
        "(timeout); whether it was written is unknown, read back: GET %s: no answer within 1 seconds (timeout)"
        % (url, url)
    ) in result["msg"]
    assert (
        "Written before the failure: 'orders-main-secured'; unknown: 'files-main'; not written: none" in result["msg"]
    )
    assert result["changed"] is True and result["routes_written"] == ["orders-main-secured"]
    assert result["routes_unknown"] == ["files-main"] and result["routes_not_written"] == []
    _clean(output, result, emulator.admin_key)

    emulator = start_emulator("3.18")
    control = urllib.request.Request(  # the emulator's control path, as a molecule scenario would use it
        emulator.url + "/_emulator/slow",
        data=json.dumps({"route": "orders-main-secured", "seconds": 3, "apply": False}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(control) as answer:
        assert answer.status == 200
    output, result = _failed(tmp_path, _args(emulator, timeout=1))
    assert "route 'orders-main-secured'" in result["msg"] and "(timeout); read back: not written" in result["msg"]
    assert "Written before the failure: none; not written: 'orders-main-secured', 'files-main'" in result["msg"]
    assert result["changed"] is False and result["routes_written"] == [] and result["routes_unknown"] == []
    assert "openid-connect" not in emulator.stored("orders-main-secured")["plugins"]

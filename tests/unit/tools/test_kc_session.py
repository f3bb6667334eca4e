# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/kc/session.py: how consumers attach to the test session's Keycloak servers.

The servers here are stand-ins (a sleeping process in a group of its own behind a real
state file), since what is tested is the session file's protocol, not Keycloak.
"""

import json
import re
import subprocess
import threading
import time

import pytest
from kc import session
from kc.errors import KeycloakServerError


@pytest.fixture
def stand_in(tmp_path):
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    state = tmp_path / "26.7.3-1" / "state.json"
    state.parent.mkdir()
    state.write_text(
        json.dumps(
            {
                "version": "26.7.3",
                "relative_path": "",
                "port": 1,
                "admin_user": "admin",
                "admin_password": "x",
                "pid": proc.pid,
                "dir": str(state.parent),
                "log": str(state.parent / "keycloak.log"),
            }
        )
    )
    yield proc, state
    proc.kill()
    proc.wait()


def write(path, **data):
    path.write_text(json.dumps(dict({"owner": 1, "ready": True, "error": None, "servers": {}}, **data)))


def test_no_session_means_nothing_shared(monkeypatch):
    monkeypatch.delenv(session.ENV, raising=False)
    assert session.shared("26.7.3") is None


def test_attaches_to_the_running_server(monkeypatch, tmp_path, stand_in):
    proc, state = stand_in
    path = tmp_path / "session.json"
    write(path, servers={"26.7.3": str(state)})
    monkeypatch.setenv(session.ENV, str(path))
    server = session.shared("26.7.3", "")
    assert server.pid == proc.pid and server.url == "http://127.0.0.1:1"
    assert session.acquire("26.7.3")[1] is False  # not owned: the consumer never stops it


def test_waits_while_the_session_starts(monkeypatch, tmp_path, stand_in):
    state = stand_in[1]
    path = tmp_path / "session.json"
    write(path, ready=False)
    monkeypatch.setenv(session.ENV, str(path))
    later = threading.Timer(1.5, write, args=(path,), kwargs={"servers": {"26.7.3": str(state)}})
    later.start()
    began = time.time()
    assert session.shared("26.7.3", timeout=30) is not None
    assert time.time() - began >= 1  # it did wait for the server to be recorded
    later.join()


@pytest.mark.parametrize(
    ("data", "version", "relative_path", "says"),
    [
        (
            {"error": "Keycloak 26.7.3 not ready after 360 s"},
            "26.7.3",
            None,
            "did not start: Keycloak 26.7.3 not ready",
        ),
        ({}, "19.0.1", None, "runs Keycloak 26.7.3, not 19.0.1"),
        ({}, "26.7.3", "/auth", "is served at '/', not '/auth'"),
    ],
)
def test_refuses_what_it_cannot_share(monkeypatch, tmp_path, stand_in, data, version, relative_path, says):
    state = stand_in[1]
    path = tmp_path / "session.json"
    write(path, servers={"26.7.3": str(state)}, **data)
    monkeypatch.setenv(session.ENV, str(path))
    with pytest.raises(KeycloakServerError, match=re.escape(says)):
        session.shared(version, relative_path)


def test_a_dead_server_is_an_error(monkeypatch, tmp_path, stand_in):
    proc, state = stand_in
    proc.kill()
    proc.wait()
    path = tmp_path / "session.json"
    write(path, servers={"26.7.3": str(state)})
    monkeypatch.setenv(session.ENV, str(path))
    with pytest.raises(KeycloakServerError, match="is not running"):
        session.shared("26.7.3")


def test_a_missing_session_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(session.ENV, str(tmp_path / "gone.json"))
    with pytest.raises(KeycloakServerError, match="no such session file"):
        session.shared("26.7.3")

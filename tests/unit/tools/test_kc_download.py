# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/kc/download.py: Maven is told which local repository to use, and a miss says where it looked.

Maven takes its local repository from the account's home in the password database, not from
``$HOME``; the download looks for the tarball under ``$HOME`` (or ``CX_M2_REPO``). Here ``HOME`` is a
temporary directory (as under sudo or in a container) and ``mvn`` a stand-in script on ``PATH``
that records its arguments and, like Maven, writes the artifact where ``-Dmaven.repo.local`` says.
"""

import json
import os
import stat

import pytest
from kc import download
from kc.errors import KeycloakServerError

FAKE_MVN = """#!/usr/bin/env python3
import io, json, os, sys, tarfile
with open(os.environ["FAKE_MVN_LOG"], "w") as log:
    json.dump(sys.argv[1:], log)
if os.environ.get("FAKE_MVN_WRITE") != "1":
    sys.exit(0)
repo = [a.split("=", 1)[1] for a in sys.argv if a.startswith("-Dmaven.repo.local=")][0]
version = [a for a in sys.argv if a.startswith("-Dartifact=")][0].split(":")[2]
target = os.path.join(repo, "org", "keycloak", "keycloak-quarkus-dist", version)
os.makedirs(target)
with tarfile.open(os.path.join(target, "keycloak-quarkus-dist-%s.tar.gz" % version), "w:gz") as archive:
    data = b"#!/bin/sh\\n"
    info = tarfile.TarInfo("keycloak-%s/bin/kc.sh" % version)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))
"""


@pytest.fixture
def fake_mvn(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "mvn"
    script.write_text(FAKE_MVN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PATH", "%s%s%s" % (bindir, os.pathsep, os.environ["PATH"]))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CX_M2_REPO", raising=False)
    monkeypatch.setenv("CX_KC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_MVN_LOG", str(tmp_path / "mvn-args.json"))
    return home, tmp_path / "mvn-args.json"


def test_maven_is_told_the_repository_under_home(fake_mvn, monkeypatch):
    home, args_log = fake_mvn
    monkeypatch.setenv("FAKE_MVN_WRITE", "1")
    kc_home = download.download("99.0.1")
    args = json.loads(args_log.read_text())
    assert "-Dmaven.repo.local=%s" % (home / ".m2" / "repository") in args
    assert os.path.isfile(os.path.join(kc_home, "bin", "kc.sh"))


def test_cx_m2_repo_is_the_repository_named_to_maven(fake_mvn, monkeypatch, tmp_path):
    _home, args_log = fake_mvn
    monkeypatch.setenv("FAKE_MVN_WRITE", "1")
    monkeypatch.setenv("CX_M2_REPO", str(tmp_path / "elsewhere"))
    download.download("99.0.2")
    assert "-Dmaven.repo.local=%s" % (tmp_path / "elsewhere") in json.loads(args_log.read_text())


def test_a_download_that_yields_nothing_says_where_it_looked(fake_mvn):
    home, _args_log = fake_mvn
    with pytest.raises(KeycloakServerError) as err:
        download.download("99.0.3")
    message = str(err.value)
    assert str(home / ".m2" / "repository") in message
    assert "keycloak-quarkus-dist-99.0.3.tar.gz" in message
    assert "CX_M2_REPO" in message


def test_no_mvn_on_path_is_said_plainly(fake_mvn, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(KeycloakServerError, match=r"cannot run mvn to fetch Keycloak 99\.0\.4"):
        download.download("99.0.4")

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keycloak distributions: fetched with Maven, extracted once into a cache shared by checkouts.

``mvn dependency:get`` puts ``org.keycloak:keycloak-quarkus-dist:<v>:tar.gz`` in
``$HOME/.m2/repository`` (``CX_M2_REPO`` overrides the repository), named to Maven explicitly with
``-Dmaven.repo.local``: Maven itself would use the account's home from the password database, which is
not ``$HOME`` under ``sudo``, in a container or in a test with its own ``HOME``. It is extracted once into
``${CX_KC_CACHE:-~/.cache/cx-api-auth/keycloak}/<v>/`` (outside the checkout; extracted to a
temporary directory and renamed, so a half-done earlier run never counts).
"""

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

from .errors import KeycloakServerError
from .log import log


def cache_root():
    """Where extracted Keycloak versions live (shared by every checkout)."""
    return os.environ.get("CX_KC_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "cx-api-auth", "keycloak")


def m2_repo():
    """The Maven local repository the download uses (and names to Maven)."""
    return os.environ.get("CX_M2_REPO") or os.path.join(os.path.expanduser("~"), ".m2", "repository")


def m2_tarball(version):
    """Where Maven keeps the distribution tarball of ``version``."""
    return os.path.join(
        m2_repo(),
        "org",
        "keycloak",
        "keycloak-quarkus-dist",
        version,
        "keycloak-quarkus-dist-%s.tar.gz" % version,
    )


def download(version):
    """Make sure Keycloak ``version`` is extracted in the cache; return its home directory.

    Fetches the tarball with Maven when ``~/.m2`` lacks it. Idempotent; a half-extracted
    directory from an interrupted run is replaced.
    """
    home = os.path.join(cache_root(), version)
    marker = os.path.join(home, ".cx-extracted")
    if os.path.exists(marker):
        return home
    tarball = m2_tarball(version)
    if not os.path.exists(tarball):
        log("fetching org.keycloak:keycloak-quarkus-dist:%s:tar.gz with Maven" % version)
        cmd = [
            "mvn",
            "-q",
            "-B",
            "dependency:get",
            "-Dartifact=org.keycloak:keycloak-quarkus-dist:%s:tar.gz" % version,
            "-Dtransitive=false",
            "-Dmaven.repo.local=%s" % m2_repo(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as err:
            raise KeycloakServerError("cannot run mvn to fetch Keycloak %s: %s" % (version, err)) from None
        if proc.returncode != 0:
            raise KeycloakServerError(
                "mvn could not fetch Keycloak %s into the Maven repository %s (rc=%s):\n%s%s"
                % (version, m2_repo(), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
            )
        if not os.path.exists(tarball):
            raise KeycloakServerError(
                "mvn reported success for Keycloak %s, but %s does not exist: looked in the Maven repository %s "
                "(CX_M2_REPO, else $HOME/.m2/repository); check that mvn honours -Dmaven.repo.local "
                "(a settings.xml <localRepository> does not override it)" % (version, tarball, m2_repo())
            )
    os.makedirs(cache_root(), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".extract-%s-" % version, dir=cache_root())
    try:
        log("extracting %s" % tarball)
        with tarfile.open(tarball, "r:gz") as archive:
            if sys.version_info >= (3, 12):
                archive.extractall(tmp, filter="tar")  # pylint: disable=unexpected-keyword-arg
            else:
                archive.extractall(tmp)  # Maven Central's signed-off artifact
        top = os.path.join(tmp, "keycloak-%s" % version)
        if not os.path.isfile(os.path.join(top, "bin", "kc.sh")):
            raise KeycloakServerError("%s has no keycloak-%s/bin/kc.sh" % (tarball, version))
        with open(os.path.join(top, ".cx-extracted"), "w", encoding="utf-8") as handle:
            handle.write(tarball + "\n")
        if os.path.lexists(home):
            # Left by an interrupted run (no marker): move aside, then delete.
            stale = home + ".stale-%d" % os.getpid()
            os.rename(home, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(top, home)
        except OSError:
            if not os.path.exists(marker):  # lost a race with another extractor? fine if done
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return home

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which JDK and which JVM options each Keycloak version runs with.

JDKs per Keycloak major version, first one found wins; override with ``CX_KC_JAVA_HOME``
(all versions) or ``CX_KC_JAVA_HOME_<major>`` (e.g. ``CX_KC_JAVA_HOME_19``).
Verified on this machine (2 cores; start-dev = build + start, until admin login works)::

    Keycloak  JDK              result
    26.7.3    Temurin 25       ok, 45-55 s (default: 26 supports 21 and 25; 17 is deprecated)
    26.7.3    OpenJDK 17       ok, ~47 s
    19.0.1    OpenJDK 17       ok, 35-40 s (default)
    19.0.1    Temurin 25       fails in the build: Hibernate's Byte Buddy "Java 25 (69) is not
                               supported ... officially supports Java 19 (63)"
"""

import os

from .errors import KeycloakServerError
from .versions import major

JDK_CANDIDATES = {
    26: (
        "/usr/lib/jvm/temurin-25-jdk-amd64",
        "/usr/lib/jvm/temurin-21-jdk-amd64",
        "/usr/lib/jvm/java-21-openjdk-amd64",
        "/usr/lib/jvm/java-17-openjdk-amd64",
    ),
    19: (
        "/usr/lib/jvm/java-17-openjdk-amd64",
        "/usr/lib/jvm/temurin-17-jdk-amd64",
        "/usr/lib/jvm/java-11-openjdk-amd64",
    ),
}

# Keycloak 19's own default JAVA_OPTS (heap capped at 512 MiB), set explicitly so that a
# JAVA_OPTS in the caller's environment cannot lift the cap.
JAVA_OPTS_19 = (
    "-Xms64m -Xmx512m -XX:MetaspaceSize=96M -XX:MaxMetaspaceSize=256m "
    "-Djava.net.preferIPv4Stack=true -Dfile.encoding=UTF-8"
)
# 25+ take the heap on its own (JAVA_OPTS_KC_HEAP).
HEAP_26 = "-Xms64m -Xmx512m"


def java_home(version):
    """The JDK to run ``version`` with (see JDK_CANDIDATES)."""
    override = os.environ.get("CX_KC_JAVA_HOME_%d" % major(version)) or os.environ.get("CX_KC_JAVA_HOME")
    if override:
        return override
    for candidate in JDK_CANDIDATES.get(major(version), JDK_CANDIDATES[26]):
        if os.path.exists(os.path.join(candidate, "bin", "java")):
            return candidate
    raise KeycloakServerError(
        "no JDK for Keycloak %s in %s; set CX_KC_JAVA_HOME"
        % (version, ", ".join(JDK_CANDIDATES.get(major(version), ())))
    )

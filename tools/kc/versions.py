# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Keycloak versions the tests run against, and where each is served by default."""

# 26.7.3 is the newest 26.x Maven Central serves to this project's machines, 19.0.1 the
# only 19.0.x.
VERSIONS = ("26.7.3", "19.0.1")
DEFAULT_RELATIVE_PATHS = {"26.7.3": "", "19.0.1": "/auth"}


def major(version):
    return int(str(version).split(".", maxsplit=1)[0])

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tooling's progress and error lines, on stderr (stdout carries JSON for callers)."""

import sys


def log(message):
    sys.stderr.write("[kc_server] %s\n" % message)
    sys.stderr.flush()

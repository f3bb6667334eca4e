"""The tooling's progress and error lines, on stderr (stdout carries JSON for callers)."""

import sys


def log(message):
    sys.stderr.write("[kc_server] %s\n" % message)
    sys.stderr.flush()

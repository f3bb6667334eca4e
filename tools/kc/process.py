# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Processes of a started server: free ports, liveness of a process group, killing it.

A server runs in a session (process group) of its own, so its JVM and every helper it
starts are stopped together. Only Linux ``/proc`` is used.
"""

import os
import signal
import socket
import time

from .log import log


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path, lines=60):
    """The last ``lines`` lines of a log file (or ``(no log)``)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - 64 * 1024, 0))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def alive(pid):
    """Is ``pid`` a live process (not a zombie)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def group_alive(pgid):
    """Has process group ``pgid`` a live member?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies still count for killpg; look for a live member.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                fields = handle.read().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def is_ours(pid, server_dir):
    """Is ``pid`` (still) the Keycloak started in ``server_dir``? Guards against reused pids."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().decode("utf-8", "replace")
    except OSError:
        return False
    return server_dir in cmdline


def kill_group(pgid, server_dir=None, timeout=30.0):
    """SIGTERM the process group, wait up to ``timeout`` s, then SIGKILL it.

    With ``server_dir``, a group whose leader is no longer the Keycloak started there is
    left alone (the pid was reused).
    """
    if server_dir and not group_alive(pgid):
        return
    if server_dir and alive(pgid) and not is_ours(pgid, server_dir):
        log("pid %d is no longer the Keycloak of %s; not killing it" % (pgid, server_dir))
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.time() + 10
    while time.time() < deadline and group_alive(pgid):
        time.sleep(0.1)

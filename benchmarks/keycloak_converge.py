# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge T tenants on one Keycloak 26.7.3 in two ways, side by side, and print what each cost.

The two ways, one host per tenant, ``ansible-playbook`` with forks 5:

* ``cx``: this collection's role ``cx.api_auth.keycloak_api_auth`` (two module tasks per tenant and the
  role's one admin token), from this checkout's virtual environment;
* ``community``: the same job with community.general's modules (``keycloak_client`` with
  ``protocol_mappers``, ``keycloak_role``, ``keycloak_user``, ``keycloak_user_rolemapping``), from the
  ``ansible`` package pinned in ``benchmarks/requirements-community.txt``, in a virtual environment
  of its own that this script creates (``.tmp/bench/community-venv``).

Every request goes through a counting reverse proxy on 127.0.0.1 (``tools/kc/proxy.py``). For each
T of ``--tenants`` and each way, ``--repeat`` times on fresh realms: a first converge, then a no-op
rerun. Printed: wall time (median), requests, admin tokens and other token requests per tenant,
KiB per tenant, CPU seconds per tenant (Ansible: ``ansible-playbook`` with its workers and modules;
Keycloak: its JVM), and the ratios community / cx. On a machine with few cores the runs are
CPU-bound: the wall time follows the sum of both CPU columns. Then the end states are read back from Keycloak
(mapper, user, roles, whether the customer can log in) and compared tenant by tenant; each cim
client was seeded with a second mapper on its dedicated scope, and whether each way kept it is
printed (the community way PUTs the whole client).

Keycloak is started with the project's tool (``tools/kc``) and stopped at the end; with
``CX_KC_SESSION`` set (the shared servers of a test session) the session's 26.7.3 is used instead
(``--keycloak start`` forces a server of its own, which ``make benchmark-keycloak`` does).

Usage: .venv/bin/python benchmarks/keycloak_converge.py [--tenants 1,10,30] [--repeat 3] [--forks 5]
Prints figures, asserts nothing (a failed playbook run is reported and stops the benchmark).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import collection_link  # noqa: E402
from kc import session  # noqa: E402
from kc.proxy import CountingProxy  # noqa: E402
from kc.server import KeycloakServer  # noqa: E402
from kc.tokens import password_grant  # noqa: E402

VERSION = "26.7.3"
REQUIREMENTS = os.path.join(ROOT, "benchmarks", "requirements-community.txt")
COMMUNITY_VENV = os.path.join(ROOT, ".tmp", "bench", "community-venv")
CUSTOMER_PASSWORD = "Bench-cust-pw-4711"
OTHER_MAPPER = "other-mapper"  # seeded on cim's dedicated scope: does each way keep it?
WAYS = ("cx", "community")

CX_PLAY = """---
- name: Keycloak part of the guide, this collection's role
  hosts: all
  gather_facts: false
  roles:
    - role: cx.api_auth.keycloak_api_auth
"""

COMMUNITY_PLAY = """---
- name: Keycloak part of the guide, community.general's modules
  hosts: all
  gather_facts: false
  module_defaults:
    group/community.general.keycloak:
      auth_keycloak_url: "{{ keycloak_api_auth_url }}"
      auth_realm: master
      auth_username: admin
      auth_password: "{{ keycloak_api_auth_admin_password }}"
  tasks:
    - name: Audience mapper on client cim
      community.general.keycloak_client:
        realm: "{{ keycloak_api_auth_realm }}"
        client_id: cim
        protocol_mappers:
          - name: fix-audience
            protocol: openid-connect
            protocolMapper: oidc-audience-mapper
            consentRequired: false
            config:
              included.client.audience: cim
              id.token.claim: "true"
              access.token.claim: "true"
              introspection.token.claim: "true"
              lightweight.claim: "false"
    - name: Realm role customer
      community.general.keycloak_role:
        realm: "{{ keycloak_api_auth_realm }}"
        name: customer
    - name: User customer
      community.general.keycloak_user:
        realm: "{{ keycloak_api_auth_realm }}"
        username: customer
        enabled: true
        email_verified: true
        email: "customer@{{ keycloak_api_auth_realm }}.invalid"
        first_name: customer
        last_name: "{{ keycloak_api_auth_realm }}"
        credentials:
          - type: password
            value: "{{ keycloak_api_auth_customer_password }}"
            temporary: false
    - name: Realm roles of user customer
      community.general.keycloak_user_rolemapping:
        realm: "{{ keycloak_api_auth_realm }}"
        target_username: customer
        roles:
          - name: customer
          - name: offline_access
          - name: uma_authorization
"""


def log(text):
    sys.stderr.write("[bench] %s\n" % text)
    sys.stderr.flush()


# --------------------------------------------------------------------------- set-up


def community_venv():
    """The community way's virtual environment, created (or updated) from the pinned requirements."""
    stamp = os.path.join(COMMUNITY_VENV, ".requirements")
    with open(REQUIREMENTS, encoding="utf-8") as handle:
        wanted = handle.read()
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as handle:
            if handle.read() == wanted:
                return COMMUNITY_VENV
    log("creating %s (pip install -r %s; takes a few minutes)" % (COMMUNITY_VENV, REQUIREMENTS))
    if not os.path.exists(os.path.join(COMMUNITY_VENV, "bin", "python")):
        subprocess.run([sys.executable, "-m", "venv", COMMUNITY_VENV], check=True)
    pip = os.path.join(COMMUNITY_VENV, "bin", "pip")
    subprocess.run([pip, "install", "-q", "--disable-pip-version-check", "-r", REQUIREMENTS], check=True)
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return COMMUNITY_VENV


def keycloak(mode):
    """``(server, owned)``: the session's 26.7.3 (``CX_KC_SESSION``) or one started here."""
    if mode == "session" or (mode == "auto" and session.session_file()):
        server = session.shared(VERSION, "")
        if server is None:
            raise SystemExit("--keycloak session needs CX_KC_SESSION")
        log("using the session's Keycloak %s at %s" % (VERSION, server.url))
        return server, False
    log("starting Keycloak %s with tools/kc" % VERSION)
    return KeycloakServer(VERSION, "").start(), True


def seed(server, realm):
    """A tenant realm as a CX install has it (client cim), plus a second mapper on cim's dedicated scope."""
    info = server.seed_tenant(realm)
    server.rest(
        "POST",
        "realms/%s/clients/%s/protocol-mappers/models" % (realm, info["client_uuid"]),
        json={
            "name": OTHER_MAPPER,
            "protocol": "openid-connect",
            "protocolMapper": "oidc-hardcoded-claim-mapper",
            "config": {"claim.name": "tenant", "claim.value": realm, "access.token.claim": "true"},
        },
    )
    return info


# --------------------------------------------------------------------------- runs


def inventory(tree, realms, url, admin_password, python):
    lines = ["all:", "  hosts:"]
    for realm in realms:
        lines.append("    %s:" % realm)
        for key, value in (
            ("ansible_connection", "local"),
            ("ansible_python_interpreter", python),
            ("keycloak_api_auth_url", url),
            ("keycloak_api_auth_admin_password", admin_password),
            ("keycloak_api_auth_realm", realm),
            ("keycloak_api_auth_customer_password", CUSTOMER_PASSWORD),
        ):
            lines.append("      %s: %s" % (key, json.dumps(value)))
    path = os.path.join(tree, "hosts.yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def group_cpu(pgid):
    """CPU seconds (user + system) used so far by the live members of process group ``pgid`` (Keycloak's JVM)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is pgrp; utime and stime are fields 14 and 15 of stat
            total += int(fields[11]) + int(fields[12])
    return total / float(ticks)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def play(way, realms, server, proxy, forks, tree):
    """One ``ansible-playbook`` run of ``way`` for ``realms``: ``(seconds, requests, output, cpu)``.

    ``cpu``: ``{"ansible": s, "keycloak": s}``, the CPU time of ``ansible-playbook`` and every process it
    waited for (workers, modules), and what Keycloak's JVM used meanwhile.
    """
    if way == "cx":
        bindir, python, text = os.path.dirname(sys.executable), sys.executable, CX_PLAY
        collections = collection_link.ensure(ROOT)
    else:
        bindir = os.path.join(COMMUNITY_VENV, "bin")
        python, text = os.path.join(bindir, "python"), COMMUNITY_PLAY
        collections = os.path.join(tree, "no-collections")  # only what the ansible package ships
        os.makedirs(collections, exist_ok=True)
    path = os.path.join(tree, "%s.yml" % way)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    hosts = inventory(tree, realms, proxy.url, server.admin_password, python)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "VIRTUAL_ENV"}
    env.update(
        PATH=bindir + os.pathsep + env.get("PATH", ""),
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_LOCAL_TEMP=os.path.join(tree, "tmp"),
    )
    proxy.reset()
    kc_before, ansible_before = group_cpu(server.pid), children_cpu()
    began = time.perf_counter()
    proc = subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "-i", hosts, path],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    cpu = {"ansible": children_cpu() - ansible_before, "keycloak": group_cpu(server.pid) - kc_before}
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        log("%s run failed (rc=%s):\n%s" % (way, proc.returncode, output[-4000:]))
        raise SystemExit(1)
    return seconds, proxy.snapshot(), output, cpu


def changed_hosts(output):
    import re  # pylint: disable=import-outside-toplevel

    return sum(1 for n in re.findall(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M) if int(n))


def figures(seconds, requests, tenants, output, cpu):
    admin = [r for r in requests if r.grant is not None and r.realm == "master"]
    other = [r for r in requests if r.grant is not None and r.realm != "master"]
    return {
        "wall": seconds,
        "ansible_cpu": cpu["ansible"] / tenants,
        "keycloak_cpu": cpu["keycloak"] / tenants,
        "requests": len(requests) / tenants,
        "admin_tokens": len(admin) / tenants,
        "other_tokens": len(other) / tenants,
        "kib": sum(r.received + r.sent for r in requests) / 1024.0 / tenants,
        "changed_hosts": changed_hosts(output),
        "lines": [r.line for r in requests],
    }


# --------------------------------------------------------------------------- end state


def end_state(server, realm):
    """What a tenant looks like afterwards (realm name replaced by ``{realm}``), read with the tool's own client."""
    client = server.rest("GET", "realms/%s/clients" % realm, params={"clientId": "cim"})[0]
    mappers = server.rest("GET", "realms/%s/clients/%s/protocol-mappers/models" % (realm, client["id"]))
    audience = next((m for m in mappers if m["name"] == "fix-audience"), None)
    users = server.rest("GET", "realms/%s/users" % realm, params={"username": "customer", "exact": "true"})
    user = users[0] if users else None
    state = {
        "fix-audience": {k: v for k, v in (audience or {}).items() if k != "id"} or None,
        OTHER_MAPPER + " kept": any(m["name"] == OTHER_MAPPER for m in mappers),
        "role customer": server.status_of("GET", "realms/%s/roles/customer" % realm) == 200,
        "user": None,
    }
    if user:
        roles = server.rest("GET", "realms/%s/users/%s/role-mappings/realm" % (realm, user["id"]))
        status, _body = password_grant(server.url, realm, "admin-cli", "customer", CUSTOMER_PASSWORD)
        state["user"] = {
            key: user.get(key)
            for key in ("username", "enabled", "emailVerified", "email", "firstName", "lastName", "requiredActions")
        }
        state["user"]["realm roles"] = sorted(r["name"] for r in roles)
        state["user"]["password works"] = status == 200
    return json.loads(json.dumps(state).replace(realm, "{realm}"))


def differences(left, right, path=""):
    """``[(path, left value, right value)]`` where two end states differ."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right)):
            found.extend(differences(left.get(key), right.get(key), "%s.%s" % (path, key) if path else key))
        return found
    return [] if left == right else [(path, left, right)]


# --------------------------------------------------------------------------- report


def median(runs, key):
    return statistics.median(run[key] for run in runs)


def ratio(a, b):
    return a / b if b else float("nan")


def report(results, repeat, forks):
    print()
    print(
        "Keycloak %s, one host per tenant, forks %d, median of %d runs on fresh realms; per tenant: requests, "
        "admin token grants (other token requests: the customer password checks), KiB sent + received, CPU "
        "seconds of Ansible (ansible-playbook, its workers and modules) and of Keycloak's JVM"
        % (VERSION, forks, repeat)
    )
    columns = (
        ("wall s", "wall", "%8.1f"),
        ("req/ten", "requests", "%8.1f"),
        ("adm tok", "admin_tokens", "%8.1f"),
        ("oth tok", "other_tokens", "%8.1f"),
        ("KiB/ten", "kib", "%8.1f"),
        ("ans CPU", "ansible_cpu", "%8.2f"),
        ("KC CPU", "keycloak_cpu", "%8.2f"),
    )
    ratios = ("wall", "requests", "kib", "ansible_cpu", "keycloak_cpu")
    header = "%4s  %-13s %-10s " % ("T", "run", "way") + " ".join("%8s" % c[0] for c in columns) + "  changed"
    print(header)
    print("-" * len(header))
    for tenants in sorted(results):
        for phase in ("first converge", "no-op rerun"):
            for way in WAYS:
                runs = results[tenants][phase][way]
                cells = " ".join(fmt % median(runs, key) for _title, key, fmt in columns)
                print(
                    "%4d  %-13s %-10s %s  %5d/%-3d" % (tenants, phase, way, cells, runs[-1]["changed_hosts"], tenants)
                )
            cx, co = results[tenants][phase]["cx"], results[tenants][phase]["community"]
            cells = " ".join(
                ("%7.2fx" % ratio(median(co, key), median(cx, key))) if key in ratios else "%8s" % ""
                for _title, key, _fmt in columns
            )
            print("%4s  %-13s %-10s %s" % ("", "", "comm./cx", cells))
    print()


def print_requests(results):
    tenants = min(results)
    if tenants != 1:
        return
    for phase in ("first converge", "no-op rerun"):
        for way in WAYS:
            lines = results[tenants][phase][way][-1]["lines"]
            print("Requests of one tenant, %s, %s (%d):" % (phase, way, len(lines)))
            for line in lines:
                print("    " + line[:140])
    print()


def parser():
    """The command line (the README's reproduce line is checked against its defaults)."""
    result = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    result.add_argument("--tenants", default="1,10,30", help="comma list of T (default 1,10,30)")
    result.add_argument("--repeat", type=int, default=3)
    result.add_argument("--forks", type=int, default=5)
    result.add_argument(
        "--keycloak",
        choices=("auto", "start", "session"),
        default="auto",
        help="start a server with tools/kc, or use the session's (CX_KC_SESSION); auto: the session's if set",
    )
    return result


def main():
    args = parser().parse_args()
    counts = [int(t) for t in args.tenants.split(",") if t.strip()]
    community_venv()
    server, owned = keycloak(args.keycloak)
    tree = tempfile.mkdtemp(prefix="cx-bench-kc-")
    results = {}
    states = {}
    try:
        with CountingProxy(server.url) as proxy:
            for tenants in counts:
                results[tenants] = {phase: {way: [] for way in WAYS} for phase in ("first converge", "no-op rerun")}
                for run in range(args.repeat):
                    for way in WAYS:
                        prefix = "bench-%s-%d-%d-%d" % (way[:2], tenants, run, os.getpid())
                        realms = ["%s-%02d" % (prefix, i) for i in range(tenants)]
                        log("T=%d run %d/%d %s: seeding %d realms" % (tenants, run + 1, args.repeat, way, tenants))
                        for realm in realms:
                            seed(server, realm)
                        try:
                            for phase in ("first converge", "no-op rerun"):
                                seconds, requests, output, cpu = play(way, realms, server, proxy, args.forks, tree)
                                results[tenants][phase][way].append(figures(seconds, requests, tenants, output, cpu))
                                log("  %s %s: %.1f s, %d requests" % (way, phase, seconds, len(requests)))
                            if run == 0:
                                states.setdefault(tenants, {})[way] = [end_state(server, realm) for realm in realms]
                        finally:
                            for realm in realms:
                                server.rest("DELETE", "realms/%s" % realm, expect=(404,))
    finally:
        shutil.rmtree(tree, ignore_errors=True)
        if owned:
            server.stop()
    report(results, args.repeat, args.forks)
    print_requests(results)
    print("End states, read back from Keycloak (first run of each T), cx against community:")
    for tenants in sorted(states):
        cx, community = states[tenants]["cx"], states[tenants]["community"]
        found = set()
        for left, right in zip(cx, community):
            found.update((path, json.dumps(a), json.dumps(b)) for path, a, b in differences(left, right))
        if not found:
            print("  T=%d: the same end state in every tenant" % tenants)
        for path, a, b in sorted(found):
            print("  T=%d: %s: cx %s, community %s" % (tenants, path, a, b))
        kept = {way: sum(state[OTHER_MAPPER + " kept"] for state in states[tenants][way]) for way in WAYS}
        print(
            "  T=%d: the second mapper on cim's dedicated scope ('%s') was kept in %d/%d cx tenants and %d/%d "
            "community tenants (keycloak_client PUTs the whole client with its protocol_mappers list)"
            % (tenants, OTHER_MAPPER, kept["cx"], tenants, kept["community"], tenants)
        )


if __name__ == "__main__":
    main()

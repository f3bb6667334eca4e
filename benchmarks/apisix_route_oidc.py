# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark apisix_route_oidc on a generated 2,000-route Helm values file.

Prints figures, asserts nothing. Measures:

1. the module's logic in-process (``main()`` with patched arguments: build and validate
   the config, read, parse, edit, check, write) enabling openid-connect on 50 routes
   and on 1 route, best and median of ``--repeat`` runs on a fresh copy each time;
2. where that time goes (parse, edits, check of the edited routes, diff masking);
3. the pure-Python PyYAML parser for comparison (``--pure``; slow);
4. a whole ``ansible localhost -m cx.api_auth.apisix_route_oidc`` run (skip with ``--no-ansible``).

Usage: .venv/bin/python benchmarks/apisix_route_oidc.py [--routes 2000] [--repeat 5] [--pure] [--no-ansible]
"""

import argparse
import contextlib
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A script, not a test: it lays out the checkout as the collection itself, as tests/conftest.py does.
sys.path.insert(0, os.path.join(ROOT, "tools"))

import collection_link  # noqa: E402

COLLECTIONS = collection_link.ensure(ROOT)
sys.path.insert(0, COLLECTIONS)

from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.cx.api_auth.plugins.module_utils._apisix import masking  # noqa: E402
from ansible_collections.cx.api_auth.plugins.module_utils._apisix import plugin_config as oidc  # noqa: E402
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file import nodes  # noqa: E402
from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.editor import RouteFile  # noqa: E402
from ansible_collections.cx.api_auth.plugins.modules import apisix_route_oidc  # noqa: E402
from ansible_collections.cx.api_auth.tests.unit.fixtures.apisix import gen_route_files  # noqa: E402

PLUGIN_ARGS = dict(keycloak_url="http://keycloak.ef-external.svc/auth", realm="bench", client_secret="bench-secret")


def _targets(count, routes):
    step = max(1, routes // count)
    return ["route-%04d" % (index * step) for index in range(count)]


def _module_run(path, targets, diff=False):
    args = dict(PLUGIN_ARGS, path=path, routes=targets, _ansible_diff=diff)
    out = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            apisix_route_oidc.main()
        except SystemExit:
            pass
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    result = json.loads(out.getvalue())
    if result.get("failed") or not result.get("changed"):
        raise SystemExit("unexpected module result: %s" % result.get("msg", result))
    return elapsed, cpu


def _in_process(text, targets, repeat, diff=False):
    """(best wall, median wall, best CPU, median CPU) seconds."""
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="bench-apisix-") as tree:
        path = os.path.join(tree, "values.yaml")
        for _run in range(repeat):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            wall, cpu = _module_run(path, targets, diff)
            walls.append(wall)
            cpus.append(cpu)
    return min(walls), statistics.median(walls), min(cpus), statistics.median(cpus)


def _phases(text, targets):
    config = oidc.build_config(
        dict({k: v.get("default") for k, v in oidc.OIDC_PLUGIN_ARGUMENT_SPEC.items()}, **PLUGIN_ARGS)
    )
    marks = [("start", time.process_time())]
    doc = RouteFile(text, "values.yaml")
    marks.append(("parse (compose, %s)" % ("libyaml" if nodes.HAS_LIBYAML else "pure Python"), time.process_time()))
    doc.check_targets(targets)
    for route_id in targets:
        doc.set_plugin(route_id, oidc.PLUGIN_NAME, config)
    marks.append(("plan the edits", time.process_time()))
    new_text = doc.result()
    marks.append(("apply + check the edited routes", time.process_time()))
    secrets = doc.secret_texts(oidc.PLUGIN_NAME, oidc.SECRET_PATHS) | set(masking.secret_values(config))
    for _route_id, before, after in doc.route_changes(new_text):
        masking.mask_text(before, secrets)
        masking.mask_text(after, secrets)
    marks.append(("per-route diff, masked (--diff only)", time.process_time()))
    return [(name, end - start) for (_n, start), (name, end) in zip(marks, marks[1:])]


def _compose_cpu(text, paused):
    """CPU seconds of one parse, with the collection's GC pause or with the GC running."""
    start = time.process_time()
    if paused:
        nodes.compose(text)
    else:
        nodes.yaml.compose(text, Loader=nodes.LOADER)
    seconds = time.process_time() - start
    gc.collect()
    return seconds


def _ansible(text, targets):
    with tempfile.TemporaryDirectory(prefix="bench-apisix-") as tree:
        path = os.path.join(tree, "values.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        cmd = [
            os.path.join(os.path.dirname(sys.executable), "ansible"),
            "localhost",
            "-c",
            "local",
            "-i",
            "localhost,",
            "-e",
            "ansible_python_interpreter=%s" % sys.executable,
            "-m",
            "cx.api_auth.apisix_route_oidc",
            "-a",
            json.dumps(dict(PLUGIN_ARGS, path=path, routes=targets)),
        ]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1")
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0 or "CHANGED" not in proc.stdout:
            raise SystemExit("ansible run failed:\n" + proc.stdout + proc.stderr)
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pure", action="store_true", help="also time the pure-Python parser")
    parser.add_argument("--no-ansible", action="store_true", help="skip the whole ansible runs")
    args = parser.parse_args()

    text = gen_route_files.large_values_file(args.routes)
    print(
        "file: %d routes, %d lines, %.0f KiB; PyYAML with libyaml: %s"
        % (args.routes, text.count("\n"), len(text) / 1024.0, nodes.HAS_LIBYAML)
    )
    print()
    print(
        "module logic in-process, seconds (best / median of %d; wall clock, then CPU time of this process):"
        % args.repeat
    )
    for label, count, diff in (
        ("enable on 50 routes", 50, False),
        ("enable on 1 route", 1, False),
        ("enable on 50 routes, --diff", 50, True),
    ):
        figures = _in_process(text, _targets(count, args.routes), args.repeat, diff)
        print("  %-28s wall %6.3f / %6.3f   cpu %6.3f / %6.3f" % ((label,) + figures))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None:
        print("  (load average %.1f on %d CPU(s): wall clock includes waiting for a CPU)" % (load, os.cpu_count() or 1))
    print()
    print("phases, 50 routes (CPU seconds):")
    for name, seconds in _phases(text, _targets(50, args.routes)):
        print("  %-40s %6.3f s" % (name, seconds))
    print()
    print("why the parse pauses the cyclic GC (compose alone, CPU seconds, best of 3):")
    paused = min(_compose_cpu(text, paused=True) for _run in range(3))
    running = min(_compose_cpu(text, paused=False) for _run in range(3))
    print("  GC paused %6.3f s   GC running %6.3f s   ratio %.2f" % (paused, running, running / paused))
    if args.pure:
        loader = nodes.LOADER
        nodes.LOADER = nodes.yaml.SafeLoader
        try:
            figures = _in_process(text, _targets(50, args.routes), 1)
            print()
            print("pure-Python parser, enable on 50 routes: wall %6.3f s, cpu %6.3f s" % (figures[0], figures[2]))
        finally:
            nodes.LOADER = loader
    if not args.no_ansible:
        print()
        print("whole `ansible localhost -m cx.api_auth.apisix_route_oidc` run (one each):")
        for count in (50, 1):
            print("  enable on %2d route(s): %6.3f s" % (count, _ansible(text, _targets(count, args.routes))))


if __name__ == "__main__":
    main()

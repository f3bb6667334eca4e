# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the Admin API integration tests: the emulator (tests/support), routes to seed, and
``play()``, which runs apisix_route_oidc through ``ansible-playbook`` and returns its result too."""

import copy
import json
import os
import sys
import tempfile

from ._runner import _CALLBACKS, run_playbook

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import apisix_admin_emulator

Emulator = apisix_admin_emulator.Emulator
EMULATOR_SCRIPT = apisix_admin_emulator.__file__

SECRET = "Adm1n-api-cim-secret-value"
PLUGIN_ARGS = dict(keycloak_url="http://keycloak.ef-external.svc/auth", realm="tenant-a", client_secret=SECRET)
# Credentials of other plugins and of upstreams: never in any output.
FOREIGN = [
    "Zm9yZWlnbi1wcm94eS1hdXRob3JpemF0aW9u",
    "foreign-key-auth-key-4711",
    "foreign-upstream-client-key-0815",
    "foreign-hmac-secret-key-1234",
]
ROUTES = [
    {
        "id": "orders-main-secured",
        "name": "orders",
        "uri": "/orders/*",
        "methods": ["GET", "POST"],
        "labels": {"team": "orders"},
        "upstream": {"type": "roundrobin", "nodes": {"orders.svc:8080": 1}},
        "plugins": {
            "proxy-rewrite": {"headers": {"set": {"Authorization": "Basic " + FOREIGN[0]}}},
            "limit-count": {"count": 100, "time_window": 60},
        },
    },
    {
        "id": "files-main",
        "uri": "/files/*",
        "upstream": {
            "type": "roundrobin",
            "nodes": {"files.svc:8443": 1},
            "scheme": "https",
            "tls": {"client_key": FOREIGN[2]},
        },
        "plugins": {"key-auth": {"key": FOREIGN[1]}},
    },
    {
        "id": "admin-backend-secured",
        "uri": "/admin/*",
        "desc": "hand-made",
        "upstream": {"type": "roundrobin", "nodes": {"admin.svc:8080": 1}},
        "plugins": {"hmac-auth": {"secret_key": FOREIGN[3]}},
    },
    {"id": "orders-login-public", "uri": "/login", "upstream": {"type": "roundrobin", "nodes": {"login:80": 1}}},
]


def seeded(version="3.18", routes=None, **kwargs):
    emulator = Emulator(version, **kwargs)
    for route in ROUTES if routes is None else routes:
        emulator.seed(copy.deepcopy(route))
    return emulator.start()


def plugins_patches(emulator):
    """Requests that would replace every plugin of a route (``PATCH .../plugins``)."""
    return [(m, p) for m, p in emulator.requests if m == "PATCH" and p.rstrip("/").endswith("/plugins")]


def without_oidc(route):
    """A route's value without its openid-connect plugin and its update_time: what must never change."""
    route = copy.deepcopy(route)
    route.pop("update_time", None)
    (route.get("plugins") or {}).pop("openid-connect", None)
    return route


def play(tmp_path, args, check=False, diff=False, verbosity=0, env=None):
    """Run one apisix_route_oidc task through ansible-playbook: ``(rc, output, result)``."""
    playbook = tmp_path / ("play-%d.yml" % len(list(tmp_path.glob("play-*.yml"))))
    playbook.write_text(
        "- name: Admin API\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: openid-connect through the Admin API\n      cx.api_auth.apisix_route_oidc: %s\n" % json.dumps(args)
    )
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n"
        % sys.executable
    )
    with tempfile.TemporaryDirectory(prefix="cx-api-auth-result-") as tree:
        result_file = os.path.join(tree, "result.json")
        run_env = {
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_CALLBACK_PLUGINS": _CALLBACKS,
            "ANSIBLE_CALLBACKS_ENABLED": "result_file",
            "CX_RESULT_FILE": result_file,
        }
        run_env.update(env or {})
        rc, output = run_playbook(str(playbook), inventory, check=check, diff=diff, verbosity=verbosity, env=run_env)
        result = {}
        if os.path.exists(result_file):
            with open(result_file, encoding="utf-8") as handle:
                result = json.loads(handle.read().splitlines()[-1])
    return rc, output, result

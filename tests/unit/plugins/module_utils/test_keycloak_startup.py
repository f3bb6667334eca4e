# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What loading python-keycloak costs a module run (plugins/module_utils/_keycloak/connection.py).

Each check runs in a new Python process (``sys.modules`` as a module run starts with it): the
imports python-keycloak makes that a run does not use are deferred, the async client it builds with
every connection is a stand-in, and both still work (or fail loudly) when something does use them.
"""

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import COLLECTIONS_ROOT

PRELUDE = """
import json, ssl, sys
loaded_contexts = []
_load = ssl.SSLContext.load_verify_locations
def counting_load(self, *args, **kwargs):
    loaded_contexts.append(1)
    return _load(self, *args, **kwargs)
ssl.SSLContext.load_verify_locations = counting_load
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import connection
"""


# python-keycloak seen as another release than the installed one (before connection.py reads it)
OTHER_RELEASE = """
from importlib import metadata
_real_version = metadata.version
metadata.version = lambda name: "7.99.0" if name == "python-keycloak" else _real_version(name)
"""


def run(script, prelude=""):
    env = dict(os.environ, PYTHONPATH=COLLECTIONS_ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", prelude + PRELUDE + textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_unused_imports_are_deferred():
    found = run(
        """
        print(json.dumps({
            "has_keycloak": connection.HAS_KEYCLOAK,
            "loaded": [n for n in ("cryptography", "httpx._main", "rich", "click") if n in sys.modules],
            "deferred": sorted(n for n, m in sys.modules.items() if type(m).__name__ == "_Deferred"),
        }))
        """
    )
    assert found == {"has_keycloak": True, "loaded": [], "deferred": ["aiofiles", "jwcrypto.jwk", "jwcrypto.jwt"]}


def test_a_deferred_module_is_imported_when_used():
    found = run(
        """
        import keycloak.keycloak_openid as openid
        key = openid.jwk.JWK.generate(kty="oct", size=256)
        print(json.dumps({
            "kty": key["kty"] if hasattr(key, "__getitem__") else key.kty,
            "real": type(sys.modules["jwcrypto.jwk"]).__name__,
            "cryptography": "cryptography" in sys.modules,
            "aiofiles": callable(openid.aiofiles.open),
        }))
        """
    )
    assert found == {"kty": "oct", "real": "module", "cryptography": True, "aiofiles": True}


def test_connections_build_no_async_client():
    found = run(
        """
        from keycloak import KeycloakOpenID, KeycloakOpenIDConnection
        conn = KeycloakOpenIDConnection(server_url="http://127.0.0.1:9/", realm_name="master", username="a",
                                        password="b", verify=True)
        openid = KeycloakOpenID(server_url="http://127.0.0.1:9/", realm_name="r", client_id="cim", verify=True)
        try:
            conn.async_s.get("http://127.0.0.1:9/")
            used = "no error"
        except AttributeError as err:
            used = str(err)
        print(json.dumps({"contexts": len(loaded_contexts), "session": type(openid.connection._s).__name__,
                          "used": used}))
        """
    )
    assert found["contexts"] == 0, "python-keycloak loaded CA bundles for async clients"
    assert found["session"] == "Session"  # the synchronous requests session is the real one
    assert found["used"] == "cx.api_auth does not use python-keycloak's async client (get)"


def test_the_stand_ins_are_applied_only_to_a_tested_release():
    """The installed release (the one meta/ee-requirements.txt pins) is patched; the pin and the gate agree."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))))
    with open(os.path.join(root, "meta", "ee-requirements.txt"), encoding="utf-8") as handle:
        pinned = [line.split("==", 1)[1].strip() for line in handle if line.startswith("python-keycloak==")]
    found = run(
        """
        import keycloak.connection
        print(json.dumps({"version": connection.installed_version(), "patched": connection.PATCHED,
                          "httpx": type(keycloak.connection.httpx).__name__}))
        """
    )
    assert pinned and found == {"version": pinned[0], "patched": True, "httpx": "_SyncHttpx"}
    assert pinned[0] in connection_module().PATCHED_VERSIONS


def connection_module():
    from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import connection

    return connection


def test_another_release_loads_unpatched_and_works():
    """A python-keycloak release no test has seen: nothing deferred, its own async client, and a request
    through a connection still reaches the server (slower, never broken)."""
    found = run(
        """
        import http.server, threading
        class Answer(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"realm": "r", "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        import httpx
        import keycloak.connection
        from keycloak import KeycloakOpenIDConnection
        url = "http://127.0.0.1:%d/" % server.server_address[1]
        conn = KeycloakOpenIDConnection(server_url=url, realm_name="r", verify=True)
        answer = conn.raw_get("realms/r")
        print(json.dumps({
            "patched": connection.PATCHED,
            "deferred": sorted(n for n, m in sys.modules.items() if type(m).__name__ == "_Deferred"),
            "httpx": keycloak.connection.httpx is httpx,
            "async_client": type(conn.async_s).__name__,
            "answer": [answer.status_code, answer.json()["path"]],
        }))
        server.shutdown()
        """,
        prelude=OTHER_RELEASE,
    )
    assert found == {
        "patched": False,
        "deferred": [],
        "httpx": True,
        "async_client": "AsyncClient",
        "answer": [200, "/realms/r"],
    }

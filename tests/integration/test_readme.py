# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's commands, run exactly as written, in a new shell, on a fresh copy of the checkout.

Every ``console`` block of README.md (and of benchmarks/README.md, which it links to) carries a marker comment
on the line before it: ``<!-- readme-test: NAME -->``. The blocks are parsed out of those files here (so the
READMEs and this test cannot drift) and each named block is run as one bash script in a new shell:
the machine's environment without what the test harness adds (this checkout's venv on
PATH, ``ANSIBLE_*``, ``CX_*``), on a pseudo-terminal that answers the vault password
prompts as an installer types them. Two things stand in for the installer's hands:
``$EDITOR`` is a script that makes the edits a person makes (tenant settings pointing at the
test's Keycloak, the vault's three secrets), and ``ANSIBLE_HOME`` is a directory of the test,
so installing the collection does not touch this machine's ``~/.ansible``.

Of the ``make`` block, ``make demo`` runs here (in the same fresh copy, on the session's
Keycloak when there is one, in a realm of its own); ``make test`` is what CI runs through
``.ci/run``, which the test checks.
"""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from kc import session

from .helpers import seed_tenant

README = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "README.md")
ROOT = os.path.dirname(README)
# every file whose console blocks are run or checked here: the README and the pages it links to
READMES = [README, os.path.join(ROOT, "benchmarks", "README.md")]
MARKER = re.compile(r"^<!-- readme-test: (?P<name>[\w-]+) -->$")
# the requirements.yml examples of the release install (```yaml blocks), used by the `release` block
REQUIREMENTS_MARKER = re.compile(r"^<!-- readme-requirements: (?P<name>[\w-]+) -->$", re.M)
VAULT_PASSWORD = "Readme-Vault-Pass-7391"
# What the EDITOR stand-in does (tests/integration/readme_editor.py reads it from the environment).
EDITOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "readme_editor.py")


def console_blocks(text):
    """``[(name or None, [lines])]`` of every ```console block, with the marker above it."""
    blocks = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "```console":
            end = lines.index("```", index + 1)
            above = lines[index - 1].strip() if index else ""
            match = MARKER.match(above)
            blocks.append((match.group("name") if match else None, lines[index + 1 : end]))
    return blocks


def all_console_blocks():
    """The console blocks of every file of ``READMES``, in that order."""
    blocks = []
    for path in READMES:
        with open(path, encoding="utf-8") as handle:
            blocks.extend(console_blocks(handle.read()))
    return blocks


def readme_block(name):
    found = [lines for block, lines in all_console_blocks() if block == name]
    assert len(found) == 1, "the READMEs have %d console blocks marked %r" % (len(found), name)
    return "\n".join(found[0]) + "\n"


def test_every_console_block_is_marked():
    blocks = all_console_blocks()
    assert blocks, "the READMEs have no console blocks"
    unmarked = [lines[0] for name, lines in blocks if name is None]
    assert not unmarked, "console blocks without a readme-test marker: %r" % unmarked
    assert sorted(block[0] for block in blocks) == [
        "benchmark",
        "disable",
        "emulator",
        "make",
        "release",
        "setup",
        "tenant",
    ]


def test_make_block_is_what_ci_runs():
    block = readme_block("make")
    assert re.search(r"^make demo\b", block, re.M) and re.search(r"^make test\b", block, re.M)
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        assert re.search(r"^make test$", handle.read(), re.M)


def fresh_copy(target):
    """The checkout's files as a clone has them (tracked and new, not ignored), in ``target``."""
    names = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in names)):
        source = os.path.join(ROOT, name)
        if not os.path.lexists(source):
            continue  # deleted in the work tree, not committed yet
        dest = os.path.join(target, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(source, dest, follow_symlinks=False)


def new_shell_environment(tmp_path, **extra):
    """The machine's environment as a new login shell has it, without the test harness's additions."""
    venv_bin = os.path.dirname(sys.executable)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "CX_", "MOLECULE_", "PYTEST_"))
        and key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "EDITOR", "VISUAL")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    env["TERM"] = "dumb"
    env.update(extra)
    return env


def run_in_pty(script, cwd, env, timeout=900):
    """Run ``script`` with bash -e on a pseudo-terminal; answer vault prompts; return (rc, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a new shell
        try:
            os.chdir(cwd)
            os.execve("/bin/bash", ["bash", "-e", "-c", script], env)
        finally:
            os._exit(127)
    output = b""
    answered = 0
    deadline = time.time() + timeout
    while True:
        if time.time() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError("the README block did not end in %d s; output:\n%s" % (timeout, output.decode()))
        ready = select.select([fd], [], [], 1)[0]
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                break
            output += chunk
            prompts = len(re.findall(rb"[Vv]ault password[^:\n]*: ?$|[Vv]ault password[^:\n]*: ?\r?\n?", output))
            while answered < prompts:
                os.write(fd, VAULT_PASSWORD.encode() + b"\n")
                answered += 1
    status = os.waitpid(pid, 0)[1]
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def recaps(output):
    """``[{ok, changed, failed, ...}]`` of every PLAY RECAP line of every host but localhost (where the run's
    report is written), in order."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^(\S+)\s+: (ok=.*)$", line.strip())
        if match and match.group(1) != "localhost":
            found.append({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))})
    return found


def route_report(output):
    """``{route: status}`` of the verify table(s) in ``output`` (the last line per route wins)."""
    found = {}
    for route, status in re.findall(r'^\s*"(\S+)\s+(ok|open|failed)\s+(?:yes|no|-)\s', output, re.M):
        found[route] = status
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh copy of the checkout after the README's set-up block ran in it."""
    tmp_path = tmp_path_factory.mktemp("readme")
    checkout = tmp_path / "cx-api-auth"
    fresh_copy(str(checkout))
    env = new_shell_environment(tmp_path)
    rc, output = run_in_pty(readme_block("setup"), str(checkout), env)
    assert rc == 0, "the README's set-up failed (rc %d):\n%s" % (rc, output[-4000:])
    return tmp_path, checkout, env


def test_setup_installs_the_collection(installed):
    tmp_path, checkout, env = installed
    collection = tmp_path / "ansible-home" / "collections" / "ansible_collections" / "cx" / "api_auth"
    assert (collection / "MANIFEST.json").is_file(), "the set-up did not install cx.api_auth into ANSIBLE_HOME"
    assert not (collection / ".venv").exists(), "the installed collection holds the venv"
    rc, output = run_in_pty(
        "set -o pipefail\n. .venv/bin/activate\nansible-doc cx.api_auth.apisix_route_oidc | cat\n", str(checkout), env
    )
    assert rc == 0 and "apisix_route_oidc" in output, output[-2000:]


def test_tenant_commands_as_written(installed, keycloak):
    """The per-tenant block, as written: copy the example inventory, edit, vault, check, apply, rerun."""
    tmp_path, checkout, env = installed
    tenant = seed_tenant(keycloak, "readme")
    try:
        routes_file = tmp_path / "acme-values.yaml"
        shutil.copy(
            os.path.join(ROOT, "tests", "unit", "fixtures", "apisix", "helm-values-credentials.yaml.sample"),
            routes_file,
        )
        original = routes_file.read_bytes()
        customer_password = "Readme-Customer-Pw-5512"
        edits = {
            "tenant.yml": {
                "cx_tenant_realm": tenant.realm,
                "keycloak_api_auth_url": keycloak.url,
                "keycloak_api_auth_admin_username": keycloak.admin_user,
                "apisix_api_auth_keycloak_url": keycloak.url,
                "apisix_api_auth_routes_file": str(routes_file),
            },
            "vault": {
                "vault_keycloak_admin_password": keycloak.admin_password,
                "vault_customer_password": customer_password,
                "vault_cim_client_secret": tenant.client_secret,
            },
        }
        editor = tmp_path / "editor"
        editor.write_text('#!/bin/sh\nexec "%s" "%s" "$@"\n' % (sys.executable, EDITOR))
        editor.chmod(0o755)
        shell_env = dict(env, EDITOR=str(editor), CX_README_EDITS=json.dumps(edits))
        # a new shell: the set-up's venv is activated again, as the README says for later shells
        rc, output = run_in_pty(". .venv/bin/activate\n" + readme_block("tenant"), str(checkout), shell_env)
        assert rc == 0, "the README's tenant commands failed (rc %d):\n%s" % (rc, output[-6000:])

        runs = recaps(output)
        assert len(runs) == 4, "expected the recaps of 4 playbook runs (one host), got %r" % runs
        check, apply, rerun, verify = runs
        assert check["changed"] > 0 and check["failed"] == 0
        assert apply["changed"] == check["changed"], "check mode predicted %r, the run did %r" % (check, apply)
        assert rerun["changed"] == 0 and rerun["failed"] == 0
        assert verify["changed"] == 0 and verify["failed"] == 0
        # one line per tenant from each role at the default verbosity: what the modules did (check, run, rerun)
        lines = re.findall(r'"msg": "(Realm [^"]*)"', output)
        kc_lines = [line for line in lines if "mapper 'fix-audience'" in line.lower()]
        assert len(kc_lines) == 3, lines
        assert re.match(
            r"Realm \S+: Would (create|update) mapper .*; Would (create|update) user 'customer'", kc_lines[0]
        )
        assert re.match(r"Realm \S+: (Created|Updated) mapper .*; (Created|Updated) user 'customer'", kc_lines[1])
        assert re.match(r"Realm \S+: Mapper .* is up to date; User 'customer' .* is up to date", kc_lines[2])
        gateway = [line for line in lines if "openid-connect" in line]
        assert len(gateway) == 3 and "would be enabled on" in gateway[0] and "already enabled" in gateway[2], lines
        # the example inventory chooses routes by rule: the commented-out block and the active one
        report = route_report(output)
        assert report == {"orders-main-secured": "ok", "files-main": "ok"}, report
        # the vault file is encrypted, the route file changed, Keycloak holds the guide's state
        vault = checkout / "inventories" / "acme" / "group_vars" / "all" / "vault.yml"
        assert vault.read_text().startswith("$ANSIBLE_VAULT;")
        assert routes_file.read_bytes() != original and b"openid-connect" in routes_file.read_bytes()
        access, ident = tenant.tokens("customer", customer_password)
        assert "cim" in [access["aud"]] + list(access["aud"]) and "cim" in [ident["aud"]] + list(ident["aud"])
        for secret in (keycloak.admin_password, customer_password, tenant.client_secret, VAULT_PASSWORD):
            assert secret not in output, "a secret was printed by the README's commands"

        # the disable block, in the same inventory: one route off, verify says open, then all off
        rc, output = run_in_pty(". .venv/bin/activate\n" + readme_block("disable"), str(checkout), shell_env)
        assert rc == 0, "the README's disable commands failed (rc %d):\n%s" % (rc, output[-6000:])
        first, verify, every = recaps(output)
        assert first["changed"] == 1 and verify["failed"] == 0 and every["changed"] == 1, recaps(output)
        assert route_report(output) == {"orders-main-secured": "ok", "files-main": "open"}, route_report(output)
        routes = yaml.safe_load(routes_file.read_text())["apisixStandalone"]["routes"]
        assert not [r["id"] for r in routes if "openid-connect" in (r.get("plugins") or {})]
        assert routes_file.read_text().count("#         openid-connect:") >= 2  # commented out, as the chart does
        for secret in (keycloak.admin_password, customer_password, tenant.client_secret, VAULT_PASSWORD):
            assert secret not in output, "a secret was printed by the README's disable commands"
    finally:
        tenant.delete()
        # the copy is shared by the module's tests (and this test's other Keycloak): as the set-up left it
        shutil.rmtree(checkout / "inventories" / "acme", ignore_errors=True)


def test_make_demo_as_written(installed):
    """``make demo`` from the README's make block, in the fresh copy, ends with the customer's token.

    Not parametrized over the servers: the demo runs its own Keycloak version (26), which is
    the session's shared server when there is a session.
    """
    checkout, env = installed[1:]
    line = [ln for ln in readme_block("make").splitlines() if ln.startswith("make demo")]
    assert len(line) == 1
    realm = "readme-demo-%d" % os.getpid()
    demo_env = dict(env, CX_DEMO_REALM=realm)
    shared = session.shared("26.7.3")
    if shared is not None:
        demo_env[session.ENV] = os.environ[session.ENV]  # share the session's server, as molecule does
    try:
        rc, output = run_in_pty(line[0] + "\n", str(checkout), demo_env, timeout=1200)
        assert rc == 0, "make demo failed (rc %d):\n%s" % (rc, output[-6000:])
        assert re.search(r"changed=0 ", output), output[-3000:]
        assert re.search(r"access token aud:.*'cim'", output), output[-3000:]
        # it ends with the verify table: the demo's three routes pass as the gateway checks them
        assert route_report(output) == dict.fromkeys(
            ["orders-main-secured", "files-main", "admin-backend-secured"], "ok"
        )
        if shared is not None:
            assert shared.admin_password not in output
    finally:
        if shared is not None:
            shared.rest("DELETE", "realms/%s" % realm, expect=(404,))


def test_emulator_commands_as_written(installed):
    """The Admin API emulator's start and stop, as the README shows them."""
    checkout, env = installed[1:]
    rc, output = run_in_pty(readme_block("emulator"), str(checkout), env, timeout=120)
    assert rc == 0, output[-3000:]
    started = json.loads(re.search(r"^\{.*\}\s*$", output, re.M).group(0))
    assert started["url"].startswith("http://127.0.0.1:")
    try:
        urllib.request.urlopen(started["url"] + "/apisix/admin/routes", timeout=5)
    except urllib.error.HTTPError as err:
        pytest.fail("the emulator still answers after stop (%s)" % err.code)
    except urllib.error.URLError as err:
        assert isinstance(err.reason, ConnectionRefusedError), err
    else:
        pytest.fail("the emulator still answers after stop")


def test_benchmark_block_is_the_make_target():
    """``make benchmark-keycloak`` (about an hour: not run by the suite) is the command the README's comment says.

    The target's recipe (``make -n``) and the script's defaults are read and compared with the
    comment, so the README cannot promise figures of another command.
    """
    block = readme_block("benchmark").strip()
    command, comment = (part.strip() for part in block.split("#", 1))
    assert command == "make benchmark-keycloak"
    said = comment.lstrip("= ").split()
    recipe = (
        subprocess.run(
            ["make", "-n", "--no-print-directory", "benchmark-keycloak"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
        .split()
    )
    assert recipe == said, "make -n benchmark-keycloak runs %r, the README says %r" % (recipe, said)
    assert said[:2] == [".venv/bin/python", "benchmarks/keycloak_converge.py"]
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import keycloak_converge  # pylint: disable=import-outside-toplevel

        args = keycloak_converge.parser().parse_args(said[2:])
    finally:
        sys.path.pop(0)
    assert (args.keycloak, args.tenants, args.repeat) == ("start", "1,10,30", 3)  # the figures' T and median of 3


def readme_requirements(name):
    """The text of the README's ``requirements.yml`` example NAME: the ```yaml block under its marker."""
    with open(README, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    found = [index for index, line in enumerate(lines) if line.strip() == "<!-- readme-requirements: %s -->" % name]
    assert len(found) == 1, "the README has %d requirements.yml examples marked %r" % (len(found), name)
    start = found[0] + 1
    assert lines[start] == "```yaml", "the marker %r is not above a yaml block" % name
    return "\n".join(lines[start + 1 : lines.index("```", start + 1)]) + "\n"


def test_every_requirements_example_is_marked():
    with open(README, encoding="utf-8") as handle:
        names = sorted(REQUIREMENTS_MARKER.findall(handle.read()))
    assert names == ["git", "tarball"]


def _pin(path, package):
    with open(path, encoding="utf-8") as handle:
        pins = [line.split("==", 1)[1].strip() for line in handle if line.startswith(package + "==")]
    assert len(pins) == 1, "%s pins %s %d times" % (path, package, len(pins))
    return pins[0]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The release as an installer gets it: the tarball built from a fresh copy of the checkout, and a git
    repository of that copy with the version's tag."""
    tmp_path = tmp_path_factory.mktemp("release")
    repository = tmp_path / "cx-api-auth"
    fresh_copy(str(repository))
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    subprocess.run(
        [galaxy, "collection", "build", str(repository), "--output-path", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        version = yaml.safe_load(handle)["version"]
    git = ["git", "-C", str(repository), "-c", "user.name=readme-test", "-c", "user.email=readme-test@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "release"], ["tag", version]):
        subprocess.run(git + args, check=True, capture_output=True)
    return tmp_path, repository, version


@pytest.mark.parametrize("source", ["tarball", "git"])
def test_release_install_as_written(release, tmp_path, source):
    """The README's install without a clone: its requirements.yml example (the tarball as written; the git one
    with the test's repository for the example's path), then its ``release`` block as written, in a new shell."""
    built, repository, version = release
    text = readme_requirements(source)
    (entry,) = yaml.safe_load(text)["collections"]
    if source == "tarball":
        assert entry == {"name": "./cx-api_auth-%s.tar.gz" % version, "type": "file"}, entry
        shutil.copy(built / os.path.basename(entry["name"]), tmp_path)
    else:
        assert entry["type"] == "git" and entry["name"].startswith("git+file:///"), entry
        assert str(entry["version"]) == version, "the git example is not pinned to the release %s" % version
        text = text.replace(entry["name"], "git+file://%s" % repository)
    (tmp_path / "requirements.yml").write_text(text)
    block = readme_block("release")
    # the block's ansible-core is the one the suite tests (requirements/run.txt)
    said = re.search(r"^pip install ansible-core==(\S+)$", block, re.M)
    assert said and said.group(1) == _pin(os.path.join(ROOT, "requirements", "run.txt"), "ansible-core"), block
    python = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "find_python.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    env = new_shell_environment(tmp_path, PYTHON=python)

    rc, output = run_in_pty(block, str(tmp_path), env)
    assert rc == 0, "the README's release install failed (rc %d):\n%s" % (rc, output[-6000:])

    collection = tmp_path / "ansible-home" / "collections" / "ansible_collections" / "cx" / "api_auth"
    with open(collection / "MANIFEST.json", encoding="utf-8") as handle:
        assert json.load(handle)["collection_info"]["version"] == version
    shipped = collection / "meta" / "ee-requirements.txt"
    with open(os.path.join(ROOT, "meta", "ee-requirements.txt"), "rb") as handle:
        assert shipped.read_bytes() == handle.read()
    assert not (collection / "requirements").exists() and not (collection / "tools").exists()
    assert re.search(r"cx\.api_auth\.keycloak_api_auth", output), output[-2000:]
    # the modules' Python packages, as the one list pins them, in the environment that runs ansible
    installed = subprocess.run(
        [
            str(tmp_path / ".venv" / "bin" / "python"),
            "-c",
            "import importlib.metadata as m, keycloak, yaml; print(m.version('python-keycloak'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert installed == _pin(shipped, "python-keycloak")

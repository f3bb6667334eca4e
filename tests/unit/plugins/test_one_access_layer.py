# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of issue 19 held by a grep over plugins/ (code only: module documentation and docstrings may
show a mask such as ``********`` as an example).

* Every HTTP request to Keycloak is built in ``plugins/module_utils/_keycloak/`` (python-keycloak for the
  admin REST, ``_keycloak/openid.py`` for the token endpoint, introspection and discovery); the APISIX Admin
  API client is the only other place that sends HTTP. No other plugin imports an HTTP library.
* Secrets are masked by one unit, ``plugins/module_utils/_masking.py``: no mask literal and no masking
  function anywhere else.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLUGINS = ROOT / "plugins"
ACCESS_LAYER = "plugins/module_utils/_keycloak/"
ADMIN_API_CLIENT = "plugins/module_utils/_apisix/admin_api/client.py"
MASKING_UNIT = "plugins/module_utils/_masking.py"

# What builds or sends an HTTP request: Ansible's open_url / Request, the standard library's openers and
# connections, requests, httpx, python-keycloak's clients, a raw socket.
HTTP = re.compile(
    r"\bopen_url\b|module_utils\.urls\b|\burllib\.request\b|\bfrom urllib import request\b|\bhttp\.client\b"
    r"|\bimport requests\b|\bfrom requests\b|\brequests\.(?:get|post|put|patch|delete|head|request|Session)\b"
    r"|\bhttpx\b|\bKeycloakOpenID|\bKeycloakAdmin\b|\bsocket\.(?:create_connection|socket)\b"
)
# A mask: a run of asterisks, Ansible's own placeholders, or a function or class that masks.
MASK_LITERAL = re.compile(r"\*{3,}|VALUE_SPECIFIED|NOT_LOGGING_PARAMETER")
MASK_NAME = re.compile(r"mask|redact|censor", re.IGNORECASE)
UNIT_NAMES = ("masking", "_masking")  # how a plugin names the masking unit it imports


def _sources():
    return sorted(PLUGINS.rglob("*.py"))


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def _documentation(tree):
    """The ids of the string constants that are documentation (module docs, docstrings), not code."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN")
            for target in node.targets
        ):
            ids.update(id(sub) for sub in ast.walk(node.value))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
        if isinstance(node, ast.ClassDef) and node.name == "ModuleDocFragment":
            ids.update(id(sub) for sub in ast.walk(node))
    return ids


def _code_lines(path):
    """The source lines of ``path`` without comments, docstrings and documentation strings."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    skip = set()
    docs = _documentation(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) in docs:
            skip.update(range(node.lineno, node.end_lineno + 1))
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        if number in skip:
            continue
        lines.append((number, line.split("#", 1)[0] if line.lstrip().startswith("#") else line))
    return lines


def _literals(path):
    """``(line, text)`` of every string constant of ``path`` that is code, not documentation."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _documentation(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_the_grep_sees_the_plugins():
    names = {_rel(path) for path in _sources()}
    assert "plugins/lookup/keycloak_admin_token.py" in names and ADMIN_API_CLIENT in names
    assert "plugins/module_utils/_apisix/oidc_check.py" in names


@pytest.mark.parametrize("path", _sources(), ids=_rel)
def test_no_http_request_outside_the_access_layer(path):
    rel = _rel(path)
    if rel.startswith(ACCESS_LAYER) or rel == ADMIN_API_CLIENT:
        return
    found = ["%s:%d: %s" % (rel, number, line.strip()) for number, line in _code_lines(path) if HTTP.search(line)]
    assert not found, "HTTP built outside %s (and the Admin API client):\n%s" % (ACCESS_LAYER, "\n".join(found))


@pytest.mark.parametrize("path", _sources(), ids=_rel)
def test_no_secret_mask_outside_the_masking_unit(path):
    rel = _rel(path)
    if rel == MASKING_UNIT:
        return
    found = ["%s:%d: %r" % (rel, number, text) for number, text in _literals(path) if MASK_LITERAL.search(text)]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and MASK_NAME.search(node.name):
            # a function that masks by handing over to the unit is fine; one that masks by itself is not
            if not any(isinstance(sub, ast.Name) and sub.id in UNIT_NAMES for sub in ast.walk(node)):
                found.append("%s:%d: %s" % (rel, node.lineno, node.name))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper() and MASK_NAME.search(target.id):
                    found.append("%s:%d: %s" % (rel, node.lineno, target.id))
    assert not found, "a secret mask outside %s:\n%s" % (MASKING_UNIT, "\n".join(found))


def test_the_masking_unit_and_the_access_layer_exist():
    assert (ROOT / MASKING_UNIT).is_file()
    assert (ROOT / ACCESS_LAYER / "openid.py").is_file()

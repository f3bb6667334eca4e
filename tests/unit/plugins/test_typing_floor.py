# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The type annotations (checked by mypy in ``make lint``, mypy.ini) cost nothing at run time on the modules'
Python floor, which is older than what mypy checks for (3.10): held by a look at the code's syntax tree.

* ``X | Y`` (PEP 604, Python 3.10) stands only in annotations of a file with ``from __future__ import
  annotations``; a type alias (``Doc = Union[Document, Fragment]``), even under ``if TYPE_CHECKING:``, spells
  it with ``Union``/``Optional``, as sanity's pylint reads the aliases for the oldest Python too.
* What is imported or defined under ``if TYPE_CHECKING:`` is not used at run time (it does not exist then).
* No name that ``typing`` gained after 3.9 (``TypeGuard``, ``TypeAlias``, ``Self`` ...) is imported at run time.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CHECKED = ("plugins/module_utils", "plugins/plugin_utils", "plugins/modules")

NEWER_TYPING = frozenset(
    (
        "TypeGuard",
        "TypeIs",
        "TypeAlias",
        "ParamSpec",
        "Concatenate",
        "Self",
        "Never",
        "LiteralString",
        "Required",
        "NotRequired",
        "ReadOnly",
        "Unpack",
        "TypeVarTuple",
        "assert_never",
        "assert_type",
        "reveal_type",
        "override",
    )
)
BUILTIN_TYPES = frozenset(("int", "str", "bytes", "float", "bool", "dict", "list", "tuple", "set", "frozenset"))
TYPING_MODULES = ("typing", "collections.abc")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
        found = [arg.annotation for arg in every if arg is not None and arg.annotation is not None]
        return found + ([node.returns] if node.returns is not None else [])
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    return []


def floor_problems(source: str) -> list[str]:
    """What in ``source`` would fail, or behave otherwise, on Python 3.9 because of typing."""
    tree = ast.parse(source)
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    static = set()  # ids of the nodes never evaluated at run time
    static_names = set()  # names that exist for the type checker only
    aliases = []  # the values of the type aliases under TYPE_CHECKING
    typing_names = set()  # names imported from typing / collections.abc
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                static.update(id(sub) for sub in ast.walk(statement))
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    static_names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
                elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                    static_names.update(target.id for target in targets if isinstance(target, ast.Name))
                    if statement.value is not None:
                        aliases.append(statement.value)
        if postponed:
            for annotation in _annotations(node):
                static.update(id(sub) for sub in ast.walk(annotation))
        if isinstance(node, ast.ImportFrom) and node.module in TYPING_MODULES:
            typing_names.update(alias.asname or alias.name for alias in node.names)

    def typeish(operand: ast.expr) -> bool:
        if isinstance(operand, ast.Constant):
            return operand.value is None
        if isinstance(operand, ast.Name):
            return operand.id in BUILTIN_TYPES or operand.id in typing_names or operand.id in static_names
        return isinstance(operand, ast.Subscript) or (isinstance(operand, ast.BinOp) and typeish_union(operand))

    def typeish_union(node: ast.BinOp) -> bool:
        return isinstance(node.op, ast.BitOr) and (typeish(node.left) or typeish(node.right))

    problems = [
        "line %d: a X | Y type in an alias (Union/Optional there: pylint checks it for Python 3.9)" % node.lineno
        for alias in aliases
        for node in ast.walk(alias)
        if isinstance(node, ast.BinOp) and typeish_union(node)
    ]
    for node in ast.walk(tree):
        if id(node) in static:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.BinOp) and typeish_union(node):
            problems.append("line %d: a X | Y type evaluated at run time (Python 3.10+)" % line)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in static_names:
            problems.append("line %d: %s exists for the type checker only (TYPE_CHECKING)" % (line, node.id))
        elif isinstance(node, ast.ImportFrom) and node.module == "typing":
            newer = sorted(alias.name for alias in node.names if alias.name in NEWER_TYPING)
            if newer:
                problems.append("line %d: typing.%s is newer than Python 3.9" % (line, ", ".join(newer)))
    return problems


def _sources() -> list[pathlib.Path]:
    return sorted(path for folder in CHECKED for path in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda path: str(path.relative_to(ROOT)))
def test_annotations_cost_nothing_at_run_time_on_the_floor(path):
    assert floor_problems(path.read_text(encoding="utf-8")) == []


def test_every_annotated_unit_is_looked_at():
    names = {str(path.relative_to(ROOT)) for path in _sources()}
    assert {"plugins/module_utils/_io.py", "plugins/plugin_utils/_keycloak_lookup.py"} <= names
    assert "plugins/module_utils/_apisix/route_file/editor.py" in names


HEAD = "from __future__ import annotations\nfrom typing import TYPE_CHECKING, Optional\n"


@pytest.mark.parametrize(
    "source, expected",
    [
        (HEAD + "Alias = int | None\n", "line 3: a X | Y type evaluated at run time"),
        (HEAD + "Alias = Optional[int] | str\n", "line 3: a X | Y type evaluated at run time"),
        ("def f(x: int | None) -> None:\n    pass\n", "line 1: a X | Y type evaluated at run time"),
        (HEAD + "x = isinstance(1, int | str)\n", "line 3: a X | Y type evaluated at run time"),
        (HEAD + "if TYPE_CHECKING:\n    from os import PathLike\nP = PathLike\n", "line 5: PathLike exists for"),
        (HEAD + "if TYPE_CHECKING:\n    Alias = int\nx = cast(Alias, 1)\n", "line 5: Alias exists for"),
        (HEAD + "if TYPE_CHECKING:\n    Alias = tuple[int, int | None]\n", "line 4: a X | Y type in an alias"),
        ("from typing import Any, TypeGuard\n", "line 1: typing.TypeGuard is newer than Python 3.9"),
    ],
)
def test_the_look_finds_what_fails_on_the_floor(source, expected):
    problems = floor_problems(source)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_the_look_lets_annotations_and_type_checking_blocks_be():
    source = HEAD + (
        "import re\n"
        "if TYPE_CHECKING:\n"
        "    from os import PathLike\n"
        "    Alias = Optional[dict[str, int]]\n"
        "def f(x: Alias, y: PathLike | None = None) -> list[int | None]:\n"
        "    z: int | None = None\n"
        "    return [z, len({1} | {2}), re.I | re.M]\n"
    )
    assert floor_problems(source) == []

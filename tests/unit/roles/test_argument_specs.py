# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role's argument spec holds real defaults: what ``ansible-doc -t role`` and antsibull-docs show.

A default is a value of the option's type, never Jinja (rendered raw, and refused by antsibull-docs for a
bool); it is the value of the role's ``defaults/main.yml``. A default that the role computes there from
another variable (Jinja) has no ``default:`` in the spec and is said in words in the description.
"""

import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = os.path.join(ROOT, "roles")
JINJA = ("{{", "{%", "{#")
TYPES = {"bool": bool, "int": int, "str": str, "path": str, "list": list, "dict": dict}


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _options():
    found = []
    for role in sorted(os.listdir(ROLES)):
        specs = _load(os.path.join(ROLES, role, "meta", "argument_specs.yml"))["argument_specs"]
        defaults_file = os.path.join(ROLES, role, "defaults", "main.yml")
        defaults = _load(defaults_file) if os.path.exists(defaults_file) else {}
        for entry_point, spec in specs.items():
            for name, option in spec.get("options", {}).items():
                found.append(
                    pytest.param(
                        option, name in defaults, defaults.get(name), id="%s:%s:%s" % (role, entry_point, name)
                    )
                )
    return found


def _has_jinja(value):
    if isinstance(value, str):
        return any(mark in value for mark in JINJA)
    if isinstance(value, list):
        return any(_has_jinja(item) for item in value)
    if isinstance(value, dict):
        return any(_has_jinja(key) or _has_jinja(item) for key, item in value.items())
    return False


def _description(option):
    text = option.get("description", "")
    return " ".join(text) if isinstance(text, list) else text


OPTIONS = _options()


def test_the_roles_have_options():
    assert len(OPTIONS) > 50


@pytest.mark.parametrize(("option", "in_defaults", "role_default"), OPTIONS)
def test_default_is_a_value_of_the_type(option, in_defaults, role_default):
    del in_defaults, role_default
    if "default" not in option or option["default"] is None:
        return
    default = option["default"]
    assert not _has_jinja(default), "Jinja in the spec's default: %r" % (default,)
    expected = TYPES[option["type"]]
    assert isinstance(default, expected), "default %r is not a %s" % (default, option["type"])
    if expected is int:
        assert not isinstance(default, bool)
    if expected is list and option.get("elements") in TYPES:
        assert all(isinstance(item, TYPES[option["elements"]]) for item in default)
    if "choices" in option:
        values = default if isinstance(default, list) else [default]
        assert set(values) <= set(option["choices"])


@pytest.mark.parametrize(("option", "in_defaults", "role_default"), OPTIONS)
def test_default_is_the_roles_or_said_in_words(option, in_defaults, role_default):
    if not in_defaults:
        return
    if _has_jinja(role_default):
        assert "default" not in option, "computed in defaults/main.yml: say the default in the description"
        assert "default" in _description(option).lower(), "the computed default is not said in the description"
    else:
        assert option.get("default") == role_default

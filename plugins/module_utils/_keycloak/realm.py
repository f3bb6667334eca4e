# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one rule for a realm name that goes into a URL path (private to the collection).

A realm goes into Keycloak's URL paths (``admin/realms/{realm}/users``,
``realms/{realm}/protocol/openid-connect/token``) and into the discovery URL the gateway is
given. Keycloak decodes the path before it routes it, so a realm written ``acme/../master``
(or ``acme%2f..%2fmaster``) reaches another realm. The rule, checked before any request by
every module and lookup that takes a realm (:func:`realm_problem`, :func:`require_realm`):

a realm is one plain path segment: not empty, not ``.`` or ``..``, without ``/``, ``\\``,
``?``, ``#``, ``%``, whitespace or control characters (any character Python's ``str.isprintable``
rejects: control, format, private-use and unassigned ones; ``roles/*/tasks/validate.yml`` state the
same rule in Jinja).

Anything else that is allowed (``:``, ``@``, ``+``, non-ASCII letters, ...) is percent-encoded
where it goes into a URL path (:func:`path_segment`). Values that go into a query string (a
client id, a user name) are not refused: the HTTP library encodes them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

# The characters a realm must not contain, in the order the message names the first one found.
FORBIDDEN = ("/", "\\", "?", "#", "%")


def shown(value: str) -> str:
    """``value`` fit for a message in quotes: control characters escaped (``'\\n'``), the rest as it is."""
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode("ascii") for char in value
    )


def _bad_character(char: str) -> str | None:
    """What ``char`` is, when a realm must not contain it; None when it may."""
    if char in FORBIDDEN:
        return "'%s'" % char
    if char.isspace():
        return "whitespace (%s)" % ("a space" if char == " " else "'%s'" % shown(char))
    if not char.isprintable():  # Cc, Cf, Cs, Co, Cn, Zl, Zp: the roles' validate.yml test the same (isprintable)
        return "a control character ('%s')" % shown(char)
    return None


def realm_problem(value: object) -> str | None:
    """Why ``value`` is not one plain path segment (``"it contains '/'"``), or None when it is."""
    if not isinstance(value, str):
        return "it is not text"
    if value == "":
        return "it is empty"
    if value in (".", ".."):
        return "'%s' is a relative path segment" % value
    for char in value:
        problem = _bad_character(char)
        if problem:
            return "it contains %s" % problem
    return None


def realm_message(value: object, option: str = "realm") -> str | None:
    """The whole refusal for ``value`` of ``option``, or None when it is a plain path segment."""
    problem = realm_problem(value)
    if problem is None:
        return None
    return (
        "%s '%s' is not one path segment: %s. A realm name must not be empty, '.' or '..', and must not contain "
        "'/', '\\', '?', '#', '%%', whitespace or control characters; nothing was sent"
        % (option, shown(value) if isinstance(value, str) else value, problem)
    )


def require_realm(value: Any, option: str = "realm", error: type[ModuleError] = ModuleError) -> str:
    """Raise ``error`` (a ModuleError class) when ``value`` of ``option`` is not one plain path segment."""
    message = realm_message(value, option)
    if message is not None:
        raise error(message)
    return value


def path_segment(realm: str) -> str:
    """``realm`` as it goes into a URL path: every character but letters, digits and ``-._~`` percent-encoded."""
    return quote(realm, safe="")

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What can go wrong with a route file, and the messages about the file as a whole."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

if TYPE_CHECKING:
    from yaml import MarkedYAMLError

    from ansible_collections.cx.api_auth.plugins.module_utils._apisix.route_file.document import Document


class RouteFileError(ModuleError):
    """The file cannot be edited as asked; the message names the file, the route and why (no values)."""


class Regenerate(Exception):
    """An existing block cannot be edited key by key: rewrite it whole (internal, never escapes)."""


def template_message(doc: Document, match: re.Match[str]) -> str:
    """The file holds Helm template actions (``match`` of one) where a values file is expected."""
    line = doc.lines.line_of(match.start())
    snippet = doc.lines.content(line).strip()
    end = snippet.find("}}")
    snippet = snippet[: end + 2] if end >= 0 else snippet[:40]
    return (
        "%s looks like a Helm template, not a values file: line %d starts with the template action %s; "
        "point path at the chart's values file" % (doc.source, line + 1, snippet)
    )


def yaml_error(source: str, exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark
    where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else ""
    context = ""
    if exc.context and exc.context_mark is not None:
        context = " (%s at line %d, column %d)" % (exc.context, exc.context_mark.line + 1, exc.context_mark.column + 1)
    return "%s is not valid YAML: %s%s%s" % (source, exc.problem or "error", where, context)


def internal(what: str) -> RouteFileError:
    """The self-check after an edit failed: nothing is written."""
    return RouteFileError("internal check failed: %s; file left untouched" % what)

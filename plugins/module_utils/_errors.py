# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception family of cx.api_auth (private to the collection).

Every failure a module reports is a :class:`ModuleError` (or a subclass). Rule for
messages: the place that knows what and where (realm, client, user, route, file)
writes the whole message once; no layer above adds a prefix to it. ``result`` holds
extra keys for the failed result (for example ``changed`` or ``routes``).
"""

from __future__ import annotations

from typing import Any


class ModuleError(Exception):
    """A failure with a message fit for ``fail_json(msg=...)``: names what and where, no secret."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result

    def __str__(self) -> str:
        return self.msg

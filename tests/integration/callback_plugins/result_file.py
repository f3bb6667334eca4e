# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: write each task result of host ``localhost`` to a JSON file.

Integration tests read the module's result from the file and the user-visible
text from the default stdout callback, which stays untouched.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: result_file
type: aggregate
short_description: Write task results to the file named by CX_RESULT_FILE (tests only)
description:
  - Appends one JSON document per task result to the file named by C(CX_RESULT_FILE).
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_file"
    CALLBACK_NEEDS_ENABLED = True

    @staticmethod
    def _write(result, **status):
        path = os.environ.get("CX_RESULT_FILE")
        if path:
            data = dict(result._result)  # pylint: disable=protected-access
            data.update(status)
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(data, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._write(result, failed=False, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._write(result, failed=True, unreachable=True)

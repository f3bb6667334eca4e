# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module of cx.api_auth does around its own work (private to the collection).

A module's ``main()`` builds its argument spec and calls :func:`run_module` with the
runner of its module_utils unit::

    def main():
        module = AnsibleModule(argument_spec=..., supports_check_mode=True)
        run_module(module, mapper.run, "Managing mapper 'x' on client 'cim' in realm 'r'")

A runner takes ``(params, check_mode, diff, warn)`` and returns the result dict (with
``changed``); it raises :class:`ModuleError` for anything it reports. Warnings go one
way: through ``warn`` (``module.warn`` here; a list's ``append`` in unit tests).
Any other exception becomes a failure with its type and text, never a traceback
(a traceback would print values that ``no_log`` does not mask).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ansible_collections.cx.api_auth.plugins.module_utils import _masking as masking
from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError

if TYPE_CHECKING:  # names for annotations only (never evaluated at run time: the modules' Python floor)
    Params = dict[str, Any]
    Result = dict[str, Any]
    Warn = Callable[[str], None]
    # (params, check_mode, diff, warn) -> result, as run_module calls it
    Runner = Callable[[Params, bool, bool, Warn], Result]


def change_message(what: str, state: str, existed: bool, changed: bool, check_mode: bool) -> str:
    """``"Would create mapper 'x' on ..."``, ``"Updated ..."``, ``"... is up to date"``.

    ``what`` names the object and where it is (``"mapper 'x' on client 'cim' in realm 'r'"``),
    ``existed`` whether it was there before the run.
    """
    if not changed:
        return "%s%s is %s" % (what[0].upper(), what[1:], "already absent" if state == "absent" else "up to date")
    verb = "delete" if state == "absent" else "update" if existed else "create"
    if check_mode:
        return "Would %s %s" % (verb, what)
    return "%sd %s" % (verb.capitalize(), what)


def one_line(text: object) -> str:
    """``text`` on one line: a line break or other control character (from a route id, a name) escaped."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda match: "\\x%02x" % ord(match.group()), str(text))


def _no_traceback(module: Any) -> dict[str, str]:
    """``{"exception": ""}`` where ``fail_json`` would otherwise add the pending traceback (2.19+)."""
    try:
        parameter = inspect.signature(module.fail_json).parameters.get("exception")
    except (TypeError, ValueError):
        return {}
    if parameter is not None and parameter.kind == inspect.Parameter.KEYWORD_ONLY:
        return {"exception": ""}
    return {}


def _text(exc: BaseException) -> str:
    text = exc.args[0] if len(exc.args) == 1 else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)


def run_module(module: Any, runner: Runner, what: str, scrub: Callable[[str], str] | None = None) -> None:
    """Run ``runner`` for ``module`` and exit: ``exit_json`` with its result or ``fail_json``.

    ``what`` starts the message of an unexpected exception (``"<what> failed: TypeError: ..."``);
    ``scrub`` (text -> text) masks secrets the module learnt at run time (tokens); the values
    of ``no_log`` options are masked by Ansible itself.
    """
    scrub = scrub or (lambda text: text)
    # Credentials inside URL options (keycloak_url, admin_url, proxy URLs) are no_log values too: ansible-core
    # echoes the arguments as `invocation` (up to 2.20 always, from 2.21 with inject_invocation), masked by these.
    for secret in masking.url_credentials(module.params):
        module.no_log_values.add(secret)
    try:
        result = runner(module.params, module.check_mode, module._diff, module.warn)
    except ModuleError as exc:
        module.fail_json(msg=scrub(exc.msg), **dict(exc.result, **_no_traceback(module)))
    except Exception as exc:  # pylint: disable=broad-except
        message = "%s failed: %s: %s" % (what, type(exc).__name__, _text(exc))
        module.fail_json(msg=scrub(message), **_no_traceback(module))
    if "msg" in result:  # the one line a run shows at the default verbosity
        result = dict(result, msg=one_line(scrub(result["msg"])))
    module.exit_json(**result)

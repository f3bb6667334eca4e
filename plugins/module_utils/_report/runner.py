# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``api_auth_report`` does: build the report, render it, write the four files as one set."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from ansible_collections.cx.api_auth.plugins.module_utils._report import model, render, store

if TYPE_CHECKING:  # names for annotations only (never evaluated at run time: the modules' Python floor)
    from ansible_collections.cx.api_auth.plugins.module_utils._runner import Params, Result, Warn


def run(  # pylint: disable=unused-argument
    params: Params,
    check_mode: bool,
    diff: bool,
    warn: Warn,
    hide: Callable[[str], object] | None = None,
) -> Result:
    """The module's result (``dest``, ``files``, ``summary``, ``tenants``, ``msg``)."""
    dest = os.path.abspath(os.path.expanduser(params["dest"]))
    secrets = [value for value in params.get("secrets") or [] if value]
    report = model.build(
        params.get("hosts") or [],
        secrets=secrets,
        started_at=params.get("started_at"),
        playbook=params.get("playbook"),
        hide=hide,
    )
    files = render.render_all(report)
    paths = {name: os.path.join(dest, name) for name in render.FILES}
    summary = report["summary"]
    routes = summary["routes"]
    what = "report of %d tenant(s) (%d failed): %d route(s) secured, %d open, %d failed" % (
        summary["tenants"],
        summary["tenants_failed"],
        routes[model.SECURED],
        routes[model.OPEN],
        routes[model.FAILED],
    )
    if check_mode:
        msg = "Would write the %s to %s (%s)" % (what, dest, ", ".join(render.FILES))
        changed = True
    else:
        store.prepare_directory(dest)
        store.replace_set(dest, files, keep_previous=params.get("keep_previous", True))
        msg = "Wrote the %s to %s (%s)" % (what, dest, ", ".join(render.FILES))
        changed = True
    lines = [model.summary_line(tenant) for tenant in report["tenants"]]
    result = {
        "changed": changed,
        "dest": dest,
        "files": paths,
        "summary": summary,
        "tenants": lines,
        "msg": msg,
    }
    return model.masked(result, secrets)

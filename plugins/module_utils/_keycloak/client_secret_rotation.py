# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner of ``keycloak_client_secret``: a client's secret regenerated in Keycloak, when asked for (private).

The secret is read first (``client_secret``'s reading, the same refusals of a public, disabled or key-based
client), and a new one is generated (python-keycloak's ``generate_client_secrets``,
``POST admin/realms/{realm}/clients/{uuid}/client-secret``) only when the state asks for it:

* ``rotated_from_default``: when the secret is the one the CX charts and docs publish. Once rotated it is not,
  so a second run changes nothing.
* ``rotated_from``: when the secret is ``rotate_from`` (a secret known to be leaked, the previous generation):
  a compare-and-swap, idempotent the same way.
* ``regenerated``: always (with ``force: true``, since every run then changes the secret).

Check mode reads and predicts; nothing is sent but the reads. A regeneration that got no answer is read back
(never sent twice): a secret other than the one before means it was applied. No secret is in any message;
the secret is returned only with ``return_secret``.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.cx.api_auth.plugins.module_utils._cx.places import PUBLISHED_CIM_SECRET
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak import client_secret
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import KeycloakModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.options import SECRET_OPTIONS, require_text

ROTATED_FROM_DEFAULT = "rotated_from_default"
ROTATED_FROM = "rotated_from"
REGENERATED = "regenerated"
STATES = (ROTATED_FROM_DEFAULT, ROTATED_FROM, REGENERATED)


def target(params: dict[str, Any]) -> str:
    """``"the secret of client 'cim' in realm 'expertflow'"``: what the module manages, for every message."""
    return client_secret.target(params)


def _check_params(params: dict[str, Any]) -> None:
    require_text(params, (*SECRET_OPTIONS, "rotate_from"), target(params))
    state = params["state"]
    if state == ROTATED_FROM and not params.get("rotate_from"):
        raise KeycloakModuleError("Cannot manage %s: state rotated_from needs rotate_from" % target(params))
    if state != ROTATED_FROM and params.get("rotate_from") is not None:
        raise KeycloakModuleError("Cannot manage %s: rotate_from is for state rotated_from only" % target(params))
    if state == REGENERATED and not params.get("force"):
        raise KeycloakModuleError(
            "Cannot manage %s: state regenerated changes the secret on every run; set force: true to mean it, "
            "or use rotated_from_default / rotated_from, which rotate once" % target(params)
        )


def _due(state: str, current: str, rotate_from: str | None) -> bool:
    if state == ROTATED_FROM_DEFAULT:
        return client_secret.same_secret(current, PUBLISHED_CIM_SECRET)
    if state == ROTATED_FROM:
        return client_secret.same_secret(current, rotate_from or "")
    return True


def _regenerate(connection: Any, client: dict[str, Any], before: str) -> str:
    """POST a new secret; the new value (read back when the answer was lost)."""
    what = "regenerating the secret of client '%s' in realm '%s'" % (client["clientId"], connection.realm)
    advice = {403: "The admin needs the manage-clients role of realm-management"}
    try:
        with connection.errors(what, advice=advice):
            answer = connection.admin.generate_client_secrets(client["id"]) or {}
        secret = answer.get("value") if isinstance(answer, dict) else None
    except KeycloakModuleError as exc:

        def read_back() -> tuple[bool, str]:
            now = client_secret.read_secret(connection, client)
            done = not client_secret.same_secret(now, before)
            return done, "a new secret" if done else "the secret as it was"

        connection.decide_unanswered(exc, what, read_back)
        secret = None
    if not isinstance(secret, str) or not secret:
        secret = client_secret.read_secret(connection, client)
    connection.secrets.add(secret)
    return secret


def run(connection: Any, params: dict[str, Any], check_mode: bool, diff: bool, warn: Callable[[str], Any]):  # pylint: disable=unused-argument
    """The runner of ``keycloak_client_secret`` (see ``_runner.run_module``)."""
    _check_params(params)
    state = params["state"]
    connection.secrets.add(params.get("rotate_from"))
    connection.open()
    client_id, realm = params["client_id"], params["realm"]
    client = client_secret.confidential_client(connection, params, "Cannot manage")
    before = client_secret.read_secret(connection, client)
    published = client_secret.same_secret(before, PUBLISHED_CIM_SECRET)
    due = _due(state, before, params.get("rotate_from"))
    result: dict[str, Any] = dict(changed=due, client_uuid=client["id"], published_default_before=published)
    name = "the secret of client '%s' in realm '%s'" % (client_id, realm)
    if not due:
        why = {
            ROTATED_FROM_DEFAULT: "it is not the published default",
            ROTATED_FROM: "it is not the one given in rotate_from",
        }[state]
        result["msg"] = "Kept %s: %s" % (name, why)
        result["published_default"] = published
        if params.get("return_secret"):
            result["client_secret"] = before
        return result
    if check_mode:
        result["msg"] = "Would regenerate %s" % name
        result["published_default"] = published
        return result
    after = _regenerate(connection, client, before)
    result["msg"] = "Regenerated %s%s" % (name, " (it was the published default)" if published else "")
    result["published_default"] = client_secret.same_secret(after, PUBLISHED_CIM_SECRET)
    if params.get("return_secret"):
        result["client_secret"] = after
        result["previous_client_secret"] = before
    return result

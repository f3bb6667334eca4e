# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How an answer of Keycloak becomes one message (private to the collection).

* :class:`KeycloakModuleError`: the :class:`ModuleError` of the Keycloak modules and the lookup, with the
  HTTP status and Keycloak's own error text when there was an answer.
* :data:`ANSWERS`: the one table from an HTTP status to what it says, worded by
  :func:`answer_message` for every call (admin API, login, password check).
* :func:`login_problem`: what a refused token request means (modules and lookup alike).

What went wrong without an answer is worded by ``_http_errors.transport_problem``; secrets are masked by
``_masking.Secrets``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.cx.api_auth.plugins.module_utils._errors import ModuleError
from ansible_collections.cx.api_auth.plugins.module_utils._http_errors import error_text

# What an HTTP answer of Keycloak means, by status; any other status is OTHER_ANSWER.
# {url}: the server; {credentials}: what was used to log in ("the credentials of user 'admin'
# in realm 'master'", "the given token"); {who}: the admin ("user 'admin' (realm 'master')");
# {realm}: the realm the module manages; {answer}: the status and Keycloak's own text.
ANSWERS: dict[int | None, str] = {
    401: "Keycloak at {url} rejected {credentials} ({answer})",
    403: "Keycloak at {url} says {who} has no permission for it in realm '{realm}' ({answer})",
}
OTHER_ANSWER = "Keycloak at {url} answered {answer}"


class KeycloakModuleError(ModuleError):
    """A failure talking to Keycloak, with a message fit for ``fail_json(msg=...)``.

    ``http_code`` is the HTTP status when Keycloak answered (else ``None``); ``detail`` is
    Keycloak's own error text, decoded (see ``_http_errors.error_text``).
    """

    # set (True) on the error of a write whose effect is unknown (KeycloakConnection.decide_unanswered)
    unknown: bool

    def __init__(
        self,
        msg: str,
        http_code: int | None = None,
        detail: str | None = None,
        unanswered: bool = False,
        **result: Any,
    ) -> None:
        super().__init__(msg, **result)
        self.http_code = http_code
        self.detail = detail
        # the request may have reached Keycloak, but no answer came (see _http_errors.sent_without_answer)
        self.unanswered = unanswered


def keycloak_answer(exc: BaseException) -> tuple[int | None, str]:
    """``(HTTP status or None, Keycloak's error text)`` of a python-keycloak ``KeycloakError``."""
    body = getattr(exc, "response_body", None)
    message = getattr(exc, "error_message", None)
    text = error_text(body) or error_text(message)
    return getattr(exc, "response_code", None), text


def answer_message(code: int | None, text: str | None, as_status: int | None = None, **context: object) -> str:
    """What Keycloak's answer ``code``/``text`` says, worded from :data:`ANSWERS`.

    ``as_status`` words it as that status instead (a login refused with 400 reads as a 401);
    ``context`` fills the table's fields (``url``, ``credentials``, ``who``, ``realm``).
    """
    if code is None:
        answer = "with an error%s" % (" (%s)" % text if text else "")
    else:
        answer = "%s: %s" % (code, text) if text else str(code)
    return ANSWERS.get(code if as_status is None else as_status, OTHER_ANSWER).format(answer=answer, **context)


def login_words(
    username: str | None, client_id: str | None, auth_realm: str, token_only: bool = False
) -> tuple[str, str]:
    """``(who, credentials)``: the admin and what it logs in with, in the words of :data:`ANSWERS`.

    ``token_only``: a given token without credentials to renew it (then both are "the given token").
    """
    if token_only:
        return "the given token", "the given token"
    subject = "user '%s'" % username if username else "client '%s'" % client_id
    return "%s (realm '%s')" % (subject, auth_realm), "the credentials of %s in realm '%s'" % (subject, auth_realm)


def login_problem(
    code: int | None,
    text: str | None,
    url: str,
    auth_realm: str,
    who: str,
    credentials: str,
    realm: str | None = None,
) -> str:
    """What Keycloak at ``url`` refusing a token request (``code``, Keycloak's ``text``) means.

    ``auth_realm``: the realm logged in to; ``who`` / ``credentials``: the admin and its credentials, in
    words (see :data:`ANSWERS`); ``realm``: the realm a module manages (``auth_realm`` if not given). A
    refused login (400 ``invalid_grant``, ``invalid_client``, ``unauthorized...``) reads as a 401, whatever
    the status.
    """
    lowered = (text or "").lower()
    fields = dict(url=url, credentials=credentials, who=who, realm=realm or auth_realm)
    if code == 404 and "realm" in lowered:
        return "Realm '%s' (auth_realm) does not exist on Keycloak at %s" % (auth_realm, url)
    if code == 404:
        return (
            "No Keycloak token endpoint at %s (404 for realms/%s/protocol/openid-connect/token); "
            "check auth_keycloak_url: servers started with --http-relative-path=/auth and Keycloak "
            "before 17 need the /auth suffix, newer ones usually have none" % (url, auth_realm)
        )
    refused = code == 400 and any(word in lowered for word in ("invalid_grant", "invalid_client", "unauthorized"))
    as_status = 401 if refused else code
    problem = answer_message(code, text, as_status=as_status, **fields)
    if as_status not in ANSWERS:
        problem = "logging in as %s failed: %s" % (who, problem)
    return problem

# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options, turned into an authenticated connection to one realm (private).

A module's ``main()`` creates a :class:`KeycloakConnection` (nothing is sent yet) and hands
its :meth:`~KeycloakConnection.scrub` to the runner; the module's logic calls
:meth:`~KeycloakConnection.open` and then works through it::

    connection = KeycloakConnection(module.params, "expertflow", "mapper 'x' on client 'cim' in realm 'expertflow'")
    connection.open()                      # logs in, checks the realm; KeycloakModuleError otherwise
    client = connection.get_client("cim")  # None when there is no such client
    with connection.errors("adding mapper 'x' to client 'cim' in realm 'expertflow'"):
        connection.admin.add_mapper_to_client(client["id"], payload)

Every request goes through python-keycloak: the admin API through ``KeycloakAdmin`` on a
``KeycloakOpenIDConnection`` (which renews the token), the password check through
``KeycloakOpenID``. Every failure becomes a :class:`KeycloakModuleError` worded from
``errors.ANSWERS`` that names the URL and the realm; the connection holds the secrets to mask.

Nothing is read that a module's decision does not need: :meth:`~KeycloakConnection.open` sends
no request with a given ``token`` and only the token request otherwise; the first admin call
proves the token and the realm (a 401 or a missing realm is worded as :meth:`open` would), and
the realm's representation is read only when a module asks for it
(:attr:`~KeycloakConnection.realm_representation`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn, cast

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.cx.api_auth.plugins.module_utils._http_errors import (
    display_url,
    sent_without_answer,
    transport_problem,
)
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.errors import (
    ANSWERS,
    KeycloakModuleError,
    answer_message,
    keycloak_answer,
    login_problem,
    login_words,
)
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.openid import jwt_part, normalize_url
from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.realm import path_segment, require_realm
from ansible_collections.cx.api_auth.plugins.module_utils._masking import Secrets

# httpx (which python-keycloak imports for its async client, unused here) imports its command line,
# httpx._main, and with it rich and click whenever they happen to be installed: about a third of the
# start-up of a module run. No module needs it; marked missing while python-keycloak loads, httpx
# defines its stand-in instead (only when httpx is not loaded yet; the marker is removed again).
#
# The stand-ins below (this block, the deferred imports, the unused async client) rest on python-keycloak's
# internals: they are applied only to the releases a test has seen (PATCHED_VERSIONS, the one meta/ee-requirements.txt
# pins); any other release loads unpatched, slower and never broken (tests/unit/plugins/module_utils/
# test_keycloak_startup.py runs both ways).
PATCHED_VERSIONS = ("7.1.1",)


def installed_version() -> str | None:
    """The installed python-keycloak release, or None (python-keycloak reads it the same way when it loads)."""
    try:
        from importlib import metadata  # pylint: disable=import-outside-toplevel

        return metadata.version("python-keycloak")
    except Exception:  # pylint: disable=broad-except  # not installed, or no metadata: no stand-ins
        return None


PATCHED = installed_version() in PATCHED_VERSIONS
_BLOCKED = "httpx._main"
_block = PATCHED and "httpx" not in sys.modules and _BLOCKED not in sys.modules
if _block:
    sys.modules[_BLOCKED] = None  # type: ignore[assignment]  # an import of it fails


class _Deferred(types.ModuleType):
    """A module that python-keycloak imports and a module run does not use, imported when first used.

    python-keycloak's ``keycloak_openid`` imports ``aiofiles`` (its async file reads) and jwcrypto's
    ``jwk`` and ``jwt`` (token decoding, which pulls in cryptography): about 7 % of a module run's
    CPU, measured with py-spy. No module decodes a token or reads a file through it. The stand-in
    takes the module's place in ``sys.modules`` while python-keycloak loads; the first attribute
    asked of it imports the real module (then in ``sys.modules``) and answers from it.
    """

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        real = sys.modules.get(self.__name__)
        if real is self or real is None:
            sys.modules.pop(self.__name__, None)
            real = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _defer(names: Iterable[str]) -> None:
    """Put a :class:`_Deferred` in ``sys.modules`` for each of ``names`` that is installed and not loaded."""
    for name in names:
        if name in sys.modules:
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # its package is missing: python-keycloak's own import reports it
            found = False
        if found:
            sys.modules[name] = _Deferred(name)


if PATCHED:
    _defer(("aiofiles", "jwcrypto.jwk", "jwcrypto.jwt"))
try:
    from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
    from keycloak.exceptions import KeycloakError, KeycloakGetError, raise_error_from_response

    HAS_KEYCLOAK = True
except ImportError:
    HAS_KEYCLOAK = False

    class KeycloakError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except KeycloakError`` works without python-keycloak."""

finally:
    if _block and sys.modules.get(_BLOCKED, False) is None:
        del sys.modules[_BLOCKED]


class _UnusedAsyncClient:
    """Stands in for the ``httpx.AsyncClient`` python-keycloak builds with every connection.

    Each one loads the CA bundle into a new SSL context (even for http://), about a sixth of a
    module run's CPU for two or three connections; the modules are synchronous and never use it.
    Using it raises, so that a python-keycloak that starts to need it fails loudly, never silently.
    """

    auth = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # pylint: disable=unused-argument
        pass

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError("cx.api_auth does not use python-keycloak's async client (%s)" % name)

    async def aclose(self) -> None:
        """Nothing to close."""


class _SyncHttpx:
    """python-keycloak's view of httpx in a module process: all of it but the async client."""

    def __init__(self, httpx: types.ModuleType) -> None:
        self._httpx = httpx

    AsyncClient = _UnusedAsyncClient

    def __getattr__(self, name: str) -> Any:
        return getattr(self._httpx, name)  # ANNOT_SYNC


if HAS_KEYCLOAK and PATCHED:
    _kc_connection = sys.modules.get("keycloak.connection")
    if _kc_connection is not None and getattr(_kc_connection, "httpx", None) is not None:
        if not isinstance(_kc_connection.httpx, _SyncHttpx):
            _kc_connection.httpx = _SyncHttpx(_kc_connection.httpx)  # type: ignore[attr-defined]


# Lifetime assumed for a given bearer token whose expiry cannot be read from it.
_STATIC_TOKEN_LIFETIME = 24 * 3600


def jwt_lifetime(token: str) -> int | None:
    """Seconds until the ``exp`` of a JWT, or None when it cannot be read."""
    try:
        return max(int(jwt_part(token, 1)["exp"]) - int(time.time()), 1)
    except (KeyError, TypeError, ValueError):
        return None


# Methods whose request is sent again after a read timeout or a dropped connection: reads only.
# python-keycloak retries every method once, POST included, so a create whose answer was slow was
# sent twice and answered 409 by the second time, and a password reset PUT twice (a second entry of
# a password history). A write that got no answer is read back instead (the module_utils callers).
_RESENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def _never_resend_writes(connection: object) -> None:
    """Mount adapters on python-keycloak's requests session that retry reads once, never a write."""
    session = getattr(connection, "_s", None)
    if session is None or not hasattr(session, "mount"):
        return
    from requests.adapters import HTTPAdapter  # pylint: disable=import-outside-toplevel
    from urllib3.util.retry import Retry  # pylint: disable=import-outside-toplevel

    for prefix in ("https://", "http://"):
        session.mount(prefix, HTTPAdapter(max_retries=Retry(total=1, allowed_methods=_RESENT_METHODS)))


def _is_keycloak_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is about talking to Keycloak (an answer or a transport error), not a bug."""
    return isinstance(exc, (KeycloakError, OSError))  # requests' exceptions are OSErrors


class KeycloakConnection:
    """One realm on one Keycloak server, as the connection options describe it.

    ``params`` are the module's parameters (the connection options among them), ``realm`` the
    realm to manage, ``purpose`` what the module manages there (``"user 'customer' in realm
    'expertflow'"``), named by every failure of :meth:`open`. After :meth:`open`, ``admin``
    is python-keycloak's ``KeycloakAdmin`` for ``realm``; ``realm_representation`` the realm,
    read when first asked for.
    """

    def __init__(self, params: Mapping[str, Any], realm: str, purpose: str) -> None:
        self.realm = realm
        self.purpose = purpose
        self.url = display_url(params.get("auth_keycloak_url"))
        self.auth_realm = params.get("auth_realm") or "master"
        self.client_id = params.get("auth_client_id") or "admin-cli"
        self.username = params.get("auth_username")
        self._password = params.get("auth_password")
        self._client_secret = params.get("auth_client_secret")
        self._token = params.get("token")
        self._server_url = normalize_url(params.get("auth_keycloak_url"))
        self.verify = (params.get("ca_path") or True) if params.get("validate_certs", True) else False
        self.timeout = params.get("connection_timeout") or 10
        self.secrets = Secrets((self._password, self._client_secret, self._token))
        # with a token and credentials, a rejected token is renewed from the credentials: they decide
        token_only = bool(self._token) and not (self.username or self._client_secret)
        self.who, self.credentials = login_words(self.username, self.client_id, self.auth_realm, token_only)
        self.admin: Any = None  # python-keycloak's KeycloakAdmin, after open()
        self._realm_representation: dict[str, Any] | None = None

    # ------------------------------------------------------------------ messages

    def scrub(self, text: str) -> str:
        """``text`` without any secret: the options' secrets, tokens, secrets added later."""
        token = getattr(getattr(self.admin, "connection", None), "token", None) or {}
        for key in ("access_token", "refresh_token"):
            self.secrets.add(token.get(key))
        return self.secrets.scrub(text)

    def answer(self, code: int | None, text: str | None, **context: str) -> str:
        """``errors.answer_message`` for this connection (``context`` overrides its fields)."""
        fields: dict[str, Any] = dict(url=self.url, credentials=self.credentials, who=self.who, realm=self.realm)
        fields.update(context)
        return answer_message(code, text, **fields)

    def failure(
        self, what: str, exc: BaseException, advice: Mapping[int, str] | None = None
    ) -> KeycloakModuleError | None:
        """The KeycloakModuleError for ``exc`` raised while doing ``what``; None if ``exc`` is a bug.

        ``advice`` maps an HTTP status to a sentence added to the message.
        """
        if not _is_keycloak_failure(exc):
            return None
        code, text = keycloak_answer(exc)
        refused = self._not_proven(code, text)
        if refused is not None:
            return refused
        problem = transport_problem(exc, self.url) if code is None else None
        message = "%s failed: %s" % (what, problem or self.answer(code, text))
        if advice and code is not None and code in advice:
            message = "%s. %s" % (message, advice[code])
        unanswered = code is None and sent_without_answer(exc)
        return KeycloakModuleError(message, http_code=code, detail=text, unanswered=unanswered)

    @contextlib.contextmanager
    def errors(self, what: str, advice: Mapping[int, str] | None = None) -> Iterator[None]:
        """Turn a failure to talk to Keycloak inside the block into a KeycloakModuleError.

        ``what`` says what was being done, naming the objects and the realm (``"reading client
        'cim' in realm 'expertflow'"``); the message adds the URL, the HTTP status and Keycloak's
        own text (see :meth:`failure`). Other exceptions pass unchanged.
        """
        try:
            yield
        except KeycloakModuleError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            failure = self.failure(what, exc, advice)
            if failure is None:
                raise
            raise failure from None

    def _refused(self, problem: str, code: int | None = None, detail: str | None = None) -> KeycloakModuleError:
        return KeycloakModuleError("Cannot manage %s: %s" % (self.purpose, problem), http_code=code, detail=detail)

    def _not_proven(self, code: int | None, text: str | None) -> KeycloakModuleError | None:
        """The refusal :meth:`open` would have raised for an admin call's ``code``: a 401 (the token or the
        credentials), a 404 "Realm not found" (the realm); None for any other answer.

        :meth:`open` does not read anything to prove the token and the realm: the first admin call does.
        """
        if code == 401:
            return self._refused(self.answer(code, text), code, text)
        if code == 404 and "realm not found" in (text or "").lower():
            return self._refused("Realm '%s' does not exist on Keycloak at %s" % (self.realm, self.url), code, text)
        return None

    # ------------------------------------------------------------------ logging in

    def decide_unanswered(
        self,
        exc: KeycloakModuleError,
        what: str,
        read_back: Callable[[], tuple[bool, str]],
        create: bool = False,
    ) -> str:
        """Decide a write that got no answer (or a create answered 409) from what Keycloak holds now.

        ``exc`` is the write's KeycloakModuleError, ``what`` names the write and where (``"creating user 'x'
        in realm 'r'"``), ``read_back()`` returns ``(done, seen)``: whether Keycloak holds what the write
        asked for, and what was read, in words (no secret). Returns ``seen`` when done; a 409 about
        something else raises ``exc``; otherwise a KeycloakModuleError "unknown, read back: ..." with
        ``changed`` and ``unknown`` set (the write may have been applied).
        """
        if not (exc.unanswered or (create and exc.http_code == 409)):
            raise exc
        try:
            done, seen = read_back()
        except KeycloakModuleError as failed:
            done, seen = False, "nothing, the read failed too (%s)" % failed.msg
        if done:
            return seen
        if not exc.unanswered:
            raise exc
        error = KeycloakModuleError(
            "%s: Keycloak at %s gave no answer within connection_timeout (%ss); whether it was applied is "
            "unknown, read back: %s" % (what, self.url, self.timeout, seen),
            changed=True,
        )
        error.unknown = True
        raise error

    def open(self) -> KeycloakConnection:
        """Log in and prove that the realm can be managed; return ``self``.

        The admin logs in to ``auth_realm`` with, in this order, ``token`` (a bearer token
        obtained beforehand; renewed only if credentials are given too), ``auth_username`` /
        ``auth_password`` (password grant of ``auth_client_id``, with ``auth_client_secret`` for a
        confidential client) or ``auth_client_secret`` alone (client credentials grant).
        python-keycloak renews the token before it expires and after a 401 when credentials are
        given (so a token handed over by the role that expires mid-run costs one new login, never
        the run). Nothing else is read: the first admin call proves the token and the realm (see
        :meth:`failure`). A failure to log in raises KeycloakModuleError naming ``purpose``.
        """
        # Before anything is sent: a realm is one plain path segment (realm.py), never a way to another realm.
        require_realm(self.realm, "realm", KeycloakModuleError)
        require_realm(self.auth_realm, "auth_realm", KeycloakModuleError)
        if not HAS_KEYCLOAK:
            raise KeycloakModuleError(missing_required_lib("python-keycloak"))
        if self._server_url is None:
            raise self._refused("auth_keycloak_url must start with http:// or https://, got '%s'" % self.url)
        grant_type = "password" if self.username else "client_credentials" if self._client_secret else None
        with warnings.catch_warnings():
            # httpx (python-keycloak's async client, unused here) deprecates verify=<path>.
            warnings.simplefilter("ignore", DeprecationWarning)
            connection = KeycloakOpenIDConnection(
                server_url=self._server_url,
                grant_type=grant_type,
                username=self.username,
                password=self._password,
                realm_name=path_segment(self.realm),
                user_realm_name=path_segment(self.auth_realm),
                client_id=self.client_id,
                client_secret_key=self._client_secret,
                verify=self.verify,
                timeout=self.timeout,
            )
            connection.keycloak_openid  # noqa: B018  # pylint: disable=pointless-statement  # created here, warning-free
        _never_resend_writes(connection)
        if self._token:
            # Sets the Authorization header and when python-keycloak renews (90 % of expires_in).
            connection.token = {
                "access_token": self._token,
                "expires_in": jwt_lifetime(self._token) or _STATIC_TOKEN_LIFETIME,
            }
        else:
            self._log_in(connection)
        self.admin = KeycloakAdmin(connection=connection)
        return self

    def _log_in(self, connection: KeycloakOpenIDConnection) -> None:
        try:
            connection.get_token()
        except Exception as exc:  # pylint: disable=broad-except
            if not _is_keycloak_failure(exc):
                raise
            code, text = keycloak_answer(exc)
            if code is None:
                problem = transport_problem(exc, self.url) or self.answer(code, text)
            else:
                problem = login_problem(code, text, self.url, self.auth_realm, self.who, self.credentials, self.realm)
            raise self._refused(problem, code, text) from None

    @property
    def realm_representation(self) -> dict[str, Any]:
        """The realm as ``GET admin/realms/{realm}`` gives it, read on first use (after :meth:`open`).

        Only what needs a realm setting reads it (the default roles of a new user, duplicate e-mails,
        a password policy to explain); a missing realm or a refused token raises as :meth:`open` would.
        """
        if self._realm_representation is None:
            try:
                self._realm_representation = self.admin.get_realm(path_segment(self.realm)) or {}
            except Exception as exc:  # pylint: disable=broad-except
                if not _is_keycloak_failure(exc):
                    raise
                code, text = keycloak_answer(exc)
                if code is None:
                    problem = transport_problem(exc, self.url) or self.answer(code, text)
                elif code == 404:
                    problem = "Realm '%s' does not exist on Keycloak at %s" % (self.realm, self.url)
                elif code in ANSWERS:
                    problem = self.answer(code, text)
                else:
                    problem = "reading realm '%s' failed: %s" % (self.realm, self.answer(code, text))
                raise self._refused(problem, code, text) from None
        return self._realm_representation

    @property
    def realm_read(self) -> bool:
        """Whether :attr:`realm_representation` was read already (then reading it costs nothing)."""
        return self._realm_representation is not None

    # ------------------------------------------------------------------ shared reads

    def get_client(self, client_id: str) -> dict[str, Any] | None:
        """The client whose ``clientId`` is exactly ``client_id``, or None.

        ``GET admin/realms/{realm}/clients?clientId=X`` (an exact match on the server).
        """
        with self.errors("reading client '%s' in realm '%s'" % (client_id, self.realm)):
            response = self.admin.connection.raw_get(
                "admin/realms/%s/clients" % path_segment(self.realm), clientId=client_id
            )
            found: Any = raise_error_from_response(response, KeycloakGetError)
        return next((client for client in found or [] if client.get("clientId") == client_id), None)

    def check_password(self, username: str, password: str, client_id: str, client_secret: str | None = None) -> bool:
        """Whether Keycloak gives ``username`` a token for ``password`` in the realm.

        A password grant (``scope=openid``) through ``client_id`` (with ``client_secret`` for a
        confidential client; it needs direct access grants). False when Keycloak rejects the
        user's credentials; any other refusal (client rejected, account disabled or not fully set
        up, unknown realm, network) raises KeycloakModuleError with Keycloak's own text as
        ``detail``. The password, the client secret and the tokens are masked from then on.
        """
        for secret in (password, client_secret):
            self.secrets.add(secret)
        what = "checking the password of user '%s' in realm '%s'" % (username, self.realm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            openid = KeycloakOpenID(
                server_url=cast(str, self._server_url),  # an http(s) URL: open() refuses any other
                realm_name=path_segment(self.realm),
                client_id=client_id,
                client_secret_key=client_secret,
                verify=self.verify,
                timeout=self.timeout,
                max_retries=0,  # one login attempt, never resent: brute force detection counts each failure
            )
        try:
            tokens = openid.token(username, password)
        except KeycloakError as exc:
            code, text = keycloak_answer(exc)
            lowered = text.lower()
            if code == 401 or (code == 400 and "invalid user credentials" in lowered):
                if "invalid_client" in lowered or "unauthorized_client" in lowered:
                    client = "the credentials of client '%s' in realm '%s'" % (client_id, self.realm)
                    message = "%s failed: %s" % (what, self.answer(code, text, credentials=client))
                    raise KeycloakModuleError(message, http_code=code, detail=text) from None
                return False
            raise self.failure(what, exc) from None  # type: ignore[misc]  # a KeycloakError: never None
        except OSError as exc:
            raise self.failure(what, exc) from None  # type: ignore[misc]  # an OSError: never None
        for key in ("access_token", "refresh_token", "id_token"):
            self.secrets.add((tokens or {}).get(key))
        return True

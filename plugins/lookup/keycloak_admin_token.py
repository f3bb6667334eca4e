# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: keycloak_admin_token
short_description: One Keycloak admin access token, for the token option of the Keycloak modules
version_added: 0.1.0
description:
  - Asks the token endpoint of O(realm) on the Keycloak at O(url) for an access token with a
    password grant of O(username) (or, without it, a client credentials grant of O(client_id)),
    and returns the access token.
  - Meant to be obtained once per tenant (C(set_fact) with C(no_log)) and given to every Keycloak
    module of the run as its C(token) option, together with the credentials, so that the modules
    do not log in again; a module whose token has expired logs in with the credentials instead
    (see the role C(cx.api_auth.keycloak_api_auth)).
  - Runs on the controller, which must reach Keycloak. Where only the host that runs the modules
    can, use C(errors='ignore') and leave the token out when there is none; the modules then log
    in themselves.
  - The token, the password and the client secret never appear in a message.
author:
  - CX platform engineering (!UNKNOWN)
options:
  url:
    description:
      - Keycloak base URL, with C(/auth) where the server is served under it.
    type: str
    required: true
  realm:
    description:
      - Realm the admin authenticates in.
      - One plain URL path segment - a value that is empty, V(.) or V(..), or holds C(/), C(\), C(?), C(#),
        C(%), whitespace or a control character is refused before any request.
    type: str
    default: master
  username:
    description:
      - Admin user. Without it, the client credentials grant of O(client_id) is used.
    type: str
  password:
    description:
      - Password of O(username).
    type: str
  client_id:
    description:
      - Client the token is asked through.
    type: str
    default: admin-cli
  client_secret:
    description:
      - Secret of O(client_id), for a confidential client.
    type: str
  validate_certs:
    description:
      - Verify Keycloak's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to verify Keycloak's certificate with.
    type: path
  timeout:
    description:
      - Seconds to wait for Keycloak.
    type: int
    default: 30
notes:
  - Keep the result out of the output - C(no_log=true) on the task that stores it.
seealso:
  - module: cx.api_auth.keycloak_audience_mapper
  - module: cx.api_auth.keycloak_customer_user
"""

EXAMPLES = r"""
- name: One admin token for the Keycloak tasks of this tenant
  ansible.builtin.set_fact:
    keycloak_token: >-
      {{ lookup('cx.api_auth.keycloak_admin_token', url=keycloak_url, username='admin',
         password=keycloak_admin_password, errors='ignore') }}
  no_log: true

- name: Audience mapper, with the token and the credentials (used when the token has expired)
  cx.api_auth.keycloak_audience_mapper:
    auth_keycloak_url: "{{ keycloak_url }}"
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    token: "{{ keycloak_token | default(omit, true) }}"
    realm: expertflow
    client_id: cim
"""

RETURN = r"""
_raw:
  description: One element, the access token.
  type: list
  elements: str
"""

import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.cx.api_auth.plugins.module_utils._keycloak.realm import path_segment, realm_message


class LookupModule(LookupBase):
    """The ``keycloak_admin_token`` lookup."""

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        url = (self.get_option("url") or "").strip().rstrip("/")
        realm = self.get_option("realm")
        username = self.get_option("username")
        secrets = [self.get_option("password"), self.get_option("client_secret")]
        if not url.lower().startswith(("http://", "https://")):
            raise AnsibleLookupError("keycloak_admin_token: url must start with http:// or https://")
        problem = realm_message(realm)
        if problem:
            raise AnsibleLookupError("keycloak_admin_token: %s" % problem)
        form = {"client_id": self.get_option("client_id")}
        if username:
            form.update(grant_type="password", username=username, password=self.get_option("password") or "")
        else:
            form["grant_type"] = "client_credentials"
        if self.get_option("client_secret"):
            form["client_secret"] = self.get_option("client_secret")
        endpoint = "%s/realms/%s/protocol/openid-connect/token" % (url, path_segment(realm))
        who = "user '%s'" % username if username else "client '%s'" % form["client_id"]
        context = None
        if url.lower().startswith("https://"):
            context = _tls_context(self.get_option("validate_certs"), self.get_option("ca_path"))
        try:
            body = _post(endpoint, urllib.parse.urlencode(form).encode("ascii"), context, self.get_option("timeout"))
            token = json.loads(body.decode("utf-8")).get("access_token")
        except urllib.error.HTTPError as exc:
            raise AnsibleLookupError(
                _scrub(
                    "keycloak_admin_token: Keycloak at %s refused a token for %s in realm '%s' (%s)"
                    % (url, who, realm, exc.code),
                    secrets,
                )
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise AnsibleLookupError(
                _scrub(
                    "keycloak_admin_token: no token from Keycloak at %s for %s in realm '%s': %s"
                    % (url, who, realm, _problem(exc)),
                    secrets,
                )
            ) from None
        if not token:
            raise AnsibleLookupError("keycloak_admin_token: Keycloak at %s answered without an access token" % url)
        return [token]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (an HTTPError with its status), never followed with the password."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(endpoint, body, context, timeout):
    """The body of Keycloak's answer to a form POST to ``endpoint``; HTTPError for a status >= 300.

    The standard library with only the handlers a token request needs, not
    ``ansible.module_utils.urls.open_url``: that import, and the TLS context that it (like
    ``urllib.request.build_opener``) builds for every request, loading the system CA bundle even
    for http, cost a tenant's run more CPU than the rest of the lookup (measured with py-spy). The
    proxy settings of the environment apply as with ``open_url``; a redirect is not followed (the
    form holds the password). ``context``: the TLS context for https (:func:`_tls_context`).
    """
    handlers = [
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.OpenerDirector()
    for handler in handlers:
        opener.add_handler(handler)
    request = urllib.request.Request(
        endpoint, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with opener.open(request, timeout=timeout) as response:
        return response.read()


def _tls_context(validate_certs, ca_path):
    """Verify against ``ca_path`` (PEM), or else the system CA store; verify nothing if not ``validate_certs``."""
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_path or None)
    except OSError as exc:  # a missing file, or ssl.SSLError for one that holds no PEM certificate
        raise AnsibleLookupError(
            "keycloak_admin_token: ca_path %s cannot be read as PEM CA certificates (%s)"
            % (ca_path, getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__)
        ) from None


def _problem(exc):
    """What went wrong without an HTTP answer, in a few words (never the request, which holds the password)."""
    reason = getattr(exc, "reason", exc)  # URLError wraps the socket's or TLS's own error
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "TLS verification failed (%s): give ca_path the CA that signed Keycloak's certificate" % (
            reason.verify_message or reason.reason or "certificate verify failed"
        )
    if isinstance(reason, ssl.SSLError):
        return "TLS failed (%s)" % (reason.reason or type(reason).__name__)
    if isinstance(exc, ValueError):
        return "the answer is not JSON"
    if isinstance(reason, OSError):
        return "%s (%s)" % (str(reason.strerror or reason or "no answer").lower(), type(reason).__name__)
    return "%s (%s)" % (reason, type(exc).__name__)


def _scrub(text, secrets):
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text

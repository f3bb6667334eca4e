# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place where secrets are masked (private to the collection); every plugin masks through it.

* :class:`Secrets`: values known at run time (passwords, client secrets, tokens) replaced in any text, and
  the ``user:password@`` of every URL in it (:func:`mask_urls`); used by the Keycloak modules, the lookup,
  ``apisix_oidc_check`` and the Admin API client.
* :func:`mask_urls` / :func:`mask_urls_in`: the credentials of URLs in a text, or in a result.
* :func:`mask_config` / :func:`mask_text`: the credentials of an ``openid-connect`` config, of YAML text
  (a diff side); :func:`changed_secrets` / :func:`secret_change_note` say which changed, never the values.

Everything masks with :data:`SECRET_MASK`.
"""

from __future__ import annotations

import copy
import functools
import re

SECRET_MASK = "********"
# What Ansible itself shows for a no_log option's value.
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def hide_params(params, names):
    """Replace the values of ``names`` in ``params`` (in place) by :data:`NO_LOG_PLACEHOLDER`."""
    params.update({name: NO_LOG_PLACEHOLDER for name in names})


def _secret_paths():
    # imported when first needed: the lookup masks through this unit and needs no APISIX plugin schema
    from ansible_collections.cx.api_auth.plugins.module_utils._apisix import (  # pylint: disable=import-outside-toplevel
        plugin_config,
    )

    return plugin_config.SECRET_PATHS, plugin_config.get_path


class Secrets:
    """Values that never appear in a message: :meth:`scrub` replaces them by :data:`SECRET_MASK`.

    ``hide`` (optional) is told every value added (a module's ``no_log_values.add``), so that Ansible masks
    it too wherever it would print it.
    """

    def __init__(self, values=(), hide=None):
        self._values = set()
        self._hide = hide
        for value in values:
            self.add(value)

    def add(self, value):
        """Mask ``value`` (any non-empty value but a boolean) from now on."""
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        if text:
            self._values.add(text)
            if self._hide is not None:
                self._hide(text)

    @property
    def values(self):
        """The values masked, longest first."""
        return sorted(self._values, key=len, reverse=True)

    def scrub(self, text, limit=None):
        """``text`` (str or bytes) with every secret and the credentials of every URL masked.

        ``limit``: at most that many characters (cut with ``...``), counted after masking.
        """
        if text is None:
            return text
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        text = str(text)
        for secret in self.values:
            text = text.replace(secret, SECRET_MASK)
        text = mask_urls(text)
        if limit is not None and len(text) > limit:
            text = text[: limit - 3] + "..."
        return text


# The userinfo of a URL (``scheme://user:password@host``): up to the last ``@`` before the path, never across
# white space, quotes, backslashes (JSON escapes) or brackets.
_URL_USERINFO_RE = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^\s/?#\"'\\<>{}\[\]]*)@")


def _userinfo_sub(match):
    info = match.group("info")
    user, colon, _password = info.partition(":")
    if colon:
        return "%s%s:%s@" % (match.group("scheme"), user, SECRET_MASK)
    if info == SECRET_MASK:
        return match.group(0)
    return "%s%s@" % (match.group("scheme"), SECRET_MASK)  # a user alone is often a token


def mask_urls(text):
    """``text`` with the credentials of every URL in it masked: ``http://user:********@proxy:3128`` (a user
    without a password, often a token, is masked whole: ``https://********@host``). Other text stays exact."""
    if not isinstance(text, str) or "@" not in text:
        return text
    return _URL_USERINFO_RE.sub(_userinfo_sub, text)


def mask_urls_in(value):
    """A copy of ``value`` (a result, a config: dicts, lists, strings) with :func:`mask_urls` applied to every
    string in it, keys included."""
    if isinstance(value, str):
        return mask_urls(value)
    if isinstance(value, dict):
        return {mask_urls_in(key): mask_urls_in(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_urls_in(item) for item in value)
    return value


def mask_config(config):
    """A copy of ``config`` with every credential replaced by ``SECRET_MASK``, also inside URLs."""
    masked = mask_urls_in(copy.deepcopy(config))
    for path in _secret_paths()[0]:
        parts = path.split(".")
        node = masked
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(parts[-1]) is not None:
            node[parts[-1]] = SECRET_MASK
    return masked


def changed_secrets(before, after):
    """The credential paths (``client_secret``, ``session.secret`` ...) whose value differs between two configs.

    Masked, such a change looks the same on both sides of a diff: :func:`secret_change_note` says it.
    """
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    paths, get_path = _secret_paths()
    return [path for path in paths if get_path(before, path) != get_path(after, path)]


def secret_change_note(paths, comment="#"):
    """A line that names the credentials that changed (never their values), for the after side of a diff."""
    if not paths:
        return ""
    return "%s %s changed (values not shown)\n" % (comment, ", ".join(paths))


def secret_values(config):
    """The credential strings in ``config`` (to mask them wherever they appear)."""
    values = []
    paths, get_path = _secret_paths()
    for path in paths:
        value = get_path(config, path)
        if isinstance(value, str) and value:
            values.append(value)
    return values


def _quoted_forms(value):
    forms = {value}
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    forms.add(escaped)
    forms.add(value.replace("'", "''"))
    return forms


# Keys whose values are masked in text wherever they are (any plugin, any level): the
# config's credentials plus the usual credential names (key-auth ``key``, hmac-auth
# ``secret_key``, ``password``, ``token``, ``client_secret``, ``adminKey`` ...).
_VALUE_PATTERN = r"\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\r\n]|'')*'"


@functools.cache
def _key_patterns():
    """``(line, flow, block header)`` patterns of a credential key's value, compiled when first used."""
    keys = sorted({path.rsplit(".", 1)[-1] for path in _secret_paths()[0]}, key=len, reverse=True)
    key = (
        r"(?:%s|(?:[A-Za-z0-9]+[_-])*(?:key|secret|password|passwd|token)|[a-z][A-Za-z0-9]*(?:Key|Secret|Password|Token))"
        % "|".join(re.escape(name) for name in keys)
    )
    line = re.compile(
        r"^(?P<lead>[ \t]*(?:#[ \t]*)*(?:-[ \t]+)?(?P<q>[\"']?)%s(?P=q)[ \t]*:[ \t]+)"
        r"(?P<value>%s|[^\s#'\"][^\r\n]*?)"
        r"(?P<tail>[ \t]+#[^\r\n]*?)?(?P<trail>[ \t]*)$" % (key, _VALUE_PATTERN)
    )
    flow = re.compile(
        r"(?P<lead>[{,][ \t]*(?P<q>[\"']?)%s(?P=q)[ \t]*:[ \t]*)"
        r"(?P<value>%s|[^\s,{}\[\]#'\"][^,{}\[\]\r\n]*?)(?=[ \t]*[,}])" % (key, _VALUE_PATTERN)
    )
    header = re.compile(
        r"^(?P<lead>[ \t]*(?:#[ \t]*)*(?:-[ \t]+)?(?P<q>[\"']?)%s(?P=q)[ \t]*:[ \t]+)[|>][-+0-9]*[ \t]*(?:#.*)?$" % key
    )
    return line, flow, header


_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


def _masked_value(value):
    if value.startswith(('"', "'")):
        return value[0] + SECRET_MASK + value[0]
    return SECRET_MASK


def mask_source(text):
    """The source text of one YAML value masked whole, its quotes kept (``'x'`` -> ``'********'``)."""
    return _masked_value(text)


def _line_sub(match):
    value = match.group("value")
    if value in ("|", ">", "|-", ">-", "|+", ">+") or value.strip("\"'") == SECRET_MASK:
        return match.group(0)
    return match.group("lead") + _masked_value(value) + (match.group("tail") or "") + match.group("trail")


def _flow_sub(match):
    return match.group("lead") + _masked_value(match.group("value"))


def _body_indent(line):
    """Indentation of a line once a leading run of ``#`` (commented-out config) is taken off."""
    body = line.lstrip(" \t").lstrip("#")
    return len(body) - len(body.lstrip(" \t")) + (len(line) - len(line.lstrip(" \t")))


def mask_text(text, values=()):
    """Mask credentials in YAML text (a diff side).

    Every occurrence of ``values`` (also in YAML-quoted form) is replaced, and so is the
    value of any credential key (``client_secret``, ``secret``, ``*_secret``, ``key``,
    ``*_key``, ``password``, ``token`` ...) in block lines, flow mappings
    (``{secret: x}``), block scalars (``|``/``>``) and commented-out lines, and the
    ``user:password@`` of every URL (:func:`mask_urls`). Other text stays exact.
    """
    if text is None:
        return text
    text = mask_urls(text)
    forms = set()
    for value in values:
        if isinstance(value, str) and value:
            forms.update(form for form in _quoted_forms(value) if form)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, SECRET_MASK)
    line_re, flow_re, header_re = _key_patterns()
    out = []
    scalar_indent = None
    for line in _LINE_RE.findall(text):
        if not line:
            continue
        content = line.rstrip("\r\n")
        brk = line[len(content) :]
        if scalar_indent is not None:
            stripped = content.strip(" \t#")
            if not stripped:
                out.append(line)
                continue
            if _body_indent(content) > scalar_indent:
                keep = len(content) - len(content.lstrip(" \t#"))
                out.append(content[:keep] + SECRET_MASK + brk)
                continue
            scalar_indent = None
        header = header_re.match(content)
        if header:
            scalar_indent = _body_indent(content)
            out.append(line)
            continue
        content = line_re.sub(_line_sub, content)
        content = flow_re.sub(_flow_sub, content)
        out.append(content + brk)
    return "".join(out)

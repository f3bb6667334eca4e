# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Masking the credentials of a plugin config, of YAML text that may hold some, and of URLs (``user:pass@``)."""

from __future__ import annotations

import copy
import re

from ansible_collections.cx.api_auth.plugins.module_utils._apisix.plugin_config import SECRET_PATHS, get_path

SECRET_MASK = "********"
_SECRET_KEYS = sorted({path.rsplit(".", 1)[-1] for path in SECRET_PATHS}, key=len, reverse=True)


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
    for path in SECRET_PATHS:
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
    return [path for path in SECRET_PATHS if get_path(before, path) != get_path(after, path)]


def secret_change_note(paths, comment="#"):
    """A line that names the credentials that changed (never their values), for the after side of a diff."""
    if not paths:
        return ""
    return "%s %s changed (values not shown)\n" % (comment, ", ".join(paths))


def secret_values(config):
    """The credential strings in ``config`` (to mask them wherever they appear)."""
    values = []
    for path in SECRET_PATHS:
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
_KEY_PATTERN = (
    r"(?:%s|(?:[A-Za-z0-9]+[_-])*(?:key|secret|password|passwd|token)|[a-z][A-Za-z0-9]*(?:Key|Secret|Password|Token))"
    % "|".join(re.escape(key) for key in _SECRET_KEYS)
)
_VALUE_PATTERN = r"\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\r\n]|'')*'"
_SECRET_LINE_RE = re.compile(
    r"^(?P<lead>[ \t]*(?:#[ \t]*)*(?:-[ \t]+)?(?P<q>[\"']?)%s(?P=q)[ \t]*:[ \t]+)"
    r"(?P<value>%s|[^\s#'\"][^\r\n]*?)"
    r"(?P<tail>[ \t]+#[^\r\n]*?)?(?P<trail>[ \t]*)$" % (_KEY_PATTERN, _VALUE_PATTERN)
)
_SECRET_FLOW_RE = re.compile(
    r"(?P<lead>[{,][ \t]*(?P<q>[\"']?)%s(?P=q)[ \t]*:[ \t]*)"
    r"(?P<value>%s|[^\s,{}\[\]#'\"][^,{}\[\]\r\n]*?)(?=[ \t]*[,}])" % (_KEY_PATTERN, _VALUE_PATTERN)
)
_BLOCK_HEADER_RE = re.compile(
    r"^(?P<lead>[ \t]*(?:#[ \t]*)*(?:-[ \t]+)?(?P<q>[\"']?)%s(?P=q)[ \t]*:[ \t]+)[|>][-+0-9]*[ \t]*(?:#.*)?$"
    % _KEY_PATTERN
)
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


def _masked_value(value):
    if value.startswith(('"', "'")):
        return value[0] + SECRET_MASK + value[0]
    return SECRET_MASK


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
        header = _BLOCK_HEADER_RE.match(content)
        if header:
            scalar_indent = _body_indent(content)
            out.append(line)
            continue
        content = _SECRET_LINE_RE.sub(_line_sub, content)
        content = _SECRET_FLOW_RE.sub(_flow_sub, content)
        out.append(content + brk)
    return "".join(out)

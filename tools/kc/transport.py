# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One plain HTTP request with urllib; 4xx and 5xx answers are returned, not raised."""

import json
import urllib.error
import urllib.parse
import urllib.request


def http(method, url, data=None, json_body=None, headers=None, timeout=30):
    """Plain urllib request; returns ``(status, headers, body text)`` (no raise on 4xx/5xx).

    ``json_body`` is sent as JSON, ``data`` (a dict) form-encoded.
    """
    headers = dict(headers or {})
    payload = None
    if json_body is not None:
        payload = json.dumps(json_body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    elif data is not None:
        payload = urllib.parse.urlencode(data).encode("utf-8")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=payload, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode("utf-8", "replace")

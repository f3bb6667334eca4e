# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The installer's hands in test_readme.py: an ``$EDITOR`` that makes the edits a person makes.

``CX_README_EDITS`` (JSON) says what: ``{"tenant.yml": {key: value}, "vault": {key: value}}``.
Opened on a ``tenant.yml``, it replaces the value of each named top-level key in place
(comments and every other line stay); opened on an empty file (``ansible-vault create``
opens a new, empty temporary file), it writes the vault's keys, quoted. Anything else is
an error, so a README that opens the editor on an unexpected file fails the test.
"""

import json
import os
import re
import sys


def main(path):
    edits = json.loads(os.environ["CX_README_EDITS"])
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if os.path.basename(path) == "tenant.yml":
        for key, value in edits["tenant.yml"].items():
            text, count = re.subn(r"(?m)^%s:.*$" % re.escape(key), "%s: %s" % (key, json.dumps(value)), text)
            if count != 1:
                sys.exit("readme_editor: %s has %d lines for key %s" % (path, count, key))
    elif not text.strip():
        text = "---\n" + "".join("%s: %s\n" % (k, json.dumps(v)) for k, v in edits["vault"].items())
    else:
        sys.exit("readme_editor: unexpected file %s" % path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[-1]))

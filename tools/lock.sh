#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: tools/lock.sh PYTHON REQUIREMENTS LOCK
# Refresh the constraints file LOCK: a new virtual environment of PYTHON with REQUIREMENTS installed (no
# constraints), then `pip freeze`, every transitive package pinned, under LOCK's own header comment (`make lock`).
set -euo pipefail
python=$1 requirements=$2 lock=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
"$tmp/venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements"
{
    if [ -f "$lock" ]; then sed -n '/^#/!q;p' "$lock"; fi
    "$tmp/venv/bin/python" -m pip freeze --exclude-editable
} > "$tmp/lock.txt"
mv "$tmp/lock.txt" "$lock"
echo "$lock: $(grep -c '==' "$lock") packages pinned ($("$python" --version 2>&1), from $requirements)"

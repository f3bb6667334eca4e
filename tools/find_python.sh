#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Print the path of a Python interpreter >= 3.12 (ansible-core 2.21 needs it).
# Order: $PYTHON, python3.13/python3.12 on PATH, pyenv installs, python3.
set -euo pipefail

ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.12 python3.13; do
  if command -v "$name" >/dev/null 2>&1; then
    candidates+=("$(command -v "$name")")
  fi
done
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*; do
  [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
done
command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")

for candidate in "${candidates[@]}"; do
  if ok "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done
echo "No Python >= 3.12 found (tried: ${candidates[*]:-nothing}); set PYTHON=/path/to/python3.12" >&2
exit 1

#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Run every molecule scenario under extensions/molecule (molecule's collection layout),
# from the collection root, so that molecule uses extensions/molecule/config.yml as the
# base config of every scenario.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The scenarios import cx.api_auth.site: expose this checkout as the collection.
ANSIBLE_COLLECTIONS_PATH=$(python3 "$root/tools/collection_link.py")
export ANSIBLE_COLLECTIONS_PATH
cd "$root"
scenarios=$(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' 2>/dev/null | xargs -r -n1 basename | sort)
if [ -z "$scenarios" ]; then
  echo "molecule: no scenarios under extensions/molecule"
  exit 0
fi
for scenario in $scenarios; do
  echo "=== molecule test -s $scenario"
  molecule test -s "$scenario"
done

#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Run the given make targets in order (`make test` passes its stages), stop at the first that
# fails, and print how long each took: the suite's time budget is watched from these lines.
set -uo pipefail
summary=()
began=$SECONDS
report() {
    echo "== stage times (total $((SECONDS - began)) s):"
    for line in "${summary[@]}"; do echo "==   $line"; done
}
trap report EXIT
for stage in "$@"; do
    start=$SECONDS
    if make --no-print-directory "$stage"; then
        summary+=("$stage: $((SECONDS - start)) s")
    else
        rc=$?
        summary+=("$stage: FAILED (rc $rc) after $((SECONDS - start)) s")
        exit "$rc"
    fi
done

#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Run a command with one Keycloak per version shared by everything it runs (tools/kc/session.py):
#   bash tools/with_keycloak.sh make integration molecule
# The servers start in the background, so the command's first steps (lint, sanity, unit
# tests) run while they boot; the integration tests and the molecule scenarios wait for
# them, each in realms of its own. Every server is stopped when the command ends, fails or
# is interrupted. Inside a session already (CX_KC_SESSION set), the command just runs.
# KC_VERSIONS (default: every pinned version) chooses the versions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${CX_KC_SESSION:-}" ]; then
  exec "$@"
fi
read -r -a versions <<<"${KC_VERSIONS:-26.7.3 19.0.1}"
python3 "$root/tools/kc_server.py" download "${versions[@]}" >/dev/null
state=$(cd "$root/tools" && python3 -c 'from kc.server import state_root; print(state_root())')
mkdir -p "$state"
CX_KC_SESSION="$state/session-$$.json"
export CX_KC_SESSION
# the session's servers are recorded in a state directory of their own, so the cleanup
# stops them (also one whose start was interrupted) and nothing else
own_state="$state/session-$$"
CX_KC_STATE="$own_state" python3 "$root/tools/kc_server.py" session-start "${versions[@]}" --file "$CX_KC_SESSION" >/dev/null &
starter=$!
cleanup() {
  kill "$starter" 2>/dev/null || true
  wait "$starter" 2>/dev/null || true
  python3 "$root/tools/kc_server.py" session-stop --file "$CX_KC_SESSION" || true
  CX_KC_STATE="$own_state" python3 "$root/tools/kc_server.py" stop-all || true
  rmdir "$own_state" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$@"

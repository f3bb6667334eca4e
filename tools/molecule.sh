#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Run every molecule scenario under extensions/molecule (molecule's collection layout), or the
# ones named (bash tools/molecule.sh site_kc26 ...), from the collection root, so that molecule
# uses extensions/molecule/config.yml as the base config of every scenario.
# Inside a cluster session (tools/with_cluster.sh) CX_K8S_STATE reaches every scenario (molecule
# passes the environment on to ansible-playbook); it waits here until that cluster answers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The scenarios import cx.api_auth.site: expose this checkout as the collection.
ANSIBLE_COLLECTIONS_PATH=$(python3 "$root/tools/collection_link.py")
export ANSIBLE_COLLECTIONS_PATH
cd "$root"
scenarios=$(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' 2>/dev/null | xargs -r -n1 basename | sort)
if [ "$#" -gt 0 ]; then
  for scenario in "$@"; do
    grep -qx -- "$scenario" <<<"$scenarios" || { echo "molecule: no scenario $scenario under extensions/molecule" >&2; exit 2; }
  done
  scenarios=$(printf '%s\n' "$@")
fi
if [ -n "${CX_K8S_STATE:-}" ]; then
  export CX_K8S_STATE
  python3 "$root/tools/k8s_cluster.py" wait >/dev/null || { echo "molecule: no Kubernetes cluster (see above)" >&2; exit 1; }
fi
if [ -z "$scenarios" ]; then
  echo "molecule: no scenarios under extensions/molecule"
  exit 0
fi
# Scenarios are independent (an ephemeral directory and realms of their own on the shared
# Keycloak), so they run CX_MOLECULE_JOBS at a time (default 2); each one's output is kept
# in a log and printed whole when it ends, and the first failure is reported at the end.
jobs=${CX_MOLECULE_JOBS:-2}
logs=$(mktemp -d -t cx-molecule-XXXXXX)
trap 'rm -rf "$logs"' EXIT
run_one() {
  local scenario=$1 logs=$2 began rc=0
  began=$(date +%s)
  molecule test -s "$scenario" >"$logs/$scenario.log" 2>&1 || rc=$?
  echo "=== molecule test -s $scenario: rc=$rc after $(($(date +%s) - began)) s"
  cat "$logs/$scenario.log"
  echo "=== end of $scenario (rc=$rc)"
  echo "$rc" >"$logs/$scenario.rc"
}
export -f run_one
# shellcheck disable=SC2016  # $1 and $2 are expanded by the inner bash
printf '%s\n' "$scenarios" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$logs"
failed=""
for scenario in $scenarios; do  # one word per line: the names have no spaces
  rc=$(cat "$logs/$scenario.rc" 2>/dev/null || echo missing)
  [ "$rc" = 0 ] || failed="$failed $scenario(rc=$rc)"
done
if [ -n "$failed" ]; then
  echo "molecule: failed:$failed" >&2
  exit 1
fi
echo "molecule: every scenario passed:" "${scenarios//$'\n'/ }"

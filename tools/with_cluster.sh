#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Run a command with one real Kubernetes API server (etcd + kube-apiserver on 127.0.0.1, see
# tools/k8s_cluster.py) shared by everything it runs:
#   bash tools/with_cluster.sh bash tools/with_keycloak.sh make integration molecule
# CX_K8S_STATE (exported) is the absolute path of the cluster's state.json (kubeconfig,
# kubeconfig_viewer, helm, server, ca, pids, dir). The binaries are built into the cache
# (tools/k8s/build.sh; ~10 minutes the first time) and the cluster started in the background, so
# the command's first steps (lint, sanity, unit tests) run meanwhile; the consumers wait for it
# (tools/k8s_cluster.py wait, the k8s_cluster fixture), each in namespaces of its own. The cluster
# is stopped by pid when the command ends, fails or is interrupted. helm's directory in the cache
# is put first on PATH (kubernetes.core.helm runs the `helm` it finds there).
# When CX_K8S_STATE already names a cluster that answers (or is still starting, or failed to
# start: the consumers report that), the command just runs with it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
helm_dir="${CX_K8S_CACHE:-$HOME/.cache/cx-api-auth/k8s}/helm-v${CX_HELM_VERSION:-3.21.4}"
export PATH="$helm_dir:$PATH"
if [ -n "${CX_K8S_STATE:-}" ]; then
  rc=0
  python3 "$root/tools/k8s_cluster.py" status >/dev/null 2>&1 || rc=$?
  if [ "$rc" != 2 ]; then  # ready, starting or failed: the session's
    exec "$@"
  fi
  echo "[k8s] CX_K8S_STATE=$CX_K8S_STATE does not answer: starting a cluster of this command's own" >&2
fi
dir=$(mktemp -d -t cx-k8s-XXXXXX)
CX_K8S_STATE="$dir/state.json"
export CX_K8S_STATE
if [ ! -x "${CX_K8S_CACHE:-$HOME/.cache/cx-api-auth/k8s}/v${CX_K8S_VERSION:-1.34.2}/kube-apiserver" ]; then
  echo "[k8s] building kube-apiserver in the background (first time only, about 10 minutes): $dir/build.log" >&2
fi
child=""
# shellcheck disable=SC2329  # run by the traps below
on_signal() {
  if [ -n "$child" ]; then
    # Ctrl-C reached the command already (same process group); a SIGTERM may be this script's alone
    [ "$1" = INT ] || kill "-$1" "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
# The starter runs in a process group of its own (setsid; it builds at a lower priority, so that
# the command's own steps come first), so that the cleanup stops a build midway as a whole.
setsid python3 "$root/tools/k8s_cluster.py" session-start --dir "$dir" >/dev/null 2>>"$dir/starter.log" &
starter=$!
echo "$starter" >"$dir/starter.pid"  # consumers know it is starting before it says so itself
# shellcheck disable=SC2329  # run by the trap below
cleanup() {
  if [ "$(python3 "$root/tools/k8s_cluster.py" status 2>/dev/null)" = failed ]; then
    python3 "$root/tools/k8s_cluster.py" status >/dev/null || true  # says why the cluster did not start
  fi
  kill -TERM -- "-$starter" 2>/dev/null || kill -TERM "$starter" 2>/dev/null || true
  wait "$starter" 2>/dev/null || true
  python3 "$root/tools/k8s_cluster.py" stop --dir "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
# The command runs as a child the shell waits for, so that a SIGTERM to this script alone (a CI
# timeout's) is handled at once: passed on to the command, then the cluster is stopped. The subshell
# gives it back the Ctrl-C (SIGINT) and SIGQUIT that bash takes from background commands, and stdin.
(
  trap - INT QUIT
  exec "$@"
) <&0 &
child=$!
rc=0
wait "$child" || rc=$?
exit "$rc"

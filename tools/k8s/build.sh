#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# The parts of a real Kubernetes API server for the apply tests, from the registries alone, cached
# outside the checkout (${CX_K8S_CACHE:-~/.cache/cx-api-auth/k8s}); prints the cache directory.
#   kube-apiserver  built from the Go module k8s.io/kubernetes (its staging replaces pointed at the
#                   published k8s.io/* modules of the same minor), ~10 min on 2 cores the first time
#   helm            v3 (the major CX installers use) with go install
#   etcd            Debian's etcd-server (apt-get), linked into the cache
# Idempotent: what is in the cache is not built again. Concurrent runs (a session's background build
# and a direct pytest run) wait for each other on a lock in the cache. A failure ends with one line
# saying what is missing (Go, the Go module proxy, root for apt-get) and how to provide it.
set -euo pipefail
K8S_VERSION=${CX_K8S_VERSION:-1.34.2}
HELM_VERSION=${CX_HELM_VERSION:-3.21.4}
cache=${CX_K8S_CACHE:-$HOME/.cache/cx-api-auth/k8s}
bin="$cache/v$K8S_VERSION"
mkdir -p "$bin"
log() { echo "[k8s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
exec 9>"$cache/.lock"
flock 9

need_go() {
  command -v go >/dev/null ||
    die "Go is needed to build $1 and was not found on PATH; install Go >= 1.24 (https://go.dev/dl/, or a distribution package) and run again"
}
proxy_hint() { echo "is the Go module proxy reachable (GOPROXY=$(go env GOPROXY 2>/dev/null || echo '?'))?"; }

if [ ! -x "$bin/kube-apiserver" ]; then
  need_go kube-apiserver
  log "building kube-apiserver v$K8S_VERSION with $(go version) (first time only, about 10 minutes on 2 cores)"
  meta=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$K8S_VERSION") ||
    die "go mod download k8s.io/kubernetes@v$K8S_VERSION failed (see above): $(proxy_hint)"
  src=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])' <<<"$meta")
  work=$(mktemp -d "$cache/.build-XXXXXX")
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work" "$bin/kube-apiserver.tmp"' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  staging_version="v0.${K8S_VERSION#1.}"
  sed -i -E "s#^(\s*)(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+#\1\2 => \2 $staging_version#" "$work/go.mod"
  rm -f "$work/go.work" "$work/go.work.sum"
  (cd "$work" && GOFLAGS=-mod=mod go build -o "$bin/kube-apiserver.tmp" ./cmd/kube-apiserver) ||
    die "go build of kube-apiserver v$K8S_VERSION failed (see above; it needs Go >= 1.24, $(go env GOVERSION) here): $(proxy_hint)"
  mv "$bin/kube-apiserver.tmp" "$bin/kube-apiserver"
  log "kube-apiserver v$K8S_VERSION built into $bin"
fi

if [ ! -x "$cache/helm-v$HELM_VERSION/helm" ]; then
  need_go helm
  log "installing helm v$HELM_VERSION"
  GOBIN="$cache/helm-v$HELM_VERSION" go install "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" ||
    die "go install helm.sh/helm/v3/cmd/helm@v$HELM_VERSION failed (see above): $(proxy_hint)"
fi

if [ ! -x "$cache/etcd" ]; then
  etcd_bin=$(command -v etcd || true)
  if [ -z "$etcd_bin" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      die "etcd (3.4+) is needed and was not found on PATH; install it (Debian/Ubuntu, as root: apt-get install etcd-server) and run again"
    fi
    log "installing Debian's etcd-server"
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null; } ||
      die "apt-get install etcd-server failed (see above); install etcd 3.4+ some other way and put it on PATH"
    etcd_bin=$(command -v etcd) || die "etcd-server was installed but no etcd is on PATH"
  fi
  ln -sf "$etcd_bin" "$cache/etcd"
fi
echo "$cache"

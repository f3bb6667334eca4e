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
# Idempotent: what is in the cache is not built again.
set -euo pipefail
K8S_VERSION=${CX_K8S_VERSION:-1.34.2}
HELM_VERSION=${CX_HELM_VERSION:-3.21.4}
cache=${CX_K8S_CACHE:-$HOME/.cache/cx-api-auth/k8s}
bin="$cache/v$K8S_VERSION"
mkdir -p "$bin"
log() { echo "[k8s] $*" >&2; }

if [ ! -x "$bin/kube-apiserver" ]; then
  command -v go >/dev/null || { log "go is needed to build kube-apiserver"; exit 1; }
  log "building kube-apiserver v$K8S_VERSION (first time only, about 10 minutes on 2 cores)"
  src=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  work=$(mktemp -d "$cache/.build-XXXXXX")
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  staging_version="v0.${K8S_VERSION#1.}"
  sed -i -E "s#^(\s*)(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+#\1\2 => \2 $staging_version#" "$work/go.mod"
  rm -f "$work/go.work" "$work/go.work.sum"
  (cd "$work" && GOFLAGS=-mod=mod go build -o "$bin/kube-apiserver.tmp" ./cmd/kube-apiserver)
  mv "$bin/kube-apiserver.tmp" "$bin/kube-apiserver"
fi

if [ ! -x "$cache/helm-v$HELM_VERSION/helm" ]; then
  log "installing helm v$HELM_VERSION"
  GOBIN="$cache/helm-v$HELM_VERSION" go install "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
fi

if [ ! -x "$cache/etcd" ]; then
  etcd_bin=$(command -v etcd || true)
  if [ -z "$etcd_bin" ]; then
    log "installing Debian's etcd-server"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
    etcd_bin=$(command -v etcd)
  fi
  ln -sf "$etcd_bin" "$cache/etcd"
fi
echo "$cache"

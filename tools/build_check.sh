#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the collection tarball the way a release does, install it into an empty
# collections path, and check what users and ansible-builder get from it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ansible-galaxy collection build "$root" --output-path "$tmp" --force
tarball=$(ls "$tmp"/cx-api_auth-*.tar.gz)
echo "built $(basename "$tarball"): $(du -h "$tarball" | cut -f1)"

if tar -tzf "$tarball" | grep -E '(^|/)(\.venv|\.git|tests/output|\.pytest_cache|__pycache__)(/|$)|^(build|docs|requirements|tools)/'; then
  echo "FAIL: development artefacts in the tarball (listed above)" >&2
  exit 1
fi
# The modules' Python dependencies ship: meta/ee-requirements.txt, the one list (README, "Without a clone").
if ! tar -xzOf "$tarball" meta/ee-requirements.txt | grep -q '^python-keycloak=='; then
  echo "FAIL: the tarball has no meta/ee-requirements.txt pinning python-keycloak" >&2
  exit 1
fi
echo "the tarball ships meta/ee-requirements.txt, the modules' Python dependencies"

ANSIBLE_COLLECTIONS_PATH="$tmp/installed" ansible-galaxy collection install --force "$tarball" -p "$tmp/installed"
export ANSIBLE_COLLECTIONS_PATH="$tmp/installed"

modules=$(tar -tzf "$tarball" | sed -n 's#^plugins/modules/\([a-z_0-9]*\)\.py$#\1#p' | sort)
for module in $modules; do
  ansible-doc -t module "cx.api_auth.$module" >/dev/null
  echo "ansible-doc renders cx.api_auth.$module from the installed tarball"
done

lookups=$(tar -tzf "$tarball" | sed -n 's#^plugins/lookup/\([a-z_0-9]*\)\.py$#\1#p' | sort)
for lookup in $lookups; do
  ansible-doc -t lookup "cx.api_auth.$lookup" >/dev/null
  echo "ansible-doc renders the lookup cx.api_auth.$lookup from the installed tarball"
done
roles=$(tar -tzf "$tarball" | sed -n 's#^roles/\([a-z_0-9]*\)/meta/argument_specs\.yml$#\1#p' | sort)
for role in $roles; do
  ansible-doc -t role "cx.api_auth.$role" >/dev/null
  # a default is a value, never Jinja that ansible-doc would show raw (a computed one is said in words)
  if ! ansible-doc -t role --json "cx.api_auth.$role" | python3 -c '
import json, sys
docs = json.load(sys.stdin)
raw = ["%s:%s=%r" % (entry, name, option["default"])
       for doc in docs.values() for entry, spec in doc["entry_points"].items()
       for name, option in (spec.get("options") or {}).items()
       if "{{" in json.dumps(option.get("default")) or "{%" in json.dumps(option.get("default"))]
print("\n".join(raw))
sys.exit(1 if raw else 0)'; then
    echo "FAIL: the role cx.api_auth.$role shows Jinja defaults in ansible-doc (listed above)" >&2
    exit 1
  fi
  echo "ansible-doc renders the role cx.api_auth.$role from the installed tarball (no Jinja default)"
done
if [ -z "$lookups" ] || [ -z "$roles" ]; then
  echo "FAIL: no lookup or no role with an argument spec in the tarball" >&2
  exit 1
fi

# Execution environments: ansible-builder must find the collection's dependencies.
introspect=$(ansible-builder introspect --sanitize "$tmp/installed")
# PyYAML is left out by --sanitize: ansible-core already brings it.
if ! grep -q "python-keycloak" <<<"$introspect"; then
  echo "FAIL: ansible-builder introspect does not list python-keycloak:" >&2
  echo "$introspect" >&2
  exit 1
fi
echo "ansible-builder introspect lists the collection's Python requirements"

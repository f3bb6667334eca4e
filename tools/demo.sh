#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# `make demo`: the main job on a local default. Starts Keycloak 26 on 127.0.0.1, seeds the
# tenant realm "expertflow" as a CX installation has it before the guide, copies a sample
# Helm values file, runs playbooks/site.yml with the demo inventory (twice: the second run
# must change nothing), proves the effect with a customer token, and stops Keycloak.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py="$root/.venv/bin/python"
version=${CX_DEMO_KEYCLOAK_VERSION:-26.7.3}
work="$root/.tmp/demo"

realm=${CX_DEMO_REALM:-expertflow}
# The demo's own Keycloak (in a state directory of its own), or the test session's shared
# one when run inside `make test` (CX_KC_SESSION). CX_DEMO_KEEP=1 leaves an own server
# running to look around, and prints how to stop it.
export CX_KC_STATE
CX_KC_STATE=$(mktemp -d -t cx-api-auth-demo-kc-XXXXXX)
stop_own() {
  if [ "${CX_DEMO_KEEP:-}" = 1 ] && [ -z "${CX_KC_SESSION:-}" ]; then
    echo "== Keycloak keeps running at $CX_DEMO_KEYCLOAK_URL (admin: $CX_DEMO_ADMIN_USERNAME, password in $CX_KC_STATE/*/state.json)"
    echo "   stop it with:  CX_KC_STATE=$CX_KC_STATE $py tools/kc_server.py stop-all"
  else
    "$py" tools/kc_server.py stop-all >/dev/null 2>&1 || true
    rm -rf "$CX_KC_STATE"
  fi
}
trap stop_own EXIT

"$py" tools/kc_server.py download "$version" >/dev/null
echo "== Keycloak $version on 127.0.0.1"
state=$("$py" tools/kc_server.py acquire "$version")
field() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
export CX_DEMO_KEYCLOAK_URL CX_DEMO_ADMIN_USERNAME CX_DEMO_ADMIN_PASSWORD CX_DEMO_CLIENT_SECRET
export CX_DEMO_CUSTOMER_PASSWORD CX_DEMO_ROUTES_FILE CX_DEMO_REALM="$realm"
CX_DEMO_KEYCLOAK_URL=$(field "$state" url)
CX_DEMO_ADMIN_USERNAME=$(field "$state" admin_user)
CX_DEMO_ADMIN_PASSWORD=$(field "$state" admin_password)
echo "== seeding realm $realm (client cim) at $CX_DEMO_KEYCLOAK_URL"
seed=$("$py" tools/kc_server.py seed "$(field "$state" state)" --realm "$realm")
CX_DEMO_CLIENT_SECRET=$(field "$seed" client_secret)
CX_DEMO_CUSTOMER_PASSWORD=$("$py" -c 'import secrets; print(secrets.token_urlsafe(18))')

mkdir -p "$work"
CX_DEMO_ROUTES_FILE="$work/values.yaml"
cp tests/unit/fixtures/apisix/helm-values-standalone.yaml.sample "$CX_DEMO_ROUTES_FILE"

echo "== ansible-playbook cx.api_auth site.yml --diff (first run)"
ansible-playbook -i inventories/demo playbooks/site.yml --diff
echo "== second run: must report changed=0"
second=$(ansible-playbook -i inventories/demo playbooks/site.yml)
echo "$second" | sed -n '/PLAY RECAP/,$p'
if ! grep -qE 'changed=0 ' <<<"$second"; then
  echo "FAIL: the second run changed something" >&2
  exit 1
fi

echo "== a customer token through client cim"
PYTHONPATH="$root/tools" "$py" - <<'PY'
import json, os
from kc.tokens import claims, password_grant
status, body = password_grant(
    os.environ["CX_DEMO_KEYCLOAK_URL"], os.environ["CX_DEMO_REALM"], "cim", "customer", os.environ["CX_DEMO_CUSTOMER_PASSWORD"],
    client_secret=os.environ["CX_DEMO_CLIENT_SECRET"], scope="openid",
)
if status != 200:
    raise SystemExit("FAIL: no token for customer through cim (%s): %s" % (status, body[:300]))
tokens = json.loads(body)
access, ident = claims(tokens["access_token"]), claims(tokens["id_token"])
print("access token aud:", access.get("aud"))
print("id token aud:    ", ident.get("aud"))
print("scope:           ", tokens.get("scope"))
print("realm roles:     ", sorted(access.get("realm_access", {}).get("roles", [])))
PY
echo "== verify: each secured route checked as the gateway checks a request (playbooks/verify.yml)"
ansible-playbook -i inventories/demo playbooks/verify.yml

echo "== look around: the route file is $CX_DEMO_ROUTES_FILE (backups beside it), realm $realm at $CX_DEMO_KEYCLOAK_URL"
if [ "${CX_DEMO_KEEP:-}" != 1 ] && [ -z "${CX_KC_SESSION:-}" ]; then
  echo "   Keycloak stops now; CX_DEMO_KEEP=1 make demo leaves it running to log in as the admin"
fi

#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# `make docs`: the collection's HTML docs, built the way community collections publish theirs: a docsite
# from `antsibull-docs sphinx-init` (its conf.py and build.sh: `antsibull-docs collection`, then
# `sphinx-build -W --keep-going`, every warning an error) into build/docs/ (ignored by git), offline: the
# generated intersphinx mapping is replaced by docs/sphinx/conf_offline.py (a local inventory, no fetch), and
# the build runs with an unreachable proxy, so a fetch anyone adds fails the build instead of hanging it;
# docs/sphinx/antsibull-docs.cfg replaces the generated one (how the collection is installed).
# Needs the collection on ANSIBLE_COLLECTIONS_PATH (the Makefile sets it: tools/collection_link.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/build/docs"

rm -rf "$dest"
mkdir -p "$root/build"
mkdir -m 700 "$dest"  # antsibull-docs wants a directory only its owner can write to
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --no-add-antsibull-docs-version \
  --project cx.api_auth --copyright "CX platform engineering" --title "cx.api_auth" \
  --dest-dir "$dest" cx.api_auth >/dev/null
cat "$root/docs/sphinx/conf_offline.py" >>"$dest/conf.py"
cp "$root/docs/sphinx/antsibull-docs.cfg" "$dest/antsibull-docs.cfg"
if ! grep -Eq '^sphinx-build .* -W( |$)' "$dest/build.sh"; then
  echo "FAIL: the build.sh of antsibull-docs sphinx-init no longer makes warnings errors (-W): $dest/build.sh" >&2
  exit 1
fi

export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
  HTTPS_PROXY=http://127.0.0.1:9 no_proxy="" NO_PROXY=""
log="$dest/build.log"
if ! bash "$dest/build.sh" >"$log" 2>&1; then
  grep -E 'WARNING|ERROR|Error|error' "$log" >&2 || tail -n 40 "$log" >&2
  echo "FAIL: the docs do not build without warnings (whole log: $log)" >&2
  exit 1
fi
pages=$(find "$dest/build/html" -name '*.html' | wc -l)
echo "docs built offline without warnings: $pages pages, open $dest/build/html/index.html"

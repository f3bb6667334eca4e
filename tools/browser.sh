#!/usr/bin/env bash
# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Debian's chromium and chromium-driver for the report's browser test (tests/integration/test_report_playbook.py,
# driven by selenium from requirements/test.txt): installed with apt-get when missing, as root. Idempotent and
# quiet when both are there; prints the two paths. A failure ends with one line saying what is missing and how
# to provide it. `make integration` runs it first.
set -euo pipefail
die() { echo "tools/browser.sh: $*" >&2; exit 1; }
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "chromium and chromedriver are needed and were not found on PATH; install them (Debian/Ubuntu, as root: apt-get install chromium chromium-driver) and run again"
  fi
  echo "tools/browser.sh: installing Debian's chromium and chromium-driver" >&2
  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } ||
    die "apt-get install chromium chromium-driver failed (see above); install them some other way and put them on PATH"
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    die "chromium-driver was installed but chromium or chromedriver is not on PATH"
  fi
fi
command -v chromium
command -v chromedriver

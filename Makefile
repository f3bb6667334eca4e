# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# cx.api_auth developer entry points. `make test` and `make demo` work on a fresh
# machine: they create or update the virtual environment from pinned requirements.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.requirements-stamp
RUN_STAMP   := $(VENV)/.run-requirements-stamp
# every package pinned, transitive ones too (`make lock` refreshes it)
LOCK        := requirements/constraints.txt
# the oldest supported ansible-core's venv (`make compat`): Python 3.11, requirements/compat.txt
COMPAT_VENV   ?= .venv-compat
COMPAT_PY     := $(COMPAT_VENV)/bin/python
COMPAT_STAMP  := $(COMPAT_VENV)/.requirements-stamp
COMPAT_LOCK   := requirements/constraints-compat.txt
COMPAT_PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo /usr/bin/python3.11)
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(shell python3 tools/collection_link.py)
# Keycloak versions the integration tests run against (see tools/kc_server.py).
KC_VERSIONS ?= 26.7.3 19.0.1
# pytest-xdist workers of the integration stage: they share the session's servers (one per
# version), each test in realms of its own; a test file stays on one worker (module fixtures).
INTEGRATION_JOBS ?= 2

.PHONY: help venv venv-run lock compat collections browser lint sanity units integration molecule build-check docs test demo benchmark-keycloak clean

help:
	@echo "make test   - set up the venv and run the whole suite (lint, sanity, unit, integration, molecule, build, docs)"
	@echo "make demo   - set up and run the main job against a local Keycloak"
	@echo "make lint | sanity | units | compat | integration | molecule | build-check | docs - one stage"
	@echo "make docs   - the collection's HTML docs (antsibull-docs + sphinx, offline) in build/docs/build/html"
	@echo "make lock   - refresh requirements/constraints.txt (every package pinned) after changing requirements/*.txt"
	@echo "make benchmark-keycloak - this collection's role against community.general's modules (not in make test)"

# venv: what the whole suite needs (requirements/test.txt); venv-run: what running the
# collection needs (requirements/run.txt, what an installer installs), enough for `make demo`.
venv: $(STAMP)
venv-run: $(RUN_STAMP)

$(PY):
	base=$$(bash tools/find_python.sh); echo "creating $(VENV) with $$base"; "$$base" -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip

$(STAMP): requirements/test.txt requirements/run.txt meta/ee-requirements.txt $(LOCK) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/test.txt -c $(LOCK)
	@touch $@ $(RUN_STAMP)

$(RUN_STAMP): requirements/run.txt meta/ee-requirements.txt $(LOCK) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/run.txt -c $(LOCK)
	@touch $@

# lock: refresh requirements/constraints.txt (every transitive package pinned) from a new virtual
# environment installed from requirements/test.txt alone, and the compat venv's lock the same way from
# requirements/compat.txt; run it after changing requirements/*.txt.
lock:
	bash tools/lock.sh "$$(bash tools/find_python.sh)" requirements/test.txt $(LOCK)
	bash tools/lock.sh "$(COMPAT_PYTHON)" requirements/compat.txt $(COMPAT_LOCK)

# compat: the oldest ansible-core the collection supports (requirements/compat.txt, meta/runtime.yml's
# requires_ansible) in a second venv on Python 3.11: the collection's unit tests (not tests/unit/tools, the
# project's own tooling, which runs in .venv only), then the Admin API playbook path
# (ansible-playbook of that release against the emulator: enable, check, diff, rerun; no secret printed).
$(COMPAT_STAMP): requirements/compat.txt $(COMPAT_LOCK)
	[ -x $(COMPAT_PY) ] || { echo "creating $(COMPAT_VENV) with $(COMPAT_PYTHON)"; "$(COMPAT_PYTHON)" -m venv $(COMPAT_VENV); }
	$(COMPAT_PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(COMPAT_PY) -m pip install --disable-pip-version-check -q -r requirements/compat.txt -c $(COMPAT_LOCK)
	@touch $@

compat: collections $(COMPAT_STAMP)
	PATH="$(abspath $(COMPAT_VENV))/bin:$$PATH" $(COMPAT_PY) -m pytest tests/unit -q -n 2 --ignore=tests/unit/tools
	PATH="$(abspath $(COMPAT_VENV))/bin:$$PATH" $(COMPAT_PY) -m pytest tests/integration/test_admin_api.py -q \
	  -k "enable_check_diff_rerun or credentials_in_urls"

# kubernetes.core (the apply step) from the pinned ansible package, beside the collection; cheap when done.
collections: venv
	$(PY) tools/ext_collections.py >/dev/null

lint: collections
	ruff check --no-cache .
	ruff format --no-cache --check .
	mypy
	ansible-lint --nocolor
	antsibull-changelog lint
	antsibull-docs lint-collection-docs --plugin-docs .

sanity: venv
	rm -rf tests/output
	$(PY) tools/run_ansible_test.py sanity --venv --color no  # every Python of tests/config.yml's range it finds

units: venv
	$(PY) -m pytest tests/unit -q

# One Keycloak per version and one Kubernetes API server for the whole stage (tools/with_keycloak.sh,
# tools/with_cluster.sh); inside `make test` the sessions of the whole suite are reused.
integration: collections browser
	KC_VERSIONS="$(KC_VERSIONS)" bash tools/with_cluster.sh bash tools/with_keycloak.sh $(PY) -m pytest tests/integration -q -rA -n $(INTEGRATION_JOBS) --dist loadfile --durations=15

# Debian's chromium and chromium-driver for the report's browser test (apt-get when missing; cheap when there).
browser:
	bash tools/browser.sh >/dev/null

molecule: collections
	KC_VERSIONS="$(KC_VERSIONS)" bash tools/with_cluster.sh bash tools/with_keycloak.sh bash tools/molecule.sh

build-check: collections
	bash tools/build_check.sh

# The HTML docs as community collections publish theirs (antsibull-docs sphinx-init + sphinx-build, every
# warning an error), offline (docs/sphinx/conf_offline.py), into build/docs/build/html (ignored by git).
docs: collections
	bash tools/build_docs.sh

# The Keycloak servers boot, and the Kubernetes API server is built (first time) and started, in the
# background while lint, sanity and the unit tests run; integration and molecule share them (a realm,
# a namespace each) and they stop when the suite ends. tools/stages.sh prints each stage's time at the end.
test: collections
	KC_VERSIONS="$(KC_VERSIONS)" bash tools/with_cluster.sh bash tools/with_keycloak.sh \
	  bash tools/stages.sh lint sanity units compat integration molecule build-check docs

demo: venv-run
	bash tools/demo.sh

# Not part of `make test`: starts its own Keycloak 26.7.3 (tools/kc), creates a virtual environment with
# the ansible package for the community way, prints figures. BENCH_ARGS="--tenants 1,10 --repeat 1" for less.
BENCH_ARGS ?= --tenants 1,10,30 --repeat 3
benchmark-keycloak: venv
	$(PY) benchmarks/keycloak_converge.py --keycloak start $(BENCH_ARGS)

clean:
	rm -rf tests/output .pytest_cache build
	$(PY) tools/kc_server.py stop-all || true

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
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(shell python3 tools/collection_link.py)
# Keycloak versions the integration tests run against (see tools/kc_server.py).
KC_VERSIONS ?= 26.7.3 19.0.1
# pytest-xdist workers of the integration stage: they share the session's servers (one per
# version), each test in realms of its own; a test file stays on one worker (module fixtures).
INTEGRATION_JOBS ?= 2

.PHONY: help venv venv-run collections browser lint sanity units integration molecule build-check test demo benchmark-keycloak clean

help:
	@echo "make test   - set up the venv and run the whole suite (lint, sanity, unit, integration, molecule, build)"
	@echo "make demo   - set up and run the main job against a local Keycloak"
	@echo "make lint | sanity | units | integration | molecule | build-check - one stage"
	@echo "make benchmark-keycloak - this collection's role against community.general's modules (not in make test)"

# venv: what the whole suite needs (requirements/test.txt); venv-run: what running the
# collection needs (requirements/run.txt, what an installer installs), enough for `make demo`.
venv: $(STAMP)
venv-run: $(RUN_STAMP)

$(PY):
	base=$$(bash tools/find_python.sh); echo "creating $(VENV) with $$base"; "$$base" -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip

$(STAMP): requirements/test.txt requirements/run.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/test.txt
	@touch $@ $(RUN_STAMP)

$(RUN_STAMP): requirements/run.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/run.txt
	@touch $@

# kubernetes.core (the apply step) from the pinned ansible package, beside the collection; cheap when done.
collections: venv
	$(PY) tools/ext_collections.py >/dev/null

lint: collections
	ruff check --no-cache .
	ruff format --no-cache --check .
	mypy
	ansible-lint --nocolor
	antsibull-changelog lint

sanity: venv
	rm -rf tests/output
	$(PY) tools/run_ansible_test.py sanity --venv --python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])') --color no

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

# The Keycloak servers boot, and the Kubernetes API server is built (first time) and started, in the
# background while lint, sanity and the unit tests run; integration and molecule share them (a realm,
# a namespace each) and they stop when the suite ends. tools/stages.sh prints each stage's time at the end.
test: collections
	KC_VERSIONS="$(KC_VERSIONS)" bash tools/with_cluster.sh bash tools/with_keycloak.sh \
	  bash tools/stages.sh lint sanity units integration molecule build-check

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

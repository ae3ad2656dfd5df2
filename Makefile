# luban-ci — the two commands a newcomer needs are `make demo` and `make test`.
# Each area of the project adds its targets and test tiers in mk/<area>.mk.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export LUBAN_CACHE ?= $(HOME)/.cache/luban-ci
VENV := $(LUBAN_CACHE)/venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
OUT := $(CURDIR)/out

# Test tiers, declared once, in the order `make test` runs them: fast to slow. The unit tiers
# need neither Docker nor the network; then collection QA and the offline manifest validation;
# then the tiers that build with real uv, PyPI and Docker; last the test cluster (Molecule
# `cluster`, then the end-to-end pipeline). Each tier's target lives in its area's mk/*.mk.
UNIT_TIERS := test-bench-unit test-buildpack-unit test-plugins-unit test-steptool-unit
TEST_TIERS := $(UNIT_TIERS) test-collection test-manifests test-buildpack-contract test-steptool-image \
  test-images test-demo test-cluster-local test-e2e test-cluster-teardown

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

.PHONY: venv
venv: ## create or reuse the pinned tooling venv and link this checkout as the collection luban.ci
	@scripts/venv.sh >/dev/null
	@mkdir -p .collections/ansible_collections/luban
	@ln -sfn ../../.. .collections/ansible_collections/luban/ci

.PHONY: lock
lock: venv ## re-pin requirements.txt from requirements.in
	$(BIN)/uv pip compile --python-version 3.12 --quiet --custom-compile-command 'make lock' requirements.in -o requirements.txt

include $(sort $(wildcard mk/*.mk))

.PHONY: test
test: ## run every test tier (what CI runs); each tier's log in out/test-logs/, the cause of a failure printed last
	@MAKE="$(MAKE)" scripts/tiers.sh $(TEST_TIERS)

.PHONY: check
check: venv ## lint and the unit tiers: no Docker, and the network switched off (scripts/offline.sh)
	@MAKE="$(MAKE)" LUBAN_TIER_WRAPPER=scripts/offline.sh scripts/tiers.sh lint $(UNIT_TIERS)

.PHONY: clean
clean: ## remove build outputs (caches in $(LUBAN_CACHE) are kept)
	rm -rf out .collections tests/output

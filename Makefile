# Two commands for a fresh clone: `make synth` and `make test`. Nothing else needs installing:
# the Python tools come from pyproject.toml into .venv, the CDK CLI and Node 24 from package.json.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .make

# Node 24 from npm for jsii and the CDK CLI, never the machine's Node (20 is end-of-life).
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_NODE := $(CURDIR)/node_modules/.bin/node
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true

# Python must cache bytecode in .venv: aws-cdk-lib's modules are megabytes of source, and compiling
# them costs every process that imports them seconds (the test session about two minutes of CPU, each
# example app ten seconds). uv installs no .pyc files, and an environment with PYTHONDONTWRITEBYTECODE
# set would never write them, so every run would pay again.
unexport PYTHONDONTWRITEBYTECODE
# `make synth` and the tests decide themselves where aws-cdk-lib's built-in template validation runs;
# a CDK_VALIDATION=false left in a shell would silently skip it where the tests count on it.
unexport CDK_VALIDATION

# Exact versions, with hashes, of everything this repository's development installs (pyproject.toml
# declares the ranges users get). `make lock-deps` regenerates it after a change to pyproject.toml.
LOCK := requirements-dev.lock
UV_VERSION := 0.13.9

.PHONY: setup synth test lint bench docs lock lock-deps smoke-latest snapshot-update clean

setup: $(STAMPS)/python $(STAMPS)/node

UV := $(VENV)/bin/uv

# uv installs the lock (every hash checked, as `pip install --require-hashes` would) in seconds where
# pip takes minutes; pip stays in the venv for the Lambda layers' local bundling.
$(STAMPS)/python: $(LOCK) pyproject.toml $(UV)
	@mkdir -p $(STAMPS)
	$(UV) pip install --quiet --python $(PY) --require-hashes -r $(LOCK)
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

$(UV):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

## lock-deps: resolve pyproject.toml (the dev and runtime extras included) into $(LOCK), with hashes.
lock-deps: $(UV)
	$(UV) pip compile pyproject.toml --extra dev --universal --generate-hashes --quiet \
		--custom-compile-command "make lock-deps" --output-file $(LOCK)

$(STAMPS)/node: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@node --version | grep -q '^v24\.' || { echo "node_modules/.bin/node is not Node 24"; exit 1; }
	@touch $@

## synth: every reference stack into cdk.out/, checked by the compliance packs, then a summary.
## The stamp lets `make test` read this assembly instead of synthesizing it again (tests/assembly_stamp.py).
synth: setup
	$(PY) -m tests.assembly_stamp remove cdk.out
	inputs=$$($(PY) -m tests.assembly_stamp digest) && cdk synth --quiet --no-notices && \
		$(PY) -m tests.assembly_stamp write cdk.out "$$inputs"
	@$(PY) -c "from refarch.testing import print_assembly_summary; print_assembly_summary('cdk.out')"

## test: the whole suite (unit, snapshots, compliance, cfn-lint, lock, handlers, e2e, examples), as two
## pytest sessions at once, one per core (tests/run_suite.py). ARGS are given to both sessions.
test: setup
	REFARCH_REFRESH_LATEST=$(if $(REFRESH),1,0) $(PY) -m tests.run_suite $(ARGS)

lint: setup
	$(PY) -m ruff check refarch tests bench examples app.py
	$(PY) -m mypy

## bench: synth-time and handler benchmarks; prints measured figures (not part of `make test`).
bench: setup
	$(PY) bench/synth.py

## docs: docs/<Stack>.md + .svg for every reference stack and example, and docs/README.md (no system packages).
docs: setup
	$(PY) scripts/make_docs.py

## smoke-latest: only the wheel's smoke tests on the newest and the oldest aws-cdk-lib (`make test` runs them too).
## REFRESH=1 re-fetches the newest aws-cdk-lib, constructs and cdk-nag now instead of once a day.
smoke-latest: setup
	REFARCH_REFRESH_LATEST=$(if $(REFRESH),1,0) $(PY) -m tests.latest_cdk

## lock: add new stateful resources to tests/stateful-resources.json (never removes one).
lock: setup
	REFARCH_UPDATE_LOCK=1 $(PY) -m pytest -q tests/test_reference_stacks.py -k stateful

## snapshot-update: rewrite the snapshots. Read `git diff` of them before committing.
snapshot-update: setup
	$(PY) -m pytest -q tests/test_reference_stacks.py -k snapshot --snapshot-update

clean:
	rm -rf cdk.out $(STAMPS) .pytest_cache .venv-latest .venv-floor

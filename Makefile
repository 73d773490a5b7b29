# The README's two commands:
#   make run   set up if needed, build, run suites/quick.yaml, print where the report is
#   make test  set up if needed, start a one-node Slurm (scripts/slurm-local.sh),
#              run every test and the format check
# and `make lint` (clippy, -D warnings), which CI runs after `make test`:
# clippy checks every dependency again in its own profile (about a minute on
# 2 cores), so it is a target of its own.
#
# `make test` builds and runs the library's unit tests and the one
# integration-test binary (tests/all.rs), not the benches: each bench is a
# binary of its own linked against tch and polars (three more links), and
# `make lint` (clippy --all-targets) type-checks them. Run a bench with
# `cargo bench --bench NAME` (see benches/).
#
# One build serves both: `make run` builds the `dev` profile that `make test`
# compiles its tests with, so the tests reuse every compiled dependency. The
# heavy arithmetic runs inside libtorch, so an optimised build of the Rust
# code saves about a fifth of the default suite's time but costs a quarter of
# an hour of compiling on 2 cores (see README, "Where the time goes").
# `make run PROFILE=release` builds and runs the optimised binary, for long
# suites.
SHELL := /bin/bash
CARGO ?= cargo
SUITE ?= suites/quick.yaml
DEVICE ?= auto
PROFILE ?= dev
BIN := target/$(if $(filter dev test,$(PROFILE)),debug,$(PROFILE))/lossbench

.PHONY: setup setup-test build run test lint

# A first setup compiles the dependencies of $(PROFILE) while pip works.
setup:
	@PREBUILD_PROFILE=$(PROFILE) scripts/setup.sh

# The tests also need Chromium (the report's browser check) and the Python
# references (requirements-test.txt).
setup-test:
	@PREBUILD_PROFILE=dev scripts/setup.sh --for-tests

build: setup
	$(CARGO) build --profile $(PROFILE) --bin lossbench

run: build
	$(BIN) run $(SUITE) --device $(DEVICE)

# The Slurm end-to-end tests (tests/e2e/slurm.rs) need a cluster:
# scripts/slurm-local.sh starts a one-node one (installing Debian's
# slurm-wlm and munge when missing; root) unless one answers, and stops
# what it started once the tests are through, whether they pass or not.
# LOSSBENCH_SKIP_SLURM=1 skips both the cluster and those tests.
test: setup-test
	@if [[ "$${LOSSBENCH_SKIP_SLURM:-}" != 1 ]]; then scripts/slurm-local.sh start; fi
	@status=0; \
	$(CARGO) test --lib --tests || status=$$?; \
	if [[ "$${LOSSBENCH_SKIP_SLURM:-}" != 1 ]]; then scripts/slurm-local.sh stop; fi; \
	exit $$status
	$(CARGO) test --doc
	$(CARGO) fmt --all -- --check

lint: setup
	$(CARGO) clippy --all-targets -- -D warnings

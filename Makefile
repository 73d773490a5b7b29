# The README's two commands:
#   make run   set up if needed, build, run suites/quick.yaml, print where the report is
#   make test  set up if needed, run every test, the format check and clippy
SHELL := /bin/bash
CARGO ?= cargo
SUITE ?= suites/quick.yaml
DEVICE ?= auto

.PHONY: setup build run test

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release

run: build
	./target/release/lossbench run $(SUITE) --device $(DEVICE)

test: setup
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

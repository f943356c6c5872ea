# Myna — `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PCSC_STAMP := $(VENV)/.installed-pcsc
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes: twice the cores, since many tests wait on servers, subprocesses and
# timeouts rather than compute. A module whose tests share a costly fixture (agency
# nodes as processes) is an xdist group, run by one process (--dist loadgroup).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install Myna with its development tools

# PC/SC support (pyscard) compiles against libpcsclite-dev, which prerequisites installs.
$(PCSC_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,pcsc]'
	touch $(PCSC_STAMP)

demo: $(STAMP) ## set up and start the demo platform (portal, JPKI, virtual card reader)
	$(BIN)/myna demo --host $(HOST) --port $(PORT)

serve: $(STAMP) ## start the portal on an existing database
	$(BIN)/myna serve --host $(HOST) --port $(PORT)

lint: $(STAMP) ## ruff, mypy strict and the import contracts
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples
	$(BIN)/mypy
	$(BIN)/lint-imports

prerequisites: ## install (as root) or name what the tests need beyond Python: Chromium, a Japanese font, PostgreSQL, PC/SC
	scripts/test-prerequisites

test-sqlite: $(STAMP) ## the whole suite on SQLite
	$(BIN)/pytest $(PYTEST_PARALLEL) -q --durations=15 -m "not postgres"

test-postgres: $(STAMP) ## the database-facing suite on PostgreSQL (127.0.0.1:5432); the benchmarks' own tests make their own SQLite files, so they run once
	MYNA_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_PARALLEL) -q --durations=15 -m "not browser" tests/integration tests/e2e tests/faults/test_database_connections.py --ignore=tests/integration/bench

test-faults: $(STAMP) ## faults with real processes: killed nodes and workers, a cut database, a full disk
	$(BIN)/pytest -n 1 -q tests/faults

# The checks first, so a machine that lacks something stops in seconds, not minutes.
test: prerequisites $(STAMP) $(PCSC_STAMP) lint test-sqlite test-postgres ## set up and run everything: lint, SQLite suite, PostgreSQL suite

bench: $(STAMP) ## the login benchmark (see docs/benchmarks.md)
	$(BIN)/myna bench login --duration 20

clean: ## remove the demo data under var/
	rm -rf var

.PHONY: help install demo serve lint prerequisites test test-sqlite test-postgres test-faults bench clean

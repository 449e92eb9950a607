# Works on a fresh machine with only python3 (3.11+): the first target run creates .venv and
# installs the package with its dev extras; later runs reinstall only when pyproject.toml changed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="tests/auth -x"`.
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: run test lint bench install

install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Modelsnest needs Python 3.11 or newer ($(PYTHON) is older): make PYTHON=python3.12 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: migrate, seed, print the demo key with curl and SDK examples, serve on http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/modelsnest migrate
	$(BIN)/modelsnest seed
	$(BIN)/modelsnest demo --base-url http://$(HOST):$(PORT)
	exec $(BIN)/modelsnest serve --host $(HOST) --port $(PORT)

## test: the whole test suite (PostgreSQL and Redis tests skip when those are not running, unless CI=true)
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## lint: ruff (lint and format) and mypy --strict
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: the gateway benchmark, side by side with the machine's limit (see bench/README.md)
bench: $(STAMP)
	bench/run.sh

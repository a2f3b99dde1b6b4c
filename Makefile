# One command per task; CI runs the same ones (.ci/run calls `make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint types fmt bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files so a second `make run` does not reinstall; a changed pyproject.toml does.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/peer-support serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: install-dev
	$(BIN)/mypy

fmt: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The rules packages are held to full branch coverage by their own unit tests alone: no
# conftest (nothing from server/ runs), only rooms/ and moderation/ measured, its data in a
# file of its own (.coverage-rules: the main run combines only .coverage.*).
# Browser tests run in a pytest process of their own: Playwright drives Chromium from its own
# event loop, which must not share a process with the asyncio-based suites.
test: lint types
	COVERAGE_FILE=.coverage-rules $(BIN)/pytest -q --noconftest -o addopts=--strict-markers \
	    --cov=rooms --cov=moderation --cov-branch --cov-fail-under=100 \
	    --cov-report=term-missing:skip-covered tests/rooms tests/moderation
	$(BIN)/pytest -m "not browser"
	$(BIN)/pytest -m browser --cov-append tests/browser

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS=--quick (python -m bench --help).
bench: install-dev
	$(BIN)/python -m bench --env bench/load.env $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage .coverage-rules

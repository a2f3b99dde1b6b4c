# One command per task; CI runs the same ones (.ci/run calls `make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-deps lint types fmt bench bench-deps install install-dev clean

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
test: lint types test-deps
	COVERAGE_FILE=.coverage-rules $(BIN)/pytest -q --noconftest -o addopts=--strict-markers \
	    --cov=rooms --cov=moderation --cov-branch --cov-fail-under=100 \
	    --cov-report=term-missing:skip-covered tests/rooms tests/moderation
	$(BIN)/pytest -m "not browser"
	$(BIN)/pytest -m browser --cov-append tests/browser

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

# The Socket.IO reference's npm dependencies, exactly as locked; again when the lockfile changes
# (npm ci writes node_modules/.package-lock.json). Without node/npm the bench skips it.
SOCKETIO := bench/socketio
$(SOCKETIO)/node_modules/.package-lock.json: $(SOCKETIO)/package-lock.json
	cd $(SOCKETIO) && npm ci --no-audit --no-fund --loglevel=error

# What the bench's own tests need too (tests/test_bench.py): the charts' matplotlib and the
# Socket.IO reference's packages (in CI a missing reference fails its test instead of skipping).
test-deps: bench-deps

bench-deps: $(VENV)/.installed-bench
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
	    $(MAKE) --no-print-directory $(SOCKETIO)/node_modules/.package-lock.json \
	    || echo "bench: npm ci failed in $(SOCKETIO): the Socket.IO reference will be skipped"; \
	else echo "bench: node/npm not found: the Socket.IO reference will be skipped"; fi

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS=--quick (python -m bench --help).
bench: bench-deps
	$(BIN)/python -m bench --env bench/load.env $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage .coverage-rules

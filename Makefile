# Cadre: `make run` sets everything up and serves; `make test` installs what tests need and runs them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run install install-test test lint bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

# The test-only reference verifier (Node.js): Digital Bazaar's and DCC's packages, pinned by its lockfile.
RV := tests/certificates/reference-verifier
$(RV)/node_modules/.package-lock.json: $(RV)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(RV) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
		echo "npm not found: tests/certificates/test_reference_verifier.py needs Node.js 20+ with npm"; \
	fi

# axe-core for the Chromium journeys' accessibility check (tests/e2e/checks.py), pinned by its lockfile.
E2E := tests/e2e
$(E2E)/node_modules/.package-lock.json: $(E2E)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(E2E) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
		echo "npm not found: the browser journeys' axe-core check (tests/e2e) needs Node.js 20+ with npm"; \
	fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(RV)/node_modules/.package-lock.json $(E2E)/node_modules/.package-lock.json

run: install
	$(BIN)/cadre db upgrade
	$(BIN)/cadre content sync
	$(BIN)/cadre keys create --if-missing
	$(BIN)/cadre demo
	@echo "Cadre is starting on http://$${CADRE_HOST:-127.0.0.1}:$${CADRE_PORT:-8000} with its background worker (Ctrl-C stops both)"
	$(BIN)/cadre serve

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/python tests/bench/run.py

# Concurrent learner journeys against a real server (SOAK_CLIENTS, SOAK_SECONDS; SOAK_DATABASES=sqlite to skip PostgreSQL)
SOAK_DATABASES ?= sqlite postgres
soak: install-test
	$(BIN)/python tests/bench/soak.py $(SOAK_DATABASES)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(RV)/node_modules $(E2E)/node_modules

# Cadre: `make run` sets everything up and serves; `make test` installs what tests need and runs them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run install install-test test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

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

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

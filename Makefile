# The two commands a newcomer needs: `make run` and `make test`. Both work from a fresh clone
# on a machine with only Python 3.11+: they create .venv and install into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/callnotes run

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (style, security), import-linter (the layers of DESIGN.md, [tool.importlinter] in
# pyproject.toml) and mypy (src/, [tool.mypy]).
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache

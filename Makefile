# Fulcrum — the two commands of the README are `make demo` and `make test`.
# Both create the virtualenv and install the pinned dependencies first (Python >= 3.11 needed).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit integration bench openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,eval]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fulcrum demo --out demo-out

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite: lint, types, unit and integration tests (SQLite always; PostgreSQL as well
# when FULCRUM_TEST_POSTGRES_URL is set — .ci/run installs and starts PostgreSQL and sets it).
test: lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q -m integration

openapi: $(STAMP)
	$(BIN)/python scripts/export_openapi.py

clean:
	rm -rf $(VENV) demo-out .mypy_cache .ruff_cache .pytest_cache

# Two commands do all set-up on a fresh machine (see README):
#   make run    builds .venv with poolwise alone (no extras) and runs `poolwise` on the bundled SpaceX data
#   make test   adds the test, mcmc and dask extras and runs the whole test suite (slow included)
# The venv is reinstalled when pyproject.toml changes. Python 3.12+ is required; `.python-version`
# selects it through pyenv where pyenv is installed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of extras: the main job needs the core only; the tests need every extra.
CORE := $(VENV)/.installed-core
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench lint clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "poolwise needs Python >= 3.12; found " + sys.version.split()[0] + " (install 3.12 or set PYTHON=python3.12)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE): pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(STAMP): pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test,mcmc,dask]'
	@touch $@

run: $(CORE)
	$(BIN)/poolwise

# lint-imports: the layer contract and no import cycles (pyproject.toml [tool.importlinter])
# -n auto --dist loadfile: one worker per core, each test file on one worker (its module fixtures once)
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest --run-slow -n auto --dist loadfile

test-fast: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python bench_budgets.py
	$(BIN)/python benchmarks/bench_exact.py
	$(BIN)/python benchmarks/bench_scale.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check src tests benchmarks docs

clean:
	rm -rf $(VENV)

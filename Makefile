# Two commands do all set-up on a fresh machine (see README):
#   make run    builds .venv and runs `poolwise` on the bundled SpaceX data
#   make test   builds .venv with the test, mcmc and dask extras and runs the whole test suite (slow included)
# The venv is rebuilt when pyproject.toml changes. Python 3.12+ is required; `.python-version`
# selects it through pyenv where pyenv is installed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "poolwise needs Python >= 3.12; found " + sys.version.split()[0] + " (install 3.12 or set PYTHON=python3.12)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,mcmc,dask]'
	@touch $@

run: $(STAMP)
	$(BIN)/poolwise

test: $(STAMP)
	$(BIN)/python -m pytest --run-slow

test-fast: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_exact.py
	$(BIN)/python benchmarks/bench_scale.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check src tests benchmarks docs

clean:
	rm -rf $(VENV)

# Two commands on a fresh machine: `make lab` opens the workbook, `make test` runs every test.
# Both create .venv (standard library venv + pip), install the package in editable mode
# and generate the default data set if it is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   := datasets/transactions.parquet
# Notebooks checked by nbval: teaching notebooks and the instructor (solution) exercises.
NOTEBOOKS := notebooks exercises/solutions
PYTEST_WORKERS ?= 2

.PHONY: lab test setup data clean-venv help

help:
	@echo "make lab   - set up (first time only) and open JupyterLab on the notebooks"
	@echo "make test  - set up (first time only) and run pytest + nbval over notebooks and exercises"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

$(DATA): | $(STAMP)
	$(BIN)/workbook generate --preset retail_chain --members 20000 --seed 7 --out datasets/

data: $(DATA)

lab: setup data
	@if [ "$${CI:-}" = "true" ]; then echo "CI=true: not starting JupyterLab"; exit 0; fi
	$(BIN)/jupyter lab --notebook-dir=. notebooks/00_introduction.ipynb

test: setup data
	WORKBOOK_STRICT_CLAIMS=1 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --nbval-lax --doctest-modules src/workbook tests $(NOTEBOOKS)

clean-venv:
	rm -rf $(VENV)

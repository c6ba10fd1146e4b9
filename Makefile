# Two commands on a fresh machine: `make lab` opens the workbook, `make test` runs every test.
# Both create .venv (standard library venv + pip), install the package in editable mode
# and generate the default data set if it is missing.
#   make lab   installs the runtime dependencies only (what a trainee needs: no pyspark, no pytest).
#   make test  adds the `test` and `spark` extras to the same .venv.
# Each has its own stamp, so a .venv made by `make lab` gets the extras the first time
# `make test` runs, and `make lab` after `make test` installs nothing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
LAB_STAMP  := $(VENV)/.stamp-lab
TEST_STAMP := $(VENV)/.stamp-test
# Python writes each module's .pyc on its first import, in every target, also where the
# environment says not to (CI sets PYTHONDONTWRITEBYTECODE=1): otherwise every process, every
# kernel of the tests among them, compiles each module it imports again (an empty value is "write").
export PYTHONDONTWRITEBYTECODE :=
# Kernels on local sockets, not TCP ports another program can take (workbook/kernel_sockets.py).
LAB_KERNELS := --AsyncMappingKernelManager.kernel_manager_class=workbook.kernel_sockets.LocalServerKernelManager
DATA   := datasets/transactions.parquet
# Notebooks checked by nbval (the others are executed by tests, see below).
# --durations=30: the slowest tests are listed in every run (the CI budget is 20 min on 2 cores).
# --no-loadscope-reorder: xdist hands out modules in collection order, which tests/conftest.py
# sets longest first (its default, most tests first, left a long notebook module for the end).
# The teaching notebooks (notebooks/*.ipynb) are executed once, with strict claims, by the
# book build in tests/test_book.py (book/build.py --strict), and the instructor solutions
# (exercises/solutions) by tests/test_exercises.py (strict claims, every check must pass):
# a second nbval run of either would execute them twice.  nbval runs the analyst notebook.
NOTEBOOKS := notebooks/analyst
# Two workers for two cores: -n 3 on the same idle 2-core machine (clean clone of bb70b13, 2026-12-02)
# took 12 min 12 s of tests and 1184 s of user CPU against 8 min 2 s and 944 s with -n 2.
PYTEST_WORKERS ?= 2
# make book / make apps (for managers): each installs its extra into the same .venv the first time.
BOOK_STAMP := $(VENV)/.stamp-book
APPS_STAMP := $(VENV)/.stamp-apps
BOOK_OUT   ?= build/book
BOOK_JOBS  ?= 2
APPS_HOST  ?= 127.0.0.1
APPS_PORT  ?= 8866

.PHONY: lab test book apps setup setup-test data clean-venv help

help:
	@echo "make lab   - set up (first time only) and open JupyterLab on the notebooks"
	@echo "make test  - set up (first time only) and run every test: pytest, doctests, notebooks and exercises"
	@echo "make book  - build the course as a static HTML site (build/book/html/index.html; no server needed)"
	@echo "make apps  - serve the code-free apps for managers (APPS_HOST=0.0.0.0 APPS_PORT=8866 for a classroom)"

$(BIN)/python:
	@echo "==> Set-up step 1/3: creating the virtual environment $(VENV) with $(PYTHON)"
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "'$(PYTHON)' not found: install Python 3.11 or newer, or run: make lab PYTHON=/path/to/python3"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The workbook needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + ". Run: make lab PYTHON=/path/to/python3.11 (or newer)")'
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV). On Debian/Ubuntu install the venv module first: apt-get install python3-venv"; exit 1; }

$(LAB_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Set-up step 2/3: installing the workbook and its runtime dependencies into $(VENV)"
	@echo "    (first time only: about 330 MB of packages from PyPI, a few minutes; pip lists each one as it goes)"
	$(PIP) install --progress-bar on -e .
	@touch $@

# The extras are a superset of the runtime dependencies, so this also satisfies `make lab`.
# `make test` installs with uv (itself from PyPI, into .venv): the same packages as pip,
# in 128 s instead of 222 s (cold caches, 2 busy cores).  uv reads no pip.conf: behind a
# PyPI mirror, run `make test INSTALLER=pip`.  `make lab` (trainees) keeps pip.
# No --compile-bytecode: it compiled all 12,402 modules of .venv (47 s of a clean clone's 2 min
# set-up, 2026-12-03), while the tests import about 3,400 of them; those are compiled on first
# import and their .pyc written then (see PYTHONDONTWRITEBYTECODE above), 19 s of CPU.
# (Earlier, compileall without the packages' test folders instead of uv's --compile-bytecode
# gave mixed results.)
# WHEELHOUSE: the wheels uv built from source archives (pyspark is published as a 456 MB source
# archive only; jieba and fontmeta too), offered to the next install with --find-links.  uv reuses
# its own build only while the index's answer is fresh; where a proxy strips the caching headers
# (as on the reference machines) it downloaded and built pyspark again on every install, ~20 s,
# and kept every build in its cache, 1.4 GB each time (clean clones filled a disk).  The built
# wheels are copied out of uv's cache after the install (under a temporary name, renamed once
# complete, so a full disk cannot leave half a wheel); where its layout differs nothing is copied.
INSTALLER ?= uv
WHEELHOUSE ?= $(HOME)/.cache/membership-workbook/wheels
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Set-up step 2/3: installing the workbook with the test and Spark extras into $(VENV) ($(INSTALLER))"
	@if [ "$(INSTALLER)" = uv ]; then \
	  $(PIP) install -q uv && mkdir -p "$(WHEELHOUSE)" && \
	  $(BIN)/uv pip install --python $(BIN)/python --find-links "$(WHEELHOUSE)" -e '.[test,spark]' || { \
	    echo "uv could not install the packages (it reads no pip.conf; behind a PyPI mirror run: make test INSTALLER=pip;"; \
	    echo "if the error names a file in $(WHEELHOUSE), delete that folder and run make test again)"; exit 1; }; \
	  find "$$($(BIN)/uv cache dir)"/sdists-v*/pypi -name '*.whl' -newer $(BIN)/python -exec sh -c \
	    'for w in "$$@"; do t="$$0/$${w##*/}"; [ -e "$$t" ] || { cp "$$w" "$$t.part" && mv "$$t.part" "$$t"; }; done' \
	    "$(WHEELHOUSE)" {} + 2>/dev/null || true; \
	else \
	  $(PIP) install --progress-bar on -e '.[test,spark]'; \
	fi
	@touch $@ $(LAB_STAMP)

setup: $(LAB_STAMP)
setup-test: $(TEST_STAMP)

# Generated by whichever install ran; $(MAKE) is called after the install so the order is fixed.
$(DATA):
	@echo "==> Set-up step 3/3: generating the default synthetic data set in datasets/"
	$(BIN)/workbook generate --preset retail_chain --members 20000 --seed 7 --out datasets/

data: $(LAB_STAMP)
	@$(MAKE) --no-print-directory $(DATA)

lab: $(LAB_STAMP)
	@$(MAKE) --no-print-directory $(DATA)
	@echo "==> Set-up done: $(VENV) is ready."
	@if [ "$${CI:-}" = "true" ]; then echo "CI=true: not starting JupyterLab"; exit 0; fi; \
	root_flag=""; \
	if [ "$$(id -u)" -eq 0 ]; then \
	  echo "You are running as root (common in containers and classroom VMs). JupyterLab refuses to"; \
	  echo "start as root unless told --allow-root, so it is passed. On a shared machine prefer a normal user."; \
	  root_flag="--allow-root"; \
	fi; \
	echo "==> Starting JupyterLab. It opens in your browser; if not, open the http://127.0.0.1:... link printed below."; \
	echo "    Stop it with Ctrl-C (twice)."; \
	exec $(BIN)/jupyter lab --notebook-dir=. $$root_flag $(LAB_KERNELS) notebooks/00_introduction.ipynb

test: $(TEST_STAMP)
	@$(MAKE) --no-print-directory $(DATA)
	WORKBOOK_STRICT_CLAIMS=1 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=30 --nbval-lax --doctest-modules src/workbook tests $(NOTEBOOKS)

$(BOOK_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing the workbook with the book extra (Sphinx, MyST-NB, sphinx-book-theme, jieba) into $(VENV)"
	$(PIP) install --progress-bar on -e '.[book]'
	@touch $@

$(APPS_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing the workbook with the apps extra (Voila) into $(VENV)"
	$(PIP) install --progress-bar on -e '.[apps]'
	@touch $@

# The course as a static site: every teaching notebook executed once (cached in $(BOOK_OUT)/executed),
# code folded, course map, search, exercises (student copies), data dictionary, privacy page.
book: $(BOOK_STAMP)
	@$(MAKE) --no-print-directory $(DATA)
	$(BIN)/python book/build.py --out $(BOOK_OUT) --jobs $(BOOK_JOBS)

# The code-free apps (Voila): RFM care lists, churn budget, store compass, tier sandbox.
apps: $(APPS_STAMP)
	@$(MAKE) --no-print-directory $(DATA)
	@if [ "$${CI:-}" = "true" ]; then echo "CI=true: not starting the apps server"; exit 0; fi; \
	exec $(BIN)/workbook apps --host $(APPS_HOST) --port $(APPS_PORT)

clean-venv:
	rm -rf $(VENV)

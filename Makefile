# mmdiff-lite: the two commands a user needs are `make demo` and `make test`.
# Both create ./.venv and install the kit (editable, pinned torch, dev tools) on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mmdiff-installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
# Per-run settings the notebooks read (see mmdiff_lite/notebook.py).
SMOKE_ENV := MMDIFF_BUDGET=smoke MMDIFF_FIGURES=$(CURDIR)/build/figures

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BROWSER_NOTEBOOKS := 00_quickstart.ipynb 05_rs_mma.ipynb

.PHONY: setup demo test unit smoke nbval browser browser-test student lab notebooks bench gpu-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[pinned,dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/mmdiff-lite demo --out outputs/demo

test: setup unit smoke nbval browser-test
	@echo "make test: all stages passed"

unit: setup
	$(BIN)/python -m pytest tests -q --durations=15

# Every notebook, executed by papermill at the smoke budget with the widget front end forced on
# (MMDIFF_WIDGETS=1: interact() takes the live path, as in JupyterLab or Colab; nbval below takes the
# headless one); executed copies go to build/.
smoke: setup
	@mkdir -p build/notebooks build/figures
	@set -e; for nb in $(NOTEBOOKS); do \
	  echo "papermill (smoke, live widgets): $$nb"; \
	  MMDIFF_WIDGETS=1 $(SMOKE_ENV) $(BIN)/papermill --no-progress-bar --execution-timeout 900 -k python3 --cwd notebooks \
	    -p BUDGET smoke "$$nb" "build/$$nb"; \
	done

# The committed notebooks as they are (their BUDGET defaults to $$MMDIFF_BUDGET), lax mode:
# only cells marked `# NBVAL_CHECK_OUTPUT` must reproduce their saved output.
nbval: setup
	@mkdir -p build/figures
	cd notebooks && $(SMOKE_ENV) ../$(BIN)/python -m pytest -q -p no:cacheprovider \
	  --nbval-lax --nbval-current-env $(notdir $(NOTEBOOKS))

# Re-run every notebook in place at the cpu budget (outputs are committed; figures go to figures/).
notebooks: setup
	@set -e; for nb in $(NOTEBOOKS); do \
	  echo "papermill (cpu): $$nb"; \
	  MMDIFF_BUDGET=cpu $(BIN)/papermill -k python3 --cwd notebooks "$$nb" "$$nb"; \
	done

# Debian's Chromium for the browser test (Playwright drives it; no browser is downloaded from elsewhere).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium with apt-get"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# JupyterLab on localhost, opened in headless Chromium: "Run All" at the smoke budget in notebooks 00 and 05;
# no error output, the sliders rendered, a <video> that plays with sound; screenshots in build/browser/.
browser-test: setup browser
	$(BIN)/python tests/browser/lab_check.py --out build/browser $(BROWSER_NOTEBOOKS)

# The course without its solutions (cells tagged `solution` emptied) for a class: build/student/.
student: setup
	$(BIN)/python -m mmdiff_lite.exercises.student --src notebooks --out build/student

lab: setup
	$(BIN)/jupyter lab notebooks

# The GPU path in one run (< 8 min on one GPU): tests/test_cuda.py, trainer throughput, time to sync; build/gpu-check/.
# AUTHORS_CODE=DIR (a local checkout of researchmm/MM-Diffusion) adds the step against the authors' network.
gpu-check: setup
	$(BIN)/python -m mmdiff_lite.bench.gpu_check --out build/gpu-check $(if $(AUTHORS_CODE),--authors-code $(AUTHORS_CODE))

bench: setup
	$(BIN)/mmdiff-lite bench --help

clean:
	rm -rf build outputs

# Two entry points: `make run` (install, system libraries, launch the app) and `make test` (install + the whole suite).
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The X11 libraries Qt needs are system packages: installed here when root, else the exact
# apt-get command is printed and `make run` stops.
run: $(STAMP)
	$(PY) -m app.system_libraries
	$(VENV)/bin/sudoku-jepa-gui

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/sudoku-jepa bench --out assets/benchmarks.md

clean:
	rm -rf $(VENV) build *.egg-info

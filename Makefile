# Training Art: `make book` builds the book, `make test` runs every test. Both set up `.venv`
# first (from requirements.txt and pyproject.toml), so they work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
PORT ?= 8000
JOBS ?= 2
DIR ?= submissions

export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup book test unit notebooks site lint serve lab clean exercises grade bench bench-grading

help:
	@echo "make book   - set up .venv, execute every chapter and build _build/html"
	@echo "make test   - set up .venv, run unit tests, nbval on the chapters, the book build and the browser test"
	@echo "make serve  - serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make lab    - JupyterLab with trainart importable"
	@echo "make grade DIR=submissions - grade a folder of notebooks into grading-out/"
	@echo "make exercises - rebuild the student and grading notebooks from exercises/src"
	@echo "make bench  - benchmarks vs torch/SciPy, chapter and book-build times, grading throughput (bench-out/bench.json)"

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(STAMP)

# -n: nitpicky references, -W: warnings are errors, --keep-going: report them all.
book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -n -W --keep-going

lint: $(STAMP)
	$(BIN)/ruff check .

# Parallel pytest workers each get one BLAS thread: oversubscribed OpenBLAS threads spin.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

unit: $(STAMP)
	$(ONE_THREAD) $(BIN)/pytest -n $(JOBS) -m "not site" tests

notebooks: $(STAMP)
	$(ONE_THREAD) $(BIN)/pytest -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env \
		--nbval-cell-timeout 300 chapters

site: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest -m site tests

test: lint unit notebooks book site

serve:
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=.

# Debian's chromium drives the browser test (never `playwright install`).
$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends chromium

exercises: $(STAMP)
	$(BIN)/trainart build-exercises

grade: $(STAMP)
	$(BIN)/trainart grade $(DIR) --out grading-out --jobs $(JOBS)

# Benchmarks (not tests): one table of trainart vs torch/SciPy and the book's own costs, printed
# and written to bench-out/bench.json (+ .md). Takes ~15 min: it builds the book in a temp copy.
bench: $(STAMP)
	$(BIN)/python -m bench.run --out bench-out/bench.json

bench-grading: $(STAMP)
	$(BIN)/python -m bench.run --only grading --out bench-out/grading.json

clean:
	rm -rf _build grading-out bench-out

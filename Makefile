# Training Art: `make book` builds the book, `make test` runs every test. Both set up `.venv`
# first (from requirements.txt and pyproject.toml), so they work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
BWRAP := /usr/bin/bwrap
PORT ?= 8000
JOBS ?= 2
DIR ?= submissions

export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup execute book pdf tex test test-pdf test-portable unit notebooks site lint serve \
	lab clean exercises grade bench bench-grading

help:
	@echo "make book   - set up .venv, execute every chapter and build both editions: _build/html (English), _build/html/ko (Korean)"
	@echo "make pdf    - the book and the PDFs of both editions (_build/html/pdf/training-art-{en,ko}.pdf)"
	@echo "make test   - set up .venv, run unit tests, nbval on the chapters, both editions, both PDFs and the browser tests"
	@echo "make test-portable - unit tests and nbval on the chapters under two more CPU-kernel settings"
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

setup: $(STAMP) $(BWRAP)

# Parallel workers each get one BLAS thread: oversubscribed OpenBLAS threads spin.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# Every chapter executes once, $(JOBS) at a time, into the jupyter-cache that the book build
# and the nbval check both read (a chapter re-runs only when it or trainart changed).
CACHE := _build/.jupyter_cache
execute: $(STAMP)
	$(ONE_THREAD) $(BIN)/python tools/execute_chapters.py --cache $(CACHE) --jobs $(JOBS)

# -n: nitpicky references, -W: warnings are errors, --keep-going: report them all.
# Two editions from the same sources and the same executions: English in _build/html, Korean
# (the prose from locales/ko's catalogs) in _build/html/ko.
BUILD_FLAGS := -n -W --keep-going
book: execute
	$(BIN)/jupyter-book build . --builder html $(BUILD_FLAGS)
	$(BIN)/python tools/editions.py html -- $(BUILD_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP) $(BWRAP)
	$(ONE_THREAD) $(BIN)/pytest -n $(JOBS) -m "not site and not pdf" tests

# nbval's comparison (cells tagged nbval-check-output) over the executions in the cache.
NBVAL_FROM := $(BIN)/python -m pytest -p tools.nbval_cache --nbval-from-cache
notebooks: execute
	$(NBVAL_FROM) $(CACHE) chapters

AXE := node_modules/axe-core/axe.min.js
site: $(STAMP) $(CHROMIUM) $(AXE)
	$(BIN)/pytest -m site tests

# axe-core (npm, pinned in package-lock.json) audits every page in the browser test.
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The PDFs of both editions (XeLaTeX, kotex, Nanum fonts; the TeX packages come from Debian),
# copied into the site as _build/html/pdf/training-art-{en,ko}.pdf for the front page's links.
TEX_PACKAGES := texlive-xetex texlive-latex-extra texlive-lang-korean texlive-fonts-recommended \
	tex-gyre fonts-freefont-otf fonts-nanum fonts-nanum-coding fonts-dejavu-core latexmk xindy \
	poppler-utils
pdf: book tex
	$(BIN)/python tools/editions.py pdf

# Installs only what dpkg does not already list.
tex:
	@dpkg -s $(TEX_PACKAGES) >/dev/null 2>&1 || { \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends \
			$(TEX_PACKAGES); }

test-pdf: $(STAMP)
	$(BIN)/pytest -m pdf tests

test: lint unit book notebooks pdf site test-pdf

# The same proofs under other CPU kernels (OpenBLAS's core type, ATEN's vector ISA): what a
# student's laptop or another CI machine selects. Each setting has its own cache.
setting_haswell := OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2
setting_sandybridge := OPENBLAS_CORETYPE=Sandybridge ATEN_CPU_CAPABILITY=default
test-portable: portable-haswell portable-sandybridge

portable-%: $(STAMP) $(BWRAP)
	@test -n "$(setting_$*)" || { echo "no setting named $*"; exit 2; }
	@echo "== $(setting_$*)"
	env $(setting_$*) $(ONE_THREAD) $(BIN)/pytest -n $(JOBS) -m "not site and not pdf" tests
	env $(setting_$*) $(ONE_THREAD) $(BIN)/python tools/execute_chapters.py \
		--cache _build/portable/$*/.jupyter_cache --jobs $(JOBS)
	$(NBVAL_FROM) _build/portable/$*/.jupyter_cache chapters

serve:
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=.

# Debian's chromium drives the browser test (never `playwright install`).
$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends chromium

# Debian's bubblewrap: one sandbox per graded submission (the grading tests need it).
$(BWRAP):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends bubblewrap

exercises: $(STAMP)
	$(BIN)/trainart build-exercises

grade: $(STAMP) $(BWRAP)
	$(BIN)/trainart grade $(DIR) --out grading-out --jobs $(JOBS)

# Benchmarks (not tests): one table of trainart vs torch/SciPy and the book's own costs, printed
# and written to bench-out/bench.json (+ .md). Takes ~15 min: it builds the book in a temp copy.
bench: $(STAMP)
	$(BIN)/python -m bench.run --out bench-out/bench.json

bench-grading: $(STAMP)
	$(BIN)/python -m bench.run --only grading --out bench-out/grading.json

clean:
	rm -rf _build grading-out bench-out node_modules

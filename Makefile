# The two commands of the README:  `make book`  (execute every chapter, build the HTML site)
#                                   `make test`  (lint, format, spelling, unit tests, chapter smoke runs)
# Both create .venv and install the project on first use; later calls reuse it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?= book
JOBS ?= auto

.PHONY: all book pdf test lint data bench browser-test clean venv

all: test book

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[book,dev,cluster]'
	@touch $(STAMP)

venv: $(STAMP)

data: $(STAMP)
	$(PY) -c "from mi_tutorial.data import ensure_mnist; print('MNIST ready under', ensure_mnist())"

book: $(STAMP)
	$(PY) -m mi_tutorial.pipeline --profile $(PROFILE) --jobs $(JOBS)

# PDFs of the built site (after `make book`), printed offline by Debian's chromium; see
# mi_tutorial/site_pdf.py. PDF_FLAGS=--report-only skips the whole-book PDF.
pdf: $(STAMP)
	$(PY) -m mi_tutorial.site_pdf $(PDF_FLAGS)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/codespell
	$(PY) -m pytest -q -m "not browser"

browser-test: $(STAMP)
	$(PY) -m pytest -q -m browser

bench: $(STAMP)
	$(PY) benchmarks/bench_steps.py

clean:
	rm -rf _build book/*.ipynb

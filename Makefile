# The two commands: `make run` and `make test`. Both install what they need into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run test install install-dev bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/invoicing serve --demo

test: install-dev
	scripts/ensure-services.sh
	$(PY) -m pytest -q

bench: install-dev
	$(PY) bench/create_invoice.py
	$(PY) bench/webhook_intake.py
	$(PY) bench/backfill.py --invoices 10000

lint: install-dev
	$(BIN)/ruff check app blocks schema_mapping tests bench

clean:
	rm -rf $(VENV) data .pytest_cache

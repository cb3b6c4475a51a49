# Mercator: thin wrappers. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.setup-stamp

LANDING ?= data/landing
WAREHOUSE ?= warehouse/mercator.duckdb
AS_OF ?=
DRY_RUN ?=
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 42
TARGET ?= duckdb
# run logs: by default in .venv, which worktrees may share (a symlink): give each its own with RUN_LOGS=<dir>
RUN_LOGS ?= $(VENV)

export AIRFLOW_HOME := $(CURDIR)
export MERCATOR_LANDING := $(abspath $(LANDING))
export MERCATOR_WAREHOUSE := $(abspath $(WAREHOUSE))
export MERCATOR_AS_OF := $(AS_OF)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup run demo chromium test report-pdf lint bench events clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  options: make run LANDING=<dir> WAREHOUSE=<file.duckdb> AS_OF=<YYYY-MM-DD> DRY_RUN=1 TARGET=duckdb|spark RUN_LOGS=<dir>"

setup: $(STAMP) ## create .venv and install pinned dependencies (quick when nothing changed)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: setup ## generate demo data into LANDING if it is empty
	@if [ -z "$$(ls -A $(LANDING) 2>/dev/null)" ]; then \
	  echo "generating demo data ($(DEMO_CUSTOMERS) customers) into $(LANDING)"; \
	  $(PY) -m mercator.demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --out $(LANDING) --malformed-share 0.001; \
	fi

run: demo ## run the whole pipeline through Airflow and print a summary
	@mkdir -p $(RUN_LOGS); $(BIN)/airflow db migrate > $(RUN_LOGS)/airflow-migrate.log 2>&1 || { cat $(RUN_LOGS)/airflow-migrate.log; exit 1; }
	@$(BIN)/airflow pools set duckdb_writer 1 "DuckDB single writer" > /dev/null
	@echo "airflow dags test marketing_daily (log: $(RUN_LOGS)/last-run.log)"
	@status=0; \
	$(BIN)/airflow dags test marketing_daily -c '{"landing_dir": "$(MERCATOR_LANDING)", "as_of": "$(AS_OF)", "dry_run": $(if $(DRY_RUN),true,false), "engine": "$(TARGET)"}' > $(RUN_LOGS)/last-run.log 2>&1 \
	  || { status=$$?; tail -60 $(RUN_LOGS)/last-run.log; echo "pipeline failed: full log in $(RUN_LOGS)/last-run.log"; }; \
	$(PY) -m mercator.summary; \
	exit $$status

chromium: ## install Debian's Chromium (the dashboard's browser tests and PDF) when it is missing
	@test -x /usr/bin/chromium || ! command -v apt-get > /dev/null || { \
	  echo "installing chromium (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null 2>&1 \
	    || { apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }; }

test: setup chromium ## install and run the whole test suite (a pytest-xdist worker per core)
	$(BIN)/pytest -n auto --dist loadgroup --no-loadscope-reorder --durations=20

report-pdf: setup chromium ## print reports/dashboard.html to reports/dashboard.pdf with headless Chromium
	$(PY) -m mercator.reporting.browser reports/dashboard.html reports/dashboard.pdf

lint: setup ## ruff on Python, sqlfluff on dbt models
	$(BIN)/ruff check plugins dags tests bench notebooks
	cd dbt_project && ../$(BIN)/sqlfluff lint models snapshots

bench: setup ## identity-resolution quality and stage timings (bench/README.md)
	$(PY) bench/bench_pipeline.py --customers 10000

events: setup ## receive SendGrid and Twilio webhooks into LANDING (docs/events.md)
	$(PY) -m mercator.events serve --landing $(MERCATOR_LANDING)

clean: ## remove generated state (warehouse, demo data, Airflow DB, reports)
	rm -rf data warehouse airflow.db logs dbt_project/target reports/dashboard.html reports/dashboard.pdf reports/outbox \
	  reports/quality reports/test_artefacts \
	  reports/last_good reports/run_status.json reports/ad_audiences

# pmo5p: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs the suite.
# Both set up .venv from the pinned requirements first; nothing else needs to run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Where `make run` serves: the sign-in address load_demo prints and the start of the links
# in the e-mails it writes, unless PMO5P_SITE_URL says otherwise. HOST=0.0.0.0 listens on
# every interface; this machine reaches it on 127.0.0.1 (the only host debug allows).
SITE_URL := http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
# Test workers: one per core (pytest-xdist); PYTEST_ARGS passes anything else to pytest.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=

.PHONY: help setup run test lint format migrate demo worker beat check-deploy benchmark benchmark-scale clean

help:
	@echo "make run      set up, migrate, load the demo PMO and serve http://$(HOST):$(PORT)"
	@echo "make test     set up and run the whole test suite"
	@echo "make lint     ruff check, format check and the import layering (lint-imports)"
	@echo "make format   ruff format and safe fixes"
	@echo "make worker   a Celery worker (needs REDIS_URL)"
	@echo "make beat     Celery beat, the scheduler (needs REDIS_URL)"
	@echo "make check-deploy   Django's deployment checks with production settings"
	@echo "make benchmark      time the agenda report of a 5,000-stakeholder PMO (a throwaway database)"
	@echo "make benchmark-scale   pages, survey submits, report and import at 1,000,000 answers (needs PostgreSQL and Redis)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime

migrate: $(VENV)/.runtime
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(MANAGE) migrate --noinput

demo: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} PMO5P_SITE_URL=$${PMO5P_SITE_URL:-$(SITE_URL)} $(MANAGE) load_demo

# E-mails (invitations, surveys, reports with their PDF) are written to var/mail/ unless EMAIL_URL says otherwise.
run: demo
	@echo "E-mails go to $${EMAIL_URL:-files in var/mail/}"
	@# Without Redis there is no beat: the periodic tasks run in a process beside the server.
	export DJANGO_DEBUG=$${DJANGO_DEBUG:-1} EMAIL_URL=$${EMAIL_URL:-filemail:///$(CURDIR)/var/mail} \
		PMO5P_SITE_URL=$${PMO5P_SITE_URL:-$(SITE_URL)}; \
	if [ -z "$$REDIS_URL" ]; then \
		$(MANAGE) run_periodic_tasks & periodic=$$!; trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	fi; \
	$(MANAGE) runserver $(HOST):$(PORT)

test: $(VENV)/.dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The layering agenda → stakeholders → pmo5p: pyproject.toml's [tool.importlinter].
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(VENV)/.runtime
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/celery -A pmo5p worker --loglevel=INFO

beat: $(VENV)/.runtime
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/celery -A pmo5p beat --loglevel=INFO --schedule=$${PMO5P_VAR_DIR:-var}/celerybeat-schedule

check-deploy: $(VENV)/.runtime
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=pmo5p.example.com PMO5P_SITE_URL=$${PMO5P_SITE_URL:-https://pmo5p.example.com} \
	$(MANAGE) check --deploy --fail-level WARNING

# Builds the agenda report of a PMO of 5,000 stakeholders and 50,000 answers in a throwaway
# database (SQLite, or next to the one DATABASE_URL names) and prints the time of each step.
benchmark: $(VENV)/.runtime
	DJANGO_SETTINGS_MODULE=pmo5p.settings DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python scripts/benchmark_report.py

# Issue 11's goals at a large organisation's scale, each as a ratio to a reference measured in
# the same run (docs/performance.md): needs DATABASE_URL on PostgreSQL and REDIS_URL; builds
# test_<name>_scale beside the database named and drops it. At nice 10: the machine stays usable.
# BENCHMARK_ARGS passes options, e.g. BENCHMARK_ARGS="--rounds 3 --keep".
BENCHMARK_ARGS ?=
benchmark-scale: $(VENV)/.runtime
	nice -n 10 $(BIN)/python scripts/benchmark_scale.py $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache

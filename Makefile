# spending-dashboard: the two everyday commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements-dev.txt backend/requirements.txt frontend/requirements.txt \
	constraints.txt backend/pyproject.toml frontend/pyproject.toml

.PHONY: help install run test test-slow lint format check-ops pytest init-sql bench bench-quick \
	screenshots compose-smoke load-test clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(STAMP): $(REQUIREMENTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e backend -e frontend
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the pinned dependencies

run: install  ## embedded PostgreSQL (or DATABASE_URL), migrate, seed, serve API (8000) + dashboard (8501)
	@$(BIN)/python scripts/run.py

test: install lint check-ops pytest  ## lint, format check, static checks of ops files, every test but the fault suites

test-slow: install  ## the fault, load and benchmark suites: restarts, killed imports, brute force, bench-quick
	@scripts/pytest.sh -m fault

lint: install  ## black --check and flake8
	$(BIN)/black --check --quiet .
	$(BIN)/flake8 backend frontend bench scripts

format: install  ## reformat the code with black
	$(BIN)/black .

check-ops: install  ## hadolint, actionlint and `docker compose config`
	@scripts/check-ops.sh

pytest: install
	@scripts/pytest.sh -m "not fault"

init-sql: install  ## regenerate db/init.sql from the Alembic migrations
	$(BIN)/python -m spending_api.migrate --sql > db/init.sql

bench: install  ## the full benchmark; writes docs/PERFORMANCE.md
	$(BIN)/python -m bench

bench-quick: install  ## a small benchmark run in seconds
	$(BIN)/python -m bench --quick

load-test: install  ## only the load test of `make bench` (100 users, 60 s); bench/results/load-test.json
	$(BIN)/python -m bench --load-test

screenshots: install  ## PNG screenshots of the dashboard into docs/screenshots/
	$(BIN)/python scripts/screenshots.py

compose-smoke:  ## build and run the Docker Compose stack, check it, tear it down
	@scripts/compose-smoke.sh

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) data

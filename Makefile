# CSV Analyzer: `make run` starts everything, `make test` checks everything. Needs Python 3.11+ and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MLFLOW_PORT ?= 5000
# pytest-xdist processes for make test and test-fast (each its own test database); 0 runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: run test test-fast lint contracts types pytest superuser migrate bench stack-test e2e faults clean help

help:
	@echo "make run        start the web app, the task worker and the MLflow UI (Ctrl-C stops all)"
	@echo "make test       lint, import contracts, type checks and the test suite with coverage"
	@echo "make test-fast  the test suite without the slow tests, no coverage (the edit loop; make test before a commit)"
	@echo "make superuser  create an admin account"
	@echo "make bench      run the benchmarks in bench/"
	@echo "make stack-test the production topology on loopback (needs PostgreSQL, nginx and prometheus)"
	@echo "make e2e        the real-browser journey (needs Debian's chromium)"
	@echo "make faults     worker kills, MLflow and PostgreSQL restarts, a full disk (needs root and PostgreSQL binaries)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.deps-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.deps-run

migrate: $(VENV)/.deps-run
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py migrate --no-input

run: migrate
	@echo ""
	@echo "  CSV Analyzer:  http://$(HOST):$(PORT)/"
	@echo "  MLflow UI:     http://127.0.0.1:$(MLFLOW_PORT)/"
	@echo "  Create an admin account with: make superuser"
	@echo "  Ctrl-C stops everything."
	@echo ""
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-true}; \
	trap 'trap - INT TERM; kill 0' INT TERM; \
	$(BIN)/python manage.py db_worker --no-reload & \
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow server --workers 1 --backend-store-uri "$${MLFLOW_TRACKING_URI:-sqlite:///mlruns.db}" \
		--default-artifact-root ./mlartifacts --host 127.0.0.1 --port $(MLFLOW_PORT) & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) & \
	wait

superuser: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py createsuperuser

lint: $(VENV)/.deps-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	$(BIN)/bandit -q -c pyproject.toml -r csv_analyzer users csv_processor --severity-level medium 2> >(grep -v "nosec encountered" >&2)

contracts: $(VENV)/.deps-dev
	$(BIN)/lint-imports

# mypy with django-stubs over the packages [tool.mypy] lists; its Django plugin loads the settings.
types: $(VENV)/.deps-dev
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-insecure-test-key-not-for-production} $(BIN)/mypy

# DATABASE_URL picks the database (SQLite when unset). Test settings need a key but never DEBUG.
# The stack test starts real servers and has its own target. --dist loadfile keeps each test module in one
# worker, so a module's expensive fixtures (a trained model) are built once.
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadfile
pytest: $(VENV)/.deps-dev
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-insecure-test-key-not-for-production} DJANGO_DEBUG=false \
		$(BIN)/pytest -m "not stack and not e2e and not faults" $(PYTEST_PARALLEL) --cov --cov-report=term $(PYTEST_ARGS)

# The edit loop: the slow tests (large files, long trainings) are left out, and so is coverage, which only
# the whole suite can reach.
test-fast: $(VENV)/.deps-dev
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-insecure-test-key-not-for-production} DJANGO_DEBUG=false \
		$(BIN)/pytest -m "not slow and not stack and not e2e and not faults" $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# nginx, gunicorn (2 workers), the task worker, MLflow and Prometheus on 127.0.0.1, with the repository's
# configs, against fresh databases on the PostgreSQL at STACK_POSTGRES (see tests/stack/).
stack-test: $(VENV)/.deps-dev
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-insecure-test-key-not-for-production} DJANGO_DEBUG=false \
		$(BIN)/pytest -m stack tests/stack -p no:cacheprovider $(PYTEST_ARGS)

# The real-browser journey: Debian's Chromium (apt-get install chromium) driven by Playwright.
# Screenshots of each step land in .ci/artifacts/e2e/.
e2e: $(VENV)/.deps-dev
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-insecure-test-key-not-for-production} DJANGO_DEBUG=false \
		$(BIN)/pytest -m e2e tests/e2e -p no:cacheprovider $(PYTEST_ARGS)

# Faults caused for real: workers killed, MLflow stopped, a private PostgreSQL restarted, a tmpfs filled.
# Needs root (tmpfs mounts, `runuser -u postgres`) and Debian's PostgreSQL 15 binaries; see docs/operations.md.
faults: $(VENV)/.deps-dev
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-insecure-test-key-not-for-production} DJANGO_DEBUG=false \
		$(BIN)/pytest -m faults tests/faults -p no:cacheprovider $(PYTEST_ARGS)

test: lint contracts types pytest

# The benchmarks' own extras (FLAML, locust) are installed here only, never with the app.
$(VENV)/.deps-bench: bench/requirements.txt $(VENV)/.deps-dev
	$(BIN)/pip install --quiet -r bench/requirements.txt
	@touch $@

bench: $(VENV)/.deps-bench
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov

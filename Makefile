# The two commands of the README, plus helpers. Everything runs from the project's .venv.
#
# Installs come from hash-pinned lock files (requirements/*.txt, see README "Dependencies"):
#   make run  -> requirements/run.txt only (what the app needs to run; no test tools)
#   make test -> requirements/dev.txt (run's versions + OpenTelemetry + test and lint tools)
# then the project itself with --no-deps. Each lock has its own stamp file in .venv, so a
# lock is installed again only when it changed, and the project only when pyproject.toml did.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
RUN_LOCK := requirements/run.txt
OTEL_LOCK := requirements/otel.txt
DEV_LOCK := requirements/dev.txt
RUN_STAMP := $(VENV)/.stamp-run-lock
DEV_STAMP := $(VENV)/.stamp-dev-lock
PROJECT_STAMP := $(VENV)/.stamp-project
# The lock tool, pinned so that regenerated files only differ where versions did.
UV_VERSION := 0.13.8
UV := $(BIN)/uv
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock   (make upgrade: newer releases too)"

.PHONY: run test install lint e2e bench clean lock upgrade
# Installs must happen one after the other (the lock, then the project on top of it).
.NOTPARALLEL:

$(BIN)/python:
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip in $(VENV)"
	$(PIP) install --upgrade pip

$(RUN_STAMP): $(RUN_LOCK) | $(BIN)/python
	@echo "==> installing the runtime lock $(RUN_LOCK) ($$(grep -c '==' $(RUN_LOCK)) packages)"
	$(PIP) install --require-hashes -r $(RUN_LOCK)
	touch $@

$(DEV_STAMP): $(DEV_LOCK) | $(BIN)/python
	@echo "==> installing the development lock $(DEV_LOCK) ($$(grep -c '==' $(DEV_LOCK)) packages)"
	$(PIP) install --require-hashes -r $(DEV_LOCK)
	touch $@

# A second pip call: --require-hashes refuses a local project. Build isolation fetches
# setuptools for the build. `pip check` then catches a dependency added to pyproject.toml
# without regenerating the locks.
$(PROJECT_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing appkeeper itself (editable, --no-deps)"
	$(PIP) install --no-deps -e .
	@echo "==> checking installed requirements"
	@$(PIP) check || { echo "pyproject.toml and $(VENV) disagree: run 'make lock' and commit requirements/"; exit 1; }
	touch $@

install: $(DEV_STAMP) $(PROJECT_STAMP)

## make run: migrate the embedded SQLite database, load demo data, start web + worker + beat.
## `make run PORT=8080` serves another port; links in emails and webhooks follow it
## (APPKEEPER_BASE_URL, unless set in the environment).
## The web server runs with DEBUG=false so errors show the designed 404/403/500 pages, as
## in production; --insecure keeps runserver serving the static files (tracebacks are in
## the console log).
PORT ?= 8000
APPKEEPER_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(RUN_STAMP) $(PROJECT_STAMP)
	mkdir -p var/celery/queue var/celery/processed var/celery/control
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Appkeeper on http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker and beat)"
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	APPKEEPER_BASE_URL=$(APPKEEPER_BASE_URL) $(BIN)/celery -A config worker --beat \
	  --loglevel=INFO --pool=threads --concurrency=2 --schedule=var/celerybeat-schedule & \
	DEBUG=false APPKEEPER_BASE_URL=$(APPKEEPER_BASE_URL) $(BIN)/python manage.py runserver --insecure 127.0.0.1:$(PORT) & \
	wait

## make test: lint, type check (mypy, configured in pyproject.toml), migrations check, the
## contract engine's tests without Django, and the whole suite (browser tests included).
## `npm ci` installs the test-only JavaScript pinned in package-lock.json (axe-core, which
## the browser guards inject into every page); nothing from node_modules is served.
test: $(DEV_STAMP) $(PROJECT_STAMP) node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -q -p no:django --noconftest -W ignore::pytest.PytestConfigWarning tests/contracts
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP) $(PROJECT_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make e2e: only the browser tests (Playwright driving Debian's Chromium): the journeys
## and the guards (every page, each role, 1366 and 390 px: overflow, console and htmx
## errors, broken links, axe-core). `make e2e E2E=tests/e2e/test_guards.py` runs a subset.
E2E ?= tests/e2e
e2e: $(DEV_STAMP) $(PROJECT_STAMP) node_modules/.package-lock.json
	$(BIN)/python -m pytest -q $(E2E)

# npm ci again only when the lock changed (npm writes node_modules/.package-lock.json).
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

bench: $(RUN_STAMP) $(PROJECT_STAMP)
	$(BIN)/python -m benchmarks

## make lock: rewrite the locks from pyproject.toml, keeping locked versions where allowed.
## make upgrade: the same, taking the newest releases the ranges in pyproject.toml allow.
## The otel and dev locks are constrained to the run lock, so all three agree on versions.
$(UV): | $(BIN)/python
	@echo "==> installing the lock tool uv $(UV_VERSION)"
	$(PIP) install "uv==$(UV_VERSION)"

lock: $(UV)
	@echo "==> $(RUN_LOCK): [project] dependencies"
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) $(UPGRADE) -o $(RUN_LOCK)
	@echo "==> $(OTEL_LOCK): run + the otel extra (the Docker image)"
	$(UV) pip compile pyproject.toml --extra otel -c $(RUN_LOCK) $(LOCK_FLAGS) $(UPGRADE) \
	  -o $(OTEL_LOCK)
	@echo "==> $(DEV_LOCK): run + otel + the dev extra (make test, CI)"
	$(UV) pip compile pyproject.toml --extra dev -c $(RUN_LOCK) -c $(OTEL_LOCK) $(LOCK_FLAGS) \
	  $(UPGRADE) -o $(DEV_LOCK)

upgrade:
	$(MAKE) lock UPGRADE=--upgrade

clean:
	rm -rf var staticfiles node_modules

# opsconsole. `make run` serves the console with demo data; `make test` runs the whole suite.
# Both work on a fresh machine: they create .venv from requirements.lock first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The stamp records that .venv holds exactly requirements.lock; installs rerun only when it changes.
STAMP := $(VENV)/.installed-requirements.lock
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run test check bench lint format lock clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): requirements.lock | $(PY)
	@# A checkout touches the lock's mtime without changing it: compare contents too.
	@cmp -s requirements.lock $(STAMP) || { \
		$(PY) -m pip install --quiet -r requirements.lock && $(PY) -m pip check && \
		cp requirements.lock $(STAMP); }

# The embedded SQLite database in var/, Celery eager (no broker), demo data once.
run: export DJANGO_DEBUG := 1
run: export CELERY_BROKER_URL :=
# The demo asks no second factor at login, and every console page says so in a banner.
run: export OPSCONSOLE_2FA_REQUIRED := 0
run: install
	mkdir -p var
	$(PY) manage.py migrate --no-input
	@# seed_demo is idempotent and prints the demo logins.
	@if $(PY) manage.py help seed_demo >/dev/null 2>&1; then \
		$(PY) manage.py seed_demo --console-url http://127.0.0.1:$(PORT)/; \
	else \
		echo "seed_demo is not in this checkout yet: serving without demo data"; \
	fi
	@# The beat schedule (SLA checks, escalations, approval expiry, outbox retries) runs in a
	@# second process beside the server, eagerly, and stops with it.
	@$(PY) manage.py run_beat & beat=$$!; \
	trap 'kill $$beat 2>/dev/null' EXIT INT TERM; \
	echo "Serving the console on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it and the beat)"; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# PostgreSQL, Redis and Chromium are found or started by scripts/services.py, which prints
# what it did and stops what it started.
test: install
	$(PY) scripts/services.py -- $(MAKE) --no-print-directory check

# The checks themselves, for an environment that already provides DATABASE_URL (and
# TEST_REDIS_URL for the broker tests).
check: export DJANGO_SECRET_KEY ?= test-only-secret-key
check: export CELERY_BROKER_URL :=
check:
	@# Only models matter here, not a database: don't depend on one that may not exist yet.
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# Layers import downward only (contracts in pyproject.toml), modules stay small, no hidden cycles.
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/check_structure.py
	@$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; fi; \
	exit $$status

bench: install
	@if [ ! -f bench/__main__.py ]; then echo "bench/ has no scenarios yet (bench/__main__.py)" >&2; exit 1; fi
	DJANGO_SECRET_KEY=bench-only-secret-key $(PY) scripts/services.py --no-redis --no-browser -- \
		$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Re-resolve the ranges in pyproject.toml in a scratch venv and pin the result.
lock:
	PYTHON=$(PYTHON) scripts/lock.sh requirements.lock

clean:
	rm -rf $(VENV) var .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

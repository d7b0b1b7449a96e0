# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
export TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test bench lint services chromium clean

$(VENV)/.installed: requirements.txt
	$(PY) -m venv $(VENV) || (apt-get install -y python3-venv && $(PY) -m venv $(VENV))
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## make run: install, migrate, load the demo clinic if empty, serve with gunicorn and run
## `pos worker` beside it (mail, alerts, digests, the checkout sweep). One shell runs both:
## the worker in the background, gunicorn in the foreground; when gunicorn ends (Ctrl-C,
## SIGTERM, or a crash) the EXIT trap sends the worker SIGTERM and waits for it.
run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) pos seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT), with pos worker beside it"
	@$(FLASK) pos worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) wsgi:app

## make test: install what the tests need (Python packages, Chromium) and run them all.
test: $(VENV)/.dev-installed chromium services
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(VENV)/.dev-installed services
	$(BIN)/python -m bench

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

# Debian's Chromium for the browser tests (playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# The PostgreSQL server the tests use; started if this machine has one that is down.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  (command -v pg_ctlcluster >/dev/null 2>&1 && \
	   pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start) || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

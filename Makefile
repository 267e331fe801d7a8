# The two commands of the README's Quick start: `make serve` (PORT=8080 for another port) and `make test`.
# `make dev` runs the development server instead of gunicorn, for debugging.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 5000

.PHONY: serve worker dev test install browser deploy-tools bench mutation

$(VENV)/.installed: requirements.txt
	@echo "Installing the Python packages into $(VENV): a few minutes the first time."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install --progress-bar on -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The production server (gunicorn, deploy/gunicorn.conf.py) in development mode on SQLite:
# migrations first, as their own step, then the demo community, then the worker (email and the
# scheduled jobs; without MAIL_SERVER email is printed here) beside the site. Ctrl+C stops both.
serve: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving Mutual Aid Exchange on http://127.0.0.1:$(PORT) with a worker beside it (Ctrl+C stops both)"
	@trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) worker & worker=$$!; \
	PORT=$(PORT) $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app

# The worker alone (a second one, or beside `make dev`).
worker: install
	$(FLASK) db upgrade
	$(FLASK) worker

# The development server, for debugging (reloads nothing, shows tracebacks with --debug).
dev: install
	$(FLASK) db upgrade
	MAIL_DELIVERY=inline $(FLASK) serve --port $(PORT) --debug

# nginx and Caddy, only so that the tests can check deploy/'s files with the tools that read them.
deploy-tools:
	@command -v nginx >/dev/null 2>&1 && command -v caddy >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx caddy >/dev/null; }

test: install browser deploy-tools
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: install
	$(PY) bench/browse.py
	$(PY) bench/digests.py
	$(PY) bench/suggest.py

# The mutation score of the money and match-lifecycle services (setup.cfg, bench/mutation.py):
# about an hour on 2 cores the first time; later runs retest only what changed.
$(VENV)/.mutation: requirements-mutation.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-mutation.txt
	touch $@

mutation: $(VENV)/.mutation
	$(PY) bench/mutation.py

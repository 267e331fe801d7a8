# The two commands of the README's Quick start: `make serve` (PORT=8080 for another port) and `make test`.
# `make dev` runs the development server instead of gunicorn, for debugging.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 5000

.PHONY: serve worker dev test install browser deploy-tools translations translations-update bench mutation

$(VENV)/.installed: requirements.txt
	@echo "Installing the Python packages into $(VENV): a few minutes the first time."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install --progress-bar on -r requirements.txt
	touch $@

install: $(VENV)/.installed translations

# The compiled catalogs (.mo) the site reads, from the .po files kept in git.
PO_FILES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
translations: $(PO_FILES:.po=.mo)
app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d app/translations -l $*

# After adding or changing a message: extract them all again and merge into every language's .po.
translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel -q extract -F app/translations/babel.cfg -k _l --ignore-dirs '.* mutants' --no-location --omit-header \
	  -o app/translations/messages.pot .
	for code in $$($(PY) -c "from app.i18n import LANGUAGES, DEFAULT; print(*(c for c in LANGUAGES if c != DEFAULT))"); do \
	  $(VENV)/bin/pybabel -q update -i app/translations/messages.pot -d app/translations -l $$code --init-missing \
	    --ignore-obsolete || exit 1; done

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

# Debian packages only the tests use: nginx and Caddy (the tests check deploy/'s files with the
# tools that read them), and the English and Spanish word lists (the engine's test that the English
# words the Spanish tables could misread are all kept English).
TEST_PACKAGES := nginx caddy wamerican wamerican-large wspanish
deploy-tools:
	@command -v nginx >/dev/null 2>&1 && command -v caddy >/dev/null 2>&1 && \
	  [ -f /usr/share/dict/american-english-large ] && [ -f /usr/share/dict/spanish ] || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES) >/dev/null; }

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

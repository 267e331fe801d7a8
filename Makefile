# The two commands of the README's Quick start: `make serve` (PORT=8080 for another port) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 5000

.PHONY: serve test install browser bench

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

serve: install
	$(FLASK) seed-demo
	$(FLASK) serve --port $(PORT)

test: install browser
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: install
	$(PY) bench/browse.py
	$(PY) bench/digests.py
	$(PY) bench/suggest.py

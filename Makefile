# tsundoku — `make run` (demo) and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_ENV := TSUNDOKU_CONFIG=fixtures/demo.toml TSUNDOKU_ENV_FILE=/dev/null
HOST ?= 127.0.0.1
PORT ?= 8000
CODEX_PORT ?= 8081

.PHONY: help venv lock run serve test test-fast test-postgres lint bench browser-deps torrent-deps clean

help:
	@echo "make run    - set up, load demo data, serve on http://$(HOST):$(PORT) with a demo Codex"
	@echo "             (PORT=… CODEX_PORT=… to move it; Ctrl-C stops everything)"
	@echo "make serve  - production: gunicorn + worker on $(HOST):$(PORT)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make lint   - ruff check + format check"
	@echo "make bench  - benchmarks at 100k series (prints figures)"

venv: $(VENV)/.installed

# The same versions every time: requirements.lock (uv pip compile, with hashes;
# `make lock` refreshes it). uv installs it in seconds; without uv (no PyPI
# wheel for this platform), pip installs the same lock.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	@if command -v uv >/dev/null 2>&1 || $(VENV)/bin/pip install --quiet uv >/dev/null 2>&1; then \
	  UV="$$(command -v uv || echo $(VENV)/bin/uv)"; \
	  $$UV pip sync --quiet --python $(VENV)/bin/python requirements.lock && \
	  $$UV pip install --quiet --python $(VENV)/bin/python --no-deps -e .; \
	else \
	  echo "uv unavailable: installing the lock with pip (slower)"; \
	  $(VENV)/bin/pip install --quiet --require-hashes -r requirements.lock && \
	  $(VENV)/bin/pip install --quiet --no-deps -e .; \
	fi
	touch $@

lock: venv
	$(VENV)/bin/python -m uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	    --generate-hashes -o requirements.lock

# Debian's chromium drives the browser tests (no browser download). Installed
# when missing and we may; otherwise the browser tests skip and say why.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: browser tests will be skipped"; fi; }

# The torrent-client e2e tests start Debian's qbittorrent-nox and transmission-daemon.
torrent-deps:
	@{ command -v qbittorrent-nox && command -v transmission-daemon; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's qbittorrent-nox and transmission-daemon for the e2e tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      qbittorrent-nox transmission-daemon >/dev/null; \
	  else echo "torrent daemons not found: their e2e tests will be skipped"; fi; }

test: venv browser-deps torrent-deps lint
	$(PY) -m pytest -n 2 -q

test-fast: venv
	$(PY) -m pytest -n 2 -q -m "not browser"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Ports: make run PORT=8001 CODEX_PORT=8082 (a busy one is a clear error before
# anything starts). Ctrl-C stops every demo process (devtools' `demo` command).
run: venv
	@mkdir -p data/demo
	$(DEMO_ENV) $(PY) manage.py demo --host $(HOST) --port $(PORT) --codex-port $(CODEX_PORT)

# Production: gunicorn + the worker as one service (see README "Running it for real").
serve: venv
	$(PY) manage.py serve --bind $(HOST):$(PORT)

# The non-browser suite against PostgreSQL (TSUNDOKU_TEST_DATABASE_URL, e.g. as .ci/run sets it).
test-postgres: venv
	@test -n "$$TSUNDOKU_TEST_DATABASE_URL" || { echo "set TSUNDOKU_TEST_DATABASE_URL=postgres://…"; exit 2; }
	$(PY) -m pytest -n 2 -q -m "not browser" --expect-database=postgresql

bench: venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) data/demo

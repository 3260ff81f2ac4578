# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench lint chromium debian-tools messages

run: $(VENV)/.run-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Parley is serving at http://$(HOST):$(PORT)/"
	@echo "  (create an admin with: $(PY) manage.py createsuperuser)"
	@echo ""
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: $(VENV)/.test-installed debian-tools bench/node_modules/.installed
	$(PY) scripts/run_tests.py $(PYTEST_ARGS)

# Benchmarks P1-P5 against PeerJS's server (docs/performance.md); not part of `make test`.
# Pass options with BENCH_ARGS="--repeat 3" or "--quick".
bench: $(VENV)/.test-installed debian-tools bench/node_modules/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

bench/node_modules/.installed: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Recompile the translation catalogs after editing locale/*/LC_MESSAGES/django.po.
messages: $(VENV)/.run-installed
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete -i ".venv/*"
	$(PY) manage.py compilemessages -l zh_Hans -i ".venv/*"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here); the
# TURN and several-process tests run Debian's coturn and nginx; the benchmarks and the
# channel-layer tests start their own redis-server. Each is "binary:package".
DEBIAN_TOOLS := chromium:chromium turnserver:coturn nginx:nginx-light redis-server:redis-server

debian-tools:
	@missing=""; \
	for pair in $(DEBIAN_TOOLS); do \
	  bin=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$bin >/dev/null 2>&1 || [ -x /usr/sbin/$$bin ] || missing="$$missing $$pkg"; \
	done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing$$missing with apt-get…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing. Install them (sudo apt-get install$$missing) and run make test again." >&2; \
	    exit 1; \
	  fi; \
	}

chromium: debian-tools

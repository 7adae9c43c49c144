# Two commands do all the set-up on a fresh Debian machine:
#   make demo   installs what is missing and runs `zeta demo`
#   make test   installs what is missing, runs `make check` (format, lint, types), builds the docs
#               (mkdocs --strict), then runs the whole test suite (what .ci/run runs)
# While you work: `make check`, and `make test-fast` (no real server, no demo, no console: under
# two minutes; docs/testing.md says what it leaves out).
# Where apt-get is not available, install Prometheus and Alertmanager yourself (prometheus.io
# binaries on PATH as prometheus, promtool, alertmanager) and run `make setup-python test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEBS := prometheus prometheus-alertmanager victoria-metrics

# Parallel test workers. More than the cores: many tests wait (on a rule's `for`, a timeout, a
# server starting) rather than compute; docs/testing.md has the measurements behind the number.
WORKERS ?= 3
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider
LINTED := zeta_tui tests bench

.PHONY: demo test test-fast check docs setup setup-system setup-python bench clean

demo: setup
	$(BIN)/zeta demo

test: setup check docs
	$(PYTEST) -n $(WORKERS)

# The loop while you work: everything but the tests marked prometheus (real servers and their
# tools), slow (the demo and its children, several servers, the fault matrix, the wheel) and
# console (the whole console through Textual's pilot).
test-fast: setup-python
	$(PYTEST) -n $(WORKERS) -m "not prometheus and not slow and not console"

# Format, lint and types. import-linter's contracts run in the tests (tests/test_layers.py).
check: setup-python
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy zeta_tui

# The manual (docs/, mkdocs.yml) into build/site; --strict fails on any broken link or anchor.
docs: setup-python
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: setup
	$(BIN)/python bench/startup.py

setup: setup-system setup-python

setup-system:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    echo "installing Debian packages:$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing; \
	  elif command -v prometheus >/dev/null && command -v promtool >/dev/null; then \
	    echo "apt-get not available; using prometheus/promtool found on PATH"; \
	  else \
	    echo "apt-get is not available here. Install Prometheus (prometheus, promtool) and Alertmanager"; \
	    echo "from https://prometheus.io/download/ and put them on PATH, then run: make setup-python test"; \
	    exit 1; \
	  fi; \
	fi

setup-python: $(BIN)/zeta

$(BIN)/zeta: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,docs]'
	@touch $(BIN)/zeta

clean:
	rm -rf $(VENV) dist build

# Two commands do all the set-up on a fresh Debian machine:
#   make demo   installs what is missing and runs `zeta demo`
#   make test   installs what is missing, builds the docs (mkdocs --strict), then runs the whole
#               test suite (what .ci/run runs)
# Where apt-get is not available, install Prometheus and Alertmanager yourself (prometheus.io
# binaries on PATH as prometheus, promtool, alertmanager) and run `make setup-python test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEBS := prometheus prometheus-alertmanager victoria-metrics

.PHONY: demo test docs setup setup-system setup-python bench clean

demo: setup
	$(BIN)/zeta demo

# -n auto: one worker per core (each starts its own test servers); the suite takes about half
# as long on 2 cores as one at a time.
test: setup docs
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto

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

# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# The bundled corpora live beside the project; never copied into it.
ifneq ($(wildcard ../shared/data),)
export TRIAGE_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: help install system-deps demo test test-fast lint bench docs clean

help:
	@echo "make demo   - install, train small local models if missing, route sample messages"
	@echo "make test   - install everything (Python deps, torch CPU, redis-server) and run all tests"
	@echo "make lint   - ruff, the import layers (import-linter) and mypy (strict on the library)"
	@echo "make bench  - CPU benchmarks on the demo models (reports/bench-*.json and .md)"
	@echo "make docs   - serve the documentation site on http://127.0.0.1:8001"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU torch first: a bare `torch` requirement on a fresh venv would pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,offline-base]"
	touch $@

install: $(VENV)/.installed

# Real services for the integration tests: redis-server, a PostgreSQL server and the chromium
# that Playwright drives for the console's browser test (Debian packages).
system-deps:
	@command -v redis-server >/dev/null && command -v chromium >/dev/null && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing redis-server, postgresql and chromium (apt)"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    redis-server postgresql chromium >/dev/null; }

demo: install
	$(PY) -m triage.cli demo

test: install system-deps  # library coverage is reported, and must stay at 85 % or more
	$(PY) -m pytest --cov --cov-fail-under=85

test-fast: install
	$(PY) -m pytest -m "not slow and not services and not postgres and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy triage stages policies review_queue training

bench: demo system-deps
	$(PY) benchmarks/inference_bench.py
	$(PY) benchmarks/pass_cost.py
	$(PY) benchmarks/queue_bench.py
	$(PY) benchmarks/archive_bench.py

docs: install
	$(VENV)/bin/mkdocs serve -a 127.0.0.1:8001

clean:
	rm -rf .triage .pytest_cache .mypy_cache .ruff_cache

# airflow-provider-flinkcloud developer targets.
#
#   make test                          # Airflow 3.3.2 in .venv (built on first use)
#   AIRFLOW_VERSION=2.11.2 make test   # Airflow 2.11.2 in .venv-2.11.2 (also: 2, 2.x, 2.11, 2.11.x)
#   make test PYTEST_ARGS="-k signer -x"
#   make demo | bench | lint | venv | clean | system-test
#
# Every target bootstraps its venv itself (scripts/bootstrap.sh); that is a no-op (a hash compare) when
# pyproject.toml, the constraints file and the bootstrap script are unchanged.

SHELL := /bin/bash
.DEFAULT_GOAL := help

AIRFLOW_VERSION ?= 3.3.2
# Shorthands -> exact versions (3, 3.x, 3.3, 3.3.x -> 3.3.2; 2, 2.x, 2.11, 2.11.x -> 2.11.2).
# `override` so that `make test AIRFLOW_VERSION=2` is normalised too.
override AIRFLOW_VERSION := $(strip $(AIRFLOW_VERSION))
ifneq ($(filter 3 3.x 3.3 3.3.x,$(AIRFLOW_VERSION)),)
override AIRFLOW_VERSION := 3.3.2
endif
ifneq ($(filter 2 2.x 2.11 2.11.x,$(AIRFLOW_VERSION)),)
override AIRFLOW_VERSION := 2.11.2
endif

ifeq ($(AIRFLOW_VERSION),3.3.2)
VENV ?= .venv
else
VENV ?= .venv-$(AIRFLOW_VERSION)
endif

PY          := $(VENV)/bin/python
PYTEST_ARGS ?=
BOOTSTRAP   := $(CURDIR)/scripts/bootstrap.sh

# Venvs are byte-compiled at install time (bootstrap uses --compile-bytecode), so keep Python from
# scattering __pycache__ over the package and tests/ at run time. This machine already sets it; make it explicit.
export PYTHONDONTWRITEBYTECODE := 1

# demo / bench run real Airflow: keep its state out of ~/airflow, one home per Airflow line.
AIRFLOW_HOME ?= $(CURDIR)/.airflow-home-$(AIRFLOW_VERSION)
AIRFLOW_ENV := AIRFLOW_HOME="$(AIRFLOW_HOME)" AIRFLOW__CORE__LOAD_EXAMPLES=False

LINT_PATHS := $(wildcard airflow_provider_flinkcloud tests bench example_dags scripts)

.PHONY: help venv test demo bench lint clean system-test

help:
	@echo "targets: venv test demo bench lint clean"
	@echo "AIRFLOW_VERSION=$(AIRFLOW_VERSION)  VENV=$(VENV)  AIRFLOW_HOME=$(AIRFLOW_HOME)"
	@echo "e.g. 'AIRFLOW_VERSION=2.11.2 make test', 'make test PYTEST_ARGS=\"-k signer\"'"

venv:
	@bash "$(BOOTSTRAP)" "$(AIRFLOW_VERSION)" "$(VENV)"

test: venv
	$(PY) -m pytest -q -p no:cacheprovider tests $(PYTEST_ARGS)

demo: venv
	@mkdir -p "$(AIRFLOW_HOME)"
	$(AIRFLOW_ENV) $(PY) scripts/demo.py

# The product as users run it: emulator + a real Airflow stack (scheduler, triggerer, UI server) in a private
# network namespace, DAGs triggered over REST, the UI checked in headless Chromium. Needs root (unshare -n).
# Screenshots, logs and report.json go to system-test-artifacts/<AIRFLOW_VERSION>/.
system-test: venv
	$(PY) scripts/system_test.py --airflow-version $(AIRFLOW_VERSION) $(SYSTEM_TEST_ARGS)

bench: venv
	@mkdir -p "$(AIRFLOW_HOME)"
	$(AIRFLOW_ENV) $(PY) bench/run.py

# Runs all three checks, then fails if any of them failed.
lint: venv
	@rc=0; \
	echo "+ ruff check $(LINT_PATHS)"; $(VENV)/bin/ruff check $(LINT_PATHS) || rc=1; \
	echo "+ ruff format --check $(LINT_PATHS)"; $(VENV)/bin/ruff format --check $(LINT_PATHS) || rc=1; \
	echo "+ mypy  (files from [tool.mypy] in pyproject.toml)"; $(VENV)/bin/mypy || rc=1; \
	exit $$rc

clean:
	rm -rf .venv .venv-[0-9]*/ .venv-tools .airflow-home .airflow-home-*/ .mypy_cache .ruff_cache .pytest_cache
	for d in airflow_provider_flinkcloud tests bench scripts; do [ ! -d $$d ] || find $$d -name __pycache__ -type d -prune -exec rm -rf {} +; done

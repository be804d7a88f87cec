# cloudshift.migration — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTION_LINK := .ansible/collections/ansible_collections/cloudshift/migration
OTHER_COLLECTIONS := .ansible/collections/ansible_collections/awx/awx/MANIFEST.json \
	.ansible/collections/ansible_collections/kubernetes/core/MANIFEST.json
APT_PACKAGES := haproxy wrk socat openssl curl iproute2 rsync git prometheus prometheus-alertmanager chromium fonts-dejavu-core
PYTEST_ARGS ?=

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup deps venv up down demo test unit integration lint sanity molecule bench docs release clean

help:
	@echo "make demo   set everything up, bring up the local environment, walk application-01 0 -> 1 -> 25 -> 50 -> 100 -> dns"
	@echo "make test   set everything up and run the whole suite (unit, integration, lint, sanity, molecule)"
	@echo "make up     start the local environment (upstreams + HAProxy); make down stops it"
	@echo "make bench  run the benchmarks (results in docs/benchmarks.md)"
	@echo "make docs   regenerate docs/modules from the modules' documentation; make release builds dist/*.tar.gz"

setup: deps venv

# System packages (Debian/Ubuntu): installed only when missing; needs root.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed $(COLLECTION_LINK) $(OTHER_COLLECTIONS)

$(VENV)/.installed: requirements-dev.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

# awx.awx for playbooks/awx.yml, kubernetes.core for deploy.yml (taken out of the `ansible` wheel on PyPI: no Galaxy
# here).
$(OTHER_COLLECTIONS): $(VENV)/.installed
	$(BIN)/python scripts/install_collections.py

up: setup
	$(BIN)/python scripts/democtl start
	$(BIN)/ansible-playbook playbooks/site.yml

down:
	@if [ -x $(BIN)/ansible-playbook ]; then $(BIN)/ansible-playbook playbooks/stop.yml; fi
	@if [ -x $(BIN)/python ]; then $(BIN)/python scripts/democtl stop; else $(PYTHON) scripts/democtl stop; fi

demo: up
	$(BIN)/python scripts/demo.py --app application-01 --steps 0,1,25,50,100,dns

unit: setup
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

integration: setup
	$(BIN)/python -m pytest tests/integration -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ansible-lint --profile production

sanity: setup
	$(BIN)/python scripts/sanity.py

molecule: setup
	$(BIN)/molecule test --all

# Two files at a time (each integration file has its own ports, run dir, HAProxy and moto; docs/local-environment.md),
# then the files whose bounds are measured in time (marker serial) on their own; then lint, sanity and molecule side
# by side (each mostly uses one core; they write nothing in the tree).
test: setup
	$(BIN)/python -m pytest tests bench/tests -q -n 2 --dist loadfile -m "not serial" --durations=20 $(PYTEST_ARGS)
	$(BIN)/python -m pytest tests -q -m serial --durations=10 $(PYTEST_ARGS)
	$(MAKE) --no-print-directory -j3 --output-sync=target lint sanity molecule

# docs/modules/*.md from each module's DOCUMENTATION (tests/unit/test_docs.py fails when one is stale).
docs: setup
	$(BIN)/python scripts/module_docs.py

# The Galaxy tarball (without tests, benches or local state; galaxy.yml build_ignore) in dist/.
release: setup
	$(BIN)/ansible-galaxy collection build --force --output-path dist

bench: setup
	$(BIN)/python -m pip install -q -r requirements-bench.txt
	$(BIN)/python bench/run.py

clean: down
	rm -rf .run

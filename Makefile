# evacuate: make targets. `make` alone lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
EVACUATE := $(BIN)/evacuate
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help deps venv images lab lab-status lab-down demo report-shot test test-unit test-lab lint bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages the lab and tests need (apt-get, as root)
	@./tools/ensure-debs

venv: $(VENV)/.installed ## create .venv and install evacuate with its dev tools

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

images: deps venv ## build the lab images once (cached under /var/cache/evacuate/lab)
	$(EVACUATE) lab images

lab: deps venv ## start lab-source and lab-target (10.231.0.0/24)
	$(EVACUATE) lab up

lab-status: venv ## show the lab hosts and their services
	$(EVACUATE) lab status

lab-down: venv ## stop the lab and remove every trace of it
	$(EVACUATE) lab down

DEMO := EVACUATE_CONFIG=inventories/lab/evacuate.yml $(EVACUATE)

demo: deps venv ## build the lab and evacuate lab-source onto a blank lab-target, verified
	$(EVACUATE) lab up
	$(EVACUATE) lab reset lab-target
	$(DEMO) inventory lab-source
	$(DEMO) snapshot lab-source
	$(DEMO) plan lab-source --to lab-target
	$(DEMO) run
	$(DEMO) verify lab-source lab-target --html .evacuate/reports/demo.html
	@echo "demo: lab-source was evacuated onto lab-target; report: .evacuate/reports/demo.html"

report-shot: ## screenshot the demo's HTML report in headless Chromium (installs chromium)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null)
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-quic \
		--user-data-dir=$$(mktemp -d) --window-size=1280,2000 \
		--screenshot=$(CURDIR)/.evacuate/reports/demo.png file://$(CURDIR)/.evacuate/reports/demo.html
	@echo "screenshot: .evacuate/reports/demo.png"

lint: venv ## ruff and mypy
	$(BIN)/ruff check evacuate tests bench playbooks
	$(BIN)/mypy evacuate playbooks/roles/users/library

test-unit: venv ## fast tests: no root, no lab
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test-lab: deps venv ## tests against real hosts (sshd, the lab)
	$(BIN)/pytest tests/integration tests/lab $(PYTEST_ARGS)

TEST_WORKERS ?= 2

test: deps venv lint ## everything CI runs: lint, unit, integration and lab tests (2 workers, a module each)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: deps venv ## benchmarks against the alternatives, ratios printed
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## remove the venv and caches (not the lab image cache)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info

# Two commands matter: `make run` (the product on the local stack, with the demo) and `make test`.
# Both set themselves up: a virtualenv in .venv from the pinned lock, the project installed into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# tools whose pins conflict with the dev lock (and with each other), each in its own virtualenv
TOOLS := .venv-tools
SAM := $(TOOLS)/sam/bin/sam
SCAN := $(TOOLS)/scan/bin
# offline of any AWS account: a region, no profile, no telemetry
SAM_ENV := env -u AWS_PROFILE AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0

.PHONY: setup run up demo test unit integration e2e lint artifact browser schemas openapi template config bench clean

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "erphub needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

$(TOOLS)/%/.installed: requirements-tools-%.lock
	test -x $(TOOLS)/$*/bin/python || $(PYTHON) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/$*/bin/python -m pip install --quiet -r $<
	touch $@

run: setup  ## start the local stack, run the demo against it, keep serving until Ctrl-C
	$(BIN)/erphub up --demo

up: setup
	$(BIN)/erphub up

demo: setup
	$(BIN)/erphub demo

test: lint artifact browser  ## every test: lint (template, code, types, scanners), the built artifact, unit, integration, e2e
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --durations=15

unit: setup
	$(BIN)/python -m pytest -q tests/unit

integration: setup
	$(BIN)/python -m pytest -q tests/integration

e2e: setup browser
	$(BIN)/python -m pytest -q tests/e2e

lint: setup $(TOOLS)/sam/.installed $(TOOLS)/scan/.installed
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(SAM_ENV) $(SAM) validate --lint --template template.yaml
	$(BIN)/mypy
	$(SCAN)/checkov --config-file .checkov.yaml -f template.yaml
	$(SCAN)/bandit -q -r layers/hub/python functions local erphub_cli tools --severity-level medium

browser:  ## Debian's chromium for the console's browser tests (Playwright drives it; no browser can be downloaded)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

artifact: setup $(TOOLS)/sam/.installed  ## build as sam build does (and compare with sam's own build); run each handler
	$(BIN)/python -m tools.artifact --sam $(SAM)

schemas: setup  ## regenerate schemas/ from the canonical models
	$(BIN)/python -m tools.schemas

openapi: setup  ## regenerate openapi/*.json (the operator API's and /api/v1's) from their code
	$(BIN)/python -m tools.openapi

template: setup  ## regenerate template.yaml from template.source.yaml (its loops written out)
	$(BIN)/python -m tools.template_source

config: setup  ## validate config/business.json, copy it into BusinessConfigParameter, regenerate template.yaml
	$(BIN)/python -m tools.business_config

asl: setup  ## regenerate statemachines/*.asl.json from statemachines/<workflow>.yaml and policy.yaml
	$(BIN)/python -m tools.asl

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/local_stack.py
	$(BIN)/python -m bench.workflows

clean:
	rm -rf $(VENV) $(TOOLS) .artifact .pytest_cache .ruff_cache .mypy_cache .aws-sam

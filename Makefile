# Two commands matter: `make run` (the product on the local stack, with the demo) and `make test`.
# Both set themselves up: a virtualenv in .venv from the pinned lock, the project installed into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run up demo test unit integration e2e lint schemas bench clean

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "erphub needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: setup  ## start the local stack, run the demo against it, keep serving until Ctrl-C
	$(BIN)/erphub up --demo

up: setup
	$(BIN)/erphub up

demo: setup
	$(BIN)/erphub demo

test: setup  ## every test: lint (template, code), unit, integration (moto), e2e (local stack)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

unit: setup
	$(BIN)/python -m pytest -q tests/unit

integration: setup
	$(BIN)/python -m pytest -q tests/integration

e2e: setup
	$(BIN)/python -m pytest -q tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

schemas: setup  ## regenerate schemas/ from the canonical models
	$(BIN)/python -m local.schemas

asl: setup  ## regenerate statemachines/*.asl.json from statemachines/<workflow>.yaml and policy.yaml
	$(BIN)/python -m local.asl

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/local_stack.py
	$(BIN)/python -m bench.workflows

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .aws-sam

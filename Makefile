# Two entry points, each self-sufficient on a machine with Python 3.11+ and make:
#   make run   sets up .venv and runs the medecin-ville campaign against the reference candidate
#              (PROFILE=officine|biologie|imagerie|hopital for another profile)
#   make test  sets up .venv and runs ruff, mypy and the test suite
PYTHON ?= python3
PROFILE ?= medecin-ville
# ANS's CI-SIS validation pack, when it sits beside the checkout (as in this project's workspace and CI).
PACK ?= $(wildcard ../shared/data/ci-sis)
# An export of ANS's draft wave-2 grid, when beside the checkout: ANS's scenario and proof texts in the report.
ANS_GRID ?= $(wildcard ../shared/data/ans-grid-drafts/segur-va2-prepub_va2_avec_scenarios.csv)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck perf clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/segur-bench run --candidate reference --profile $(PROFILE) --out runs $(if $(PACK),--pack $(PACK)) $(if $(ANS_GRID),--ans-grid $(ANS_GRID))

lint: $(STAMP)
	$(BIN)/ruff check bench simulators reports tests
	$(BIN)/ruff format --check bench simulators reports tests

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n auto

perf: $(STAMP)
	$(BIN)/segur-bench perf

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache

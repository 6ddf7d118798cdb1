# The two commands a newcomer needs: `make demo` and `make test`. Each creates .venv if missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Without a terminal there is no one to type `yes`, so the demo approves on its own (and says so).
DEMO_FLAGS ?= $(if $(shell [ -t 0 ] && echo tty),,--auto-approve)

.PHONY: demo test lint typecheck unit clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[sandbox,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/remediate demo $(DEMO_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check remediate tests bench
	$(BIN)/ruff format --check remediate tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# In parallel, one worker per core (pytest-xdist); each worker has its own sandbox server.
unit: $(STAMP)
	$(BIN)/pytest -n auto

test: lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

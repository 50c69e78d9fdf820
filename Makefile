# Two commands for a new user: `make dev` (local stack) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Test processes: CI's machine has 2 cores and the suite is mostly CPU-bound, so two workers
# nearly halve its wall time. A file is the unit (`--dist loadfile`): its module fixtures (a
# seeded stack, a browser) are built once. `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= 2
STAMP := $(VENV)/.installed

.PHONY: dev test lint typecheck unit bench build validate clean tag

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create .venv, install, migrate the embedded ClickHouse and serve the stack on :3000.
dev: $(STAMP)
	$(BIN)/touchline dev

## The whole suite: lint, types, architecture contracts (import-linter), unit/integration/e2e
## tests, `sam validate --lint` and `sam build`.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/touchline dev functions bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

## Rebuild the served browser tag (touchline.min.js) from its source, touchline.js.
tag:
	cd tests/e2e/node && npm ci --no-audit --no-fund && npm run build:tag

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache

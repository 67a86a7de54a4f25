# The two commands a new user needs: `make demo` and `make test`. Each creates .venv and
# installs the project (with its dev extras) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict lucid
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/translate.py
	$(BIN)/python benchmarks/ads_load.py
	$(BIN)/python benchmarks/ads_floor.py
	$(BIN)/python benchmarks/health.py

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache

# The two commands of the quick start: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint format schema bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	BROKERQL_DEMO=$${BROKERQL_DEMO:-1} $(BIN)/brokerql serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

schema: $(STAMP)
	$(BIN)/brokerql export-schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python bench/bench_matching.py
	$(BIN)/python bench/bench_quotes.py
	$(BIN)/python bench/bench_graphql.py
	$(BIN)/python bench/bench_order_path.py $(if $(FULL),--full)
	$(BIN)/python bench/bench_fanout.py --quotes 500 --orders 250 --procs 2 --seconds 8 $(if $(FULL),--full)
	$(BIN)/python bench/bench_query_path.py --seconds 5
	$(BIN)/python bench/bench_stall.py --seconds $(if $(FULL),5,1)

clean:
	rm -rf $(VENV) var .pytest_cache

# Two entry points: `make run` (app with demo data on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install lint clean

# Re-install only when the project's dependencies change.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/flask --app qa_app db upgrade
	$(BIN)/flask --app qa_app seed-demo --if-empty
	@echo "Demo logins: admin@demo.qa-app.org, manager@, qa@, agent@, northwind.viewer@, northwind.qa@,"
	@echo "lumen.viewer@, lumen.qa@ (all @demo.qa-app.org), password: demo-password"
	@# The worker runs background jobs beside the server and stops when the server stops.
	@$(BIN)/flask --app qa_app worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/flask --app qa_app run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache

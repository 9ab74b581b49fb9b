# cityhall — every target bootstraps what it needs (Python 3.11+ and pip are enough).
PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
RUN    := $(UV) run --frozen --no-sync
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test e2e bench lint format openapi docs messages css clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

## demo: run cityhall with Iga demo data on SQLite at http://127.0.0.1:8000
demo: $(VENV)/.synced
	$(RUN) cityhall demo

## test: the whole suite without a browser (SQLite unless DATABASE_URL says otherwise)
test: $(VENV)/.synced

	$(RUN) pytest -m "not e2e" -n 2 -q $(PYTEST_ARGS)

## e2e: browser journeys in headless Chromium with axe-core
e2e: $(VENV)/.synced

	$(RUN) pytest -m e2e -q $(PYTEST_ARGS)

## bench: every benchmark in bench/, tables printed, JSON in bench/results/
bench: $(VENV)/.synced
	$(RUN) python bench/run_all.py

## lint: ruff, mypy and the import contracts
lint: $(VENV)/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports

format: $(VENV)/.synced
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

## openapi: rewrite docs/openapi.json from the code
openapi: $(VENV)/.synced
	$(RUN) cityhall export-openapi docs/openapi.json

## docs: regenerate the generated docs (configuration reference, OpenAPI)
docs: openapi
	$(RUN) cityhall export-config-docs docs/configuration.md

## messages: refresh the .po catalogues after changing UI text
messages: $(VENV)/.synced
	cd src/cityhall && ../../$(VENV)/bin/cityhall makemessages -a --no-obsolete --no-location --ignore=static
	cd src/cityhall && ../../$(VENV)/bin/cityhall compilemessages

## css: rebuild the design tokens from npm (only needed when upgrading them)
css:
	scripts/build-tokens.sh

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache

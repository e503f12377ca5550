# The front door. `make run` and `make test` work on a fresh machine: they create .venv,
# install the pinned dependencies and build the web app first.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: install run test test-fast lint bench eval synth synth-all web openapi clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json web/build.mjs $(shell find web/src -type f 2>/dev/null)
	cd web && npm run --silent build

web: web/dist/index.html

run: $(STAMP) web
	.venv/bin/careloop local --seed-history

# lint first: a type error or a ruff finding fails the front door like a failing test
test: $(STAMP) web lint
	$(PY) -m pytest -n 2 --dist loadfile -q

test-fast: $(STAMP)
	$(PY) -m pytest -q tests/unit

# ruff over everything; mypy over the core, local mode, infra and each handler (the handlers are
# all named handler.py, so each is checked on its own)
lint: $(STAMP)
	.venv/bin/ruff check layers functions infra tests app.py
	.venv/bin/mypy layers/core/careloop layers/local/careloop_local infra app.py
	for f in functions/*/handler.py; do .venv/bin/mypy --no-error-summary $$f || exit 1; done

bench: $(STAMP)
	$(PY) tests/bench/bench.py

eval: $(STAMP)
	$(PY) tests/corpus/eval.py

synth: $(STAMP)
	$(PY) app.py

# the staff API's OpenAPI document (docs/openapi/staff-api.json) from the inbox_api handler's routes,
# then the web app's types (web/src/api-types.ts) from it; a test fails when either is out of date
openapi: $(STAMP)
	PYTHONPATH=layers/core:layers/local:. $(PY) -m careloop_local.openapi

# every practices/*.json through the same validation and cdk-nag gate as `make synth`, assets
# hashed rather than built (what CI runs; tests/infra/test_example_profiles.py checks the same)
synth-all: $(STAMP)
	for f in practices/*.json; do p=$$(basename $$f .json); \
	  $(PY) app.py --practice $$p --no-bundling --outdir cdk.out/synth-all/$$p || exit 1; done

clean:
	rm -rf cdk.out .pytest_cache web/dist

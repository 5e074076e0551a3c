# Two commands from a fresh clone: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format migrate migration openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve the API on HOST:PORT (127.0.0.1:8000), after migrating DATABASE_URL (SQLite by default).
run: $(STAMP)
	$(BIN)/python -m app migrate
	$(BIN)/python -m app serve

## Run the test suite (SQLite; set TEST_DATABASE_URL=postgres://... for PostgreSQL).
test: $(STAMP)
	$(BIN)/pytest

## Lint the code, its formatting and the Dockerfile, as CI does.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Apply pending migrations (guarded by an advisory lock on PostgreSQL).
migrate: $(STAMP)
	$(BIN)/python -m app migrate

## Write one migration (SQLite and PostgreSQL) for model changes: make migration name=add_x
migration: $(STAMP)
	$(BIN)/python -m app makemigration $(name)

## Write openapi.json, the OpenAPI document the app serves (tests/test_openapi_file.py checks it).
openapi: $(STAMP)
	$(BIN)/python scripts/openapi.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## A local cluster on loopback ports: etcd, two PostgreSQL 15 nodes under Patroni (one
## synchronous standby), HAProxy (primary and replica ports), PgBouncer. Prints the URLs to
## export; installs nothing (it names the missing Debian packages). See README, Scaling out.
.PHONY: cluster cluster-down
cluster:
	@deploy/cluster.sh up

cluster-down:
	@deploy/cluster.sh down

## Benchmark the service against a raw-asyncpg baseline, the seed's sync SQLAlchemy style and
## a Django REST framework peer: writes bench/RESULTS.md. Needs PostgreSQL on 127.0.0.1:5432
## (trust auth, user postgres), wrk, and the bench extra. QUICK=1 for a smoke run.
## See bench/README.md.
.PHONY: bench
bench:
	@command -v wrk >/dev/null 2>&1 || { echo "make bench: wrk is not installed; install it with: apt-get install wrk" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "make bench: no $(VENV); run 'make install' first" >&2; exit 1; }
	@$(BIN)/python -c 'import sqlalchemy, psycopg2, orjson, uvloop, httptools, django, rest_framework, gunicorn' 2>/dev/null || { echo "make bench: the bench extra is missing; install it with: $(BIN)/pip install -e '.[dev,bench]'" >&2; exit 1; }
	$(BIN)/python -m bench.run

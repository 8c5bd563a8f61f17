# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint format bench run-cluster sandbox dist clean

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e . -e sandbox
	touch $@

## Start Redis, the sandbox and the app (gunicorn) wired together.
run: $(VENV)/.installed
	@scripts/ensure-system-deps.sh redis-server
	@scripts/run-dev.sh

## Start Redis, the sandbox, two app instances and nginx with TLS in front of them;
## REDIS_MODE=sentinel gives the instances a primary, a replica and three Sentinels.
REDIS_MODE ?= single
run-cluster: $(VENV)/.installed
	@scripts/ensure-system-deps.sh redis-server nginx envsubst
	@REDIS_MODE=$(REDIS_MODE) scripts/run-cluster.sh

## Start the sandbox alone on http://127.0.0.1:5001.
sandbox: $(VENV)/.installed
	$(BIN)/python -m altitudeangel_sandbox

## Run every test against a private redis-server, the sandbox over HTTP and Chromium,
## in two processes (each with its own servers), a test file at a time in each.
test: $(VENV)/.installed
	@scripts/ensure-system-deps.sh redis-server redis-cli chromium nginx wrk valgrind envsubst node npm
	$(BIN)/pytest -n 2 --dist loadfile

## Lint, format check, types and security scan.
lint: $(VENV)/.installed
	@scripts/ensure-system-deps.sh docker-compose
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r portal flask_altitudeangel sandbox/altitudeangel_sandbox app.py wsgi.py
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint -c .yamllint.yaml .
	$(BIN)/shellcheck scripts/*.sh .ci/run
	SECRET_KEY=ci-only-placeholder-secret-key-0123456789 REDIS_PASSWORD=ci0only0placeholder \
		docker-compose -f docker-compose.yml config -q
	SECRET_KEY=ci-only-placeholder-secret-key-0123456789 REDIS_PASSWORD=ci0only0placeholder \
		docker-compose -f docker-compose.yml -f docker-compose.sentinel.yml config -q

## Benchmarks against a same-I/O baseline, a floor and the Authlib pattern (about 8 minutes):
## regenerates bench/RESULTS.md and bench/results.png. Not part of `make test`.
bench: $(VENV)/.installed
	@scripts/ensure-system-deps.sh redis-server nginx wrk valgrind
	$(BIN)/python -m bench.run

## Build both distributions (sdist and wheel) into dist/ and check them as PyPI would.
dist: $(VENV)/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m build --outdir dist sandbox
	$(BIN)/twine check --strict dist/*

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache test-artifacts dist

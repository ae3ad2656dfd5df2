# Benchmark area: luban-ci's builder against a hand-written uv Dockerfile (bench/, docs/bench.md).
# `make bench` is never part of `make test` (minutes of Docker builds, machine-dependent numbers).

BENCH_RUNS ?= 5
BENCH_CASES ?=
BENCH_APPS ?= web-flask,native-sdist
BENCH_VENV := $(LUBAN_CACHE)/bench-venv
# The chart's only dependency, pinned here: it lives in its own venv, not in the tooling venv.
BENCH_MATPLOTLIB := matplotlib==3.10.7

.PHONY: bench bench-venv test-bench-unit

bench-venv: venv
	@test -x $(BENCH_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(PYTHON) $(BENCH_VENV)
	@SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt $(BIN)/uv pip install --quiet --python $(BENCH_VENV)/bin/python $(BENCH_MATPLOTLIB)

bench: venv docker-engine tools registry python-mirror builder bench-venv ## luban-ci vs a uv Dockerfile: cold, no-change, code-change, deps-change, rebase (BENCH_RUNS=5 BENCH_APPS=...)
	$(PYTHON) bench/bench.py --runs $(BENCH_RUNS) --apps $(BENCH_APPS) $(if $(BENCH_CASES),--cases $(BENCH_CASES))
	$(BENCH_VENV)/bin/python bench/chart.py bench/results/latest.json

test-bench-unit: venv ## the benchmark's statistics, log parsing and report (no Docker)
	$(BIN)/pytest -q -p no:cacheprovider bench/tests


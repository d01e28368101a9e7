#!/usr/bin/env bash
# Runs the tests on one pytest-xdist worker per core, each with a database of its own
# (tests marked xdist_group share a worker: the benchmark run; each worker runs its own
# browser stack);
# pytest's "no tests ran" (exit 5) is a failure here too. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# One BLAS thread per worker: xdist already runs a worker per core, and more threads only
# contend (the categorizer's training in test_measurement.py took 3x as long).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
# Cached bytecode, whatever the shell says: without it every worker re-rewrites every test
# module (about 3 s of CPU each) and every server the tests start compiles the app again.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/pytest -n auto --dist loadgroup "$@"

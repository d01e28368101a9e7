#!/usr/bin/env bash
# Runs the tests on one pytest-xdist worker per core, each with a database of its own
# (tests marked xdist_group share a worker: the browser suite, the benchmark run);
# pytest's "no tests ran" (exit 5) is a failure here too. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest -n auto --dist loadgroup "$@"

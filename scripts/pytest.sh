#!/usr/bin/env bash
# Runs every test; pytest's "no tests ran" (exit 5) is a failure here too.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest "$@"

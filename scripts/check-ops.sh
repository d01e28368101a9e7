#!/usr/bin/env bash
# Static checks of the operations files: Dockerfiles, workflow, compose file.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
dockerfiles=(backend/Dockerfile frontend/Dockerfile)
existing=()
for f in "${dockerfiles[@]}"; do [[ -f $f ]] && existing+=("$f"); done
if ((${#existing[@]})); then
  .venv/bin/hadolint "${existing[@]}"
fi
workflows=(.github/workflows/*.yml)
if ((${#workflows[@]})); then
  .venv/bin/actionlint "${workflows[@]}"
fi
if [[ -f docker-compose.yml ]] && docker compose version >/dev/null 2>&1; then
  docker compose -f docker-compose.yml config --quiet
  # the development stack: docker-compose.dev.yml merged in
  if [[ -f docker-compose.dev.yml ]]; then
    docker compose -f docker-compose.yml -f docker-compose.dev.yml config --quiet
  fi
else
  echo "check-ops: no docker compose CLI here; skipped 'docker compose config'"
fi

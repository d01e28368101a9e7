#!/usr/bin/env bash
# `make run`: migrate and seed the embedded SQLite database, then serve the API
# and the dashboard until Ctrl-C, which stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
API_PORT=${API_PORT:-8000}
UI_PORT=${UI_PORT:-8501}
export BACKEND_URL=${BACKEND_URL:-http://127.0.0.1:${API_PORT}}

$BIN/spending-admin init-db
$BIN/spending-admin seed-demo

pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$BIN/uvicorn spending_api.main:create_app --factory --host 127.0.0.1 --port "$API_PORT" \
  --no-proxy-headers --http spending_api.server:GuardedHttpToolsProtocol &
pids+=($!)
if [[ -f frontend/spending_ui/app.py ]]; then
  $BIN/panel serve frontend/spending_ui/app.py --address 127.0.0.1 --port "$UI_PORT" \
    --allow-websocket-origin="127.0.0.1:${UI_PORT}" --allow-websocket-origin="localhost:${UI_PORT}" \
    --num-procs 1 --plugins spending_ui.security &
  pids+=($!)
fi

cat <<MSG

  spending-dashboard is starting:
    Dashboard  http://127.0.0.1:${UI_PORT}
    API        http://127.0.0.1:${API_PORT}   (docs: http://127.0.0.1:${API_PORT}/docs)
    Demo login demo / demo
  Press Ctrl-C to stop both.

MSG
wait -n "${pids[@]}"

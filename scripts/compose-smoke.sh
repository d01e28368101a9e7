#!/usr/bin/env bash
# `make compose-smoke`: build and start the Docker Compose stack (docker-compose.yml only,
# the built images) on free loopback ports under a project name of its own, log in through
# the API, read the demo user's /metrics, fetch the dashboard, then `down` and `up` again to
# see the data persist in the volume. Everything is removed at exit (`down -v`), also when a
# step fails. Needs docker with the compose plugin, and python3 for the HTTP checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Own project name (per checkout), so the stack never touches a developer's `docker compose up`.
PROJECT=${SMOKE_PROJECT:-spending-smoke-$(pwd | cksum | cut -c1-6)}
WAIT_TIMEOUT=${SMOKE_WAIT_TIMEOUT:-300}

log() { printf 'compose-smoke: %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}
now() { date +%s.%N; }
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }

command -v docker >/dev/null || fail "no docker command (start one with ../shared/tools/docker-local/up.sh)"
docker compose version >/dev/null 2>&1 || fail "no 'docker compose' plugin"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (../shared/tools/docker-local/up.sh starts one)"
# The Dockerfiles need no BuildKit: without buildx, ask for the classic builder (no warning).
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0

# Three free loopback ports; the shell wins over .env in compose's interpolation.
read -r API_PORT UI_PORT DB_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')
export API_PORT UI_PORT DB_PORT BIND_ADDRESS=127.0.0.1 ENVIRONMENT=local SEED_DEMO=true
API=http://127.0.0.1:$API_PORT
UI=http://127.0.0.1:$UI_PORT

compose() { docker compose -f docker-compose.yml -p "$PROJECT" "$@"; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((status != 0)); then
    log "state and logs of project $PROJECT:"
    compose ps -a >&2 || true
    compose logs --no-color --tail=60 >&2 || true
  fi
  log "down -v (project $PROJECT)"
  compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || log "WARNING: 'down -v' failed"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A run killed before its cleanup may have left containers or the volume behind.
compose down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true

# check STEP: HTTP checks of the running stack (python3's standard library only).
check() {
  python3 - "$1" "$API" "$UI" <<'PY'
import json
import sys
import urllib.error
import urllib.request

step, api, ui = sys.argv[1:4]


def call(method, url, body=None, token=None, expect=200):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    if status != expect:
        sys.exit(f"{method} {url}: HTTP {status}, expected {expect}: {payload[:300]!r}")
    return payload


def login(username, password):
    token = json.loads(call("POST", f"{api}/login", {"username": username, "password": password}))
    return token["access_token"]


def metrics(token):
    return json.loads(call("GET", f"{api}/metrics", token=token))


health = json.loads(call("GET", f"{api}/health"))
assert health == {"status": "ok", "database": "ok"}, health
call("POST", f"{api}/login", {"username": "demo", "password": "wrong"}, expect=401)
demo = login("demo", "demo")
me = json.loads(call("GET", f"{api}/me", token=demo))
assert me["username"] == "demo", me
seen = metrics(demo)
if seen["transaction_count"] < 1:
    sys.exit(f"/metrics of the demo user has no transactions: {seen}")

if step == "first":
    # Changes the seed cannot recreate: one demo transaction fewer, and a new user.
    newest = json.loads(call("GET", f"{api}/transactions?limit=1", token=demo))[0]
    call("DELETE", f"{api}/transactions/{newest['id']}", token=demo, expect=204)
    after = metrics(demo)["transaction_count"]
    assert after == seen["transaction_count"] - 1, (after, seen["transaction_count"])
    login("smoke-user", "smoke-password")
    print(after)
else:
    # After down + up: the deleted transaction stays deleted, the new user can log in.
    login("smoke-user", "smoke-password")
    print(seen["transaction_count"])

page = call("GET", f"{ui}/")
if b"bokeh" not in page.lower():
    sys.exit(f"{ui}/ does not look like the Panel dashboard: {page[:300]!r}")
# Panel builds one session of the app server-side: app.py imports and runs.
call("GET", f"{ui}/liveness?endpoint=/app")
PY
}

total_start=$(now)
log "project $PROJECT; host ports api $API_PORT, ui $UI_PORT, db $DB_PORT"

start=$(now)
log "up -d --build --wait"
compose up -d --build --wait --wait-timeout "$WAIT_TIMEOUT" ||
  fail "the stack did not become healthy"
cold=$(since "$start")
log "healthy after ${cold}s (build included)"

[[ $(compose exec -T backend id -u) != 0 ]] || fail "the backend runs as root"
[[ $(compose exec -T frontend id -u) != 0 ]] || fail "the frontend runs as root"
compose exec -T backend sh -c '! find / -xdev -name .env -print -quit 2>/dev/null | grep -q .' ||
  fail "a .env file is baked into the backend image"
printf 'smoke-password\n' | compose exec -T backend spending-admin create-user smoke-user \
  --password-stdin >/dev/null || fail "spending-admin create-user in the backend container"
count=$(check first) || fail "checks of the fresh stack"
log "login, /metrics ($count demo transactions after deleting one), dashboard page: ok"

log "down, then up --wait again (same volume)"
compose down --timeout 10 >/dev/null 2>&1
start=$(now)
compose up -d --wait --wait-timeout "$WAIT_TIMEOUT" || fail "the restarted stack did not become healthy"
warm=$(since "$start")
log "healthy again after ${warm}s"
again=$(check second) || fail "checks after the restart"
[[ $again == "$count" ]] || fail "data not persisted: $again demo transactions, expected $count"
log "data persisted: the new user logs in, $again demo transactions"

log "PASSED in $(since "$total_start")s (up cold ${cold}s, up again ${warm}s)"

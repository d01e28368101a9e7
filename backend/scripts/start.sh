#!/bin/sh
# Container start of the API: wait for the database, migrate, seed the demo users if asked
# and the database is empty, then serve. Compose starts it once the database is healthy;
# the wait covers other setups. Extra arguments go to uvicorn (docker-compose.dev.yml's --reload).
set -eu

if [ "${SEED_DEMO:-false}" = true ] && [ "${ENVIRONMENT:-local}" = production ]; then
  echo "start: SEED_DEMO=true is refused with ENVIRONMENT=production (demo/demo logins)" >&2
  exit 1
fi

echo "start: waiting up to ${DB_WAIT_SECONDS:-60}s for the database"
python - <<'PY'
import os
import sys
import time

from sqlalchemy import text

from spending_api.db import Database
from spending_api.settings import get_settings

database = Database.from_settings(get_settings())  # with the settings' connect timeout
deadline = time.monotonic() + int(os.environ.get("DB_WAIT_SECONDS", "60"))
while True:
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        break
    except Exception as error:  # any failure means "not yet"
        if time.monotonic() > deadline:
            sys.exit(f"start: the database is still unreachable: {error}")
        time.sleep(1)
database.dispose()
PY

echo "start: applying the database migrations"
spending-admin init-db

if [ "${SEED_DEMO:-false}" = true ]; then
  echo "start: SEED_DEMO=true: seeding the demo users if the database has none"
  spending-admin seed-demo --if-empty
fi

echo "start: serving the API on 0.0.0.0:8000 with ${WEB_CONCURRENCY:-1} worker(s)"
exec uvicorn spending_api.main:create_app --factory --host 0.0.0.0 --port 8000 \
  --workers "${WEB_CONCURRENCY:-1}" --no-server-header --no-proxy-headers \
  --http spending_api.server:GuardedHttpToolsProtocol "$@"

"""The 60 s load test: 100 simulated users against a two-worker API on loopback.

Each simulated user logs in to an account of its own (two years of generated data each),
then mixes GET /metrics, GET /transactions, the CSV export and now and then a fresh login,
with a think time of 1-3 s. The ramp-up (100 Argon2 logins) is not measured; the 60 s after
it are. The API's worker RSS is sampled every second. Results go to
bench/results/load-test.json; the exit status is 1 when any request failed or the memory
did not stay steady.

    .venv/bin/python -m bench.loadtest                 # 100 users, 60 s
    .venv/bin/python -m bench.loadtest --users 20 --duration 10
"""

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import uvloop

from bench import pg
from bench.config import RESULTS_DIR, log_to_stderr
from bench.dataset import add_users, demo_rows
from bench.load import Client, Server, Stats, call, http_failure, measure, percentile

RESULTS = RESULTS_DIR / "load-test.json"
PASSWORD = "load-test-password"
THINK_TIME_S = (1, 3)
TASK_WEIGHTS = {"metrics": 20, "transactions": 20, "export": 4, "login": 1}
# Memory counts as steady when the workers' RSS at the end is within this of the RSS after
# the ramp-up (allocator warm-up and the first exports are over by then); both are medians
# of ten one-second samples.
STEADY_GROWTH_MB = 40.0
WARMUP_S = 10
RAMP_LIMIT_S = 180

logger = logging.getLogger("bench.loadtest")


def _login_failure(status: int, body: bytes) -> str | None:
    return None if status == 200 else f"login {status}"


def _export_failure(status: int, body: bytes) -> str | None:
    # The time measured includes the whole body.
    return None if status == 200 and body else f"export {status}, {len(body)} bytes"


class DashboardUser:
    """What a dashboard session does: metrics and the table often, export and login rarely."""

    def __init__(self, base_url: str, username: str, stats: Stats) -> None:
        self.client, self.username, self.stats = Client(base_url), username, stats

    async def call(self, name: str, path: str, body: dict | None = None, check=http_failure):
        """One request, recorded under "METHOD name"; (status, body) or None."""
        method = "POST" if body else "GET"
        return await call(self.client, self.stats, f"{method} {name}", path, body, check)

    async def login(self) -> None:
        body = {"username": self.username, "password": PASSWORD}
        answer = await self.call("/login", "/login", body, _login_failure)
        if answer and answer[0] == 200:
            token = json.loads(answer[1])["access_token"]
            self.client.headers = {"Authorization": f"Bearer {token}"}

    async def metrics(self) -> None:
        granularity = random.choice(("day", "week", "month"))
        await self.call("/metrics", f"/metrics?granularity={granularity}")
        await self.call("/metrics", "/metrics?start=2025-01-01&category=Groceries")

    async def transactions(self) -> None:
        offset = random.randrange(0, 500)
        await self.call("/transactions", f"/transactions?limit=50&offset={offset}")
        await self.call("/transactions", "/transactions?q=coffee&sort=-amount")

    async def export(self) -> None:
        path = "/transactions/export?start=2025-01-01"
        await self.call("/transactions/export", path, check=_export_failure)

    async def run(self, started: list) -> None:
        tasks = [getattr(self, name) for name in TASK_WEIGHTS]
        try:
            await self.login()
            started.append(self.username)
            while True:
                await asyncio.sleep(random.uniform(*THINK_TIME_S))
                await random.choices(tasks, list(TASK_WEIGHTS.values()))[0]()
        finally:
            self.client.close()


async def simulate(server: Server, usernames: list[str], duration: int) -> dict:
    stats, started = Stats(), []
    rss_start = server.worker_rss_mb()
    ramp_started = time.monotonic()
    users = []
    for username in usernames:  # spawned over about 10 s
        user = DashboardUser(server.base_url, username, stats)
        users.append(asyncio.create_task(user.run(started)))
        await asyncio.sleep(10 / len(usernames))
    # Ramp-up: every user logged in once (Argon2 costs about 0.5 s of CPU here), unmeasured.
    while len(started) < len(usernames):
        await asyncio.sleep(0.5)
        if time.monotonic() - ramp_started > RAMP_LIMIT_S:
            raise RuntimeError(f"the ramp-up did not finish within {RAMP_LIMIT_S} s")
    ramp_s = round(time.monotonic() - ramp_started, 1)
    ramp_failures, ramp_errors = sum(1 for *_, failure in stats if failure), stats.errors()
    stats.clear()
    elapsed, samples, crashed = await measure(server, users, duration)
    crashed = Counter(repr(exception) for exception in crashed)
    rss = [value for _, value in samples]
    after_warmup = [value for t, value in samples if t >= WARMUP_S] or [rss_start]
    # Medians of the first and last ten samples after the ramp: single Argon2 spikes
    # (64 MiB per concurrent login) do not count as growth.
    early, late = percentile(after_warmup[:10], 0.5), percentile(after_warmup[-10:], 0.5)
    overall = stats.summary(elapsed, digits=1)
    overall["failures"] += sum(crashed.values()) + ramp_failures
    return {
        "users": len(usernames),
        "ramp_up_s": ramp_s,
        "ramp_up_failures": ramp_failures,
        "ramp_up_errors": ramp_errors,
        "duration_s": round(elapsed, 1),
        **overall,
        "rss_start_mb": rss_start,
        "rss_after_warmup_mb": early,
        "rss_end_mb": late,
        "rss_max_mb": max(rss or [rss_start]),
        "rss_growth_mb": round(late - early, 1),
        "rss_samples_mb": rss,
        "per_endpoint": {
            name: stats.summary(elapsed, name, digits=1) for name in sorted({r[0] for r in stats})
        },
        "errors": stats.errors(),
        "task_exceptions": [{"error": e, "count": n} for e, n in crashed.items()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    log_to_stderr()

    with pg.fresh_database("load") as url:
        usernames = [f"load-{n:03d}" for n in range(args.users)]
        add_users(url, usernames, PASSWORD, rows=demo_rows)
        logger.info("seeded %s accounts", args.users)
        with Server(url, workers=args.workers) as server:
            logger.info("%s users for %ss against %s", args.users, args.duration, server.base_url)
            result = uvloop.run(simulate(server, usernames, args.duration))

    steady = result["rss_growth_mb"] <= STEADY_GROWTH_MB
    result.update(
        {
            "database": "postgresql",
            "workers": args.workers,
            "think_time_s": list(THINK_TIME_S),
            "task_weights": TASK_WEIGHTS,
            "memory_steady": steady,
            "steady_growth_limit_mb": STEADY_GROWTH_MB,
            "cpus": os.cpu_count(),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "make load-test",
        }
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    logger.info(
        "%s; RSS %s -> %s MB (max %s); written to %s",
        {k: result[k] for k in ("requests", "failures", "rps", "p50_ms", "p99_ms")},
        result["rss_after_warmup_mb"],
        result["rss_end_mb"],
        result["rss_max_mb"],
        args.output,
    )
    return 0 if result["failures"] == 0 and steady else 1


if __name__ == "__main__":
    sys.exit(main())

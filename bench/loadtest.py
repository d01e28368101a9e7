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
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import uvloop

from bench import pg
from bench.config import RESULTS_DIR
from bench.dataset import bench_settings
from bench.load import Client, Server, percentile
from spending_api.auth.repository import create_user
from spending_api.auth.security import hash_password
from spending_api.db import Database
from spending_api.demo import PERSONAS, generate_transactions
from spending_api.migrate import upgrade
from spending_api.transactions.repository import insert_transactions

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


def seed_accounts(url: str, accounts: int) -> list[str]:
    """`accounts` users, each with two years of a demo persona's transactions."""
    upgrade(url)
    database = Database.from_settings(bench_settings(url))
    password_hash = hash_password(PASSWORD)  # one Argon2 hash for every account
    personas = sorted(PERSONAS)
    usernames = []
    try:
        with database.session() as session:
            for n in range(accounts):
                user = create_user(session, username=f"load-{n:03d}", password_hash=password_hash)
                rows = generate_transactions(
                    seed=n, end=date.today(), days=730, persona=personas[n % len(personas)]
                )
                insert_transactions(session, user_id=user.id, rows=rows)
                session.commit()
                usernames.append(user.username)
    finally:
        database.dispose()
    logger.info("seeded %s accounts", accounts)
    return usernames


class Stats:
    """Latencies (ms) and failures per endpoint name, and the errors by kind."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: Counter = Counter()
        self.errors: Counter = Counter()

    def record(self, name: str, started: float, failure: str | None) -> None:
        self.latencies[name].append((time.perf_counter() - started) * 1000)
        if failure:
            self.failures[name] += 1
            self.errors[(name, failure)] += 1

    def summary(self, latencies: list[float], failures: int, elapsed: float) -> dict:
        return {
            "requests": len(latencies),
            "failures": failures,
            "rps": round(len(latencies) / elapsed, 1),
            **{
                f"p{int(q * 100)}_ms": round(percentile(latencies, q), 1) if latencies else None
                for q in (0.5, 0.95, 0.99)
            },
            "max_ms": round(max(latencies, default=0), 1),
        }

    def error_list(self) -> list[dict]:
        return [
            {"name": name, "error": error, "occurrences": count}
            for (name, error), count in self.errors.items()
        ]


class DashboardUser:
    """What a dashboard session does: metrics and the table often, export and login rarely."""

    def __init__(self, base_url: str, username: str, stats: Stats) -> None:
        self.client, self.username, self.stats = Client(base_url), username, stats

    async def get(self, name: str, path: str, check=None) -> None:
        started = time.perf_counter()
        try:
            status, body = await self.client.request("GET", path)
            failure = (
                check(status, body) if check else (f"HTTP {status}" if status >= 400 else None)
            )
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.client.close()
            failure = repr(exc)
        self.stats.record(f"GET {name}", started, failure)

    async def login(self) -> None:
        started = time.perf_counter()
        try:
            status, body = await self.client.request(
                "POST", "/login", {"username": self.username, "password": PASSWORD}
            )
            failure = None if status == 200 else f"login {status}"
            if status == 200:
                token = json.loads(body)["access_token"]
                self.client.headers = {"Authorization": f"Bearer {token}"}
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.client.close()
            failure = repr(exc)
        self.stats.record("POST /login", started, failure)

    async def metrics(self) -> None:
        granularity = random.choice(("day", "week", "month"))
        await self.get("/metrics", f"/metrics?granularity={granularity}")
        await self.get("/metrics", "/metrics?start=2025-01-01&category=Groceries")

    async def transactions(self) -> None:
        offset = random.randrange(0, 500)
        await self.get("/transactions", f"/transactions?limit=50&offset={offset}")
        await self.get("/transactions", "/transactions?q=coffee&sort=-amount")

    async def export(self) -> None:
        def check(status: int, body: bytes) -> str | None:
            # The time measured includes the whole body.
            ok = status == 200 and body
            return None if ok else f"export {status}, {len(body)} bytes"

        await self.get("/transactions/export", "/transactions/export?start=2025-01-01", check)

    async def run(self, started: list) -> None:
        tasks = {"metrics": self.metrics, "transactions": self.transactions}
        tasks.update(export=self.export, login=self.login)
        names, weights = list(TASK_WEIGHTS), list(TASK_WEIGHTS.values())
        try:
            await self.login()
            started.append(self.username)
            while True:
                await asyncio.sleep(random.uniform(*THINK_TIME_S))
                await tasks[random.choices(names, weights)[0]]()
        finally:
            self.client.close()


async def simulate(server: Server, usernames: list[str], duration: int) -> dict:
    stats, started, samples = Stats(), [], []
    rss_start = round(sum(server.worker_rss_mb()), 1)
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
    ramp_failures, ramp_errors = sum(stats.failures.values()), stats.error_list()
    stats.reset()
    measured = time.monotonic()
    while time.monotonic() - measured < duration:
        await asyncio.sleep(1)
        samples.append((time.monotonic() - measured, round(sum(server.worker_rss_mb()), 1)))
    for user in users:
        user.cancel()
    outcomes = await asyncio.gather(*users, return_exceptions=True)
    crashed = Counter(repr(o) for o in outcomes if not isinstance(o, asyncio.CancelledError))
    elapsed = time.monotonic() - measured
    rss = [value for _, value in samples]
    after_warmup = [value for t, value in samples if t >= WARMUP_S] or [rss_start]
    # Medians of the first and last ten samples after the ramp: single Argon2 spikes
    # (64 MiB per concurrent login) do not count as growth.
    early, late = percentile(after_warmup[:10], 0.5), percentile(after_warmup[-10:], 0.5)
    every = [value for values in stats.latencies.values() for value in values]
    failures = sum(stats.failures.values())
    return {
        "users": len(usernames),
        "ramp_up_s": ramp_s,
        "ramp_up_failures": ramp_failures,
        "ramp_up_errors": ramp_errors,
        "duration_s": round(elapsed, 1),
        **stats.summary(every, failures + sum(crashed.values()) + ramp_failures, elapsed),
        "rss_start_mb": rss_start,
        "rss_after_warmup_mb": early,
        "rss_end_mb": late,
        "rss_max_mb": max(rss or [rss_start]),
        "rss_growth_mb": round(late - early, 1),
        "rss_samples_mb": rss,
        "per_endpoint": {
            name: stats.summary(values, stats.failures[name], elapsed)
            for name, values in sorted(stats.latencies.items())
        },
        "errors": stats.error_list(),
        "task_exceptions": [{"error": e, "count": n} for e, n in crashed.items()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    name = pg.new_database_name("load")
    url = pg.create_database(name)
    try:
        usernames = seed_accounts(url, args.users)
        with Server(url, workers=args.workers) as server:
            logger.info("%s users for %ss against %s", args.users, args.duration, server.base_url)
            result = uvloop.run(simulate(server, usernames, args.duration))
    finally:
        pg.drop_database(name)

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
    summary = {k: result[k] for k in ("requests", "failures", "rps", "p50_ms", "p99_ms")}
    logger.info(
        "%s; RSS %s -> %s MB (max %s); written to %s",
        summary,
        result["rss_after_warmup_mb"],
        result["rss_end_mb"],
        result["rss_max_mb"],
        args.output,
    )
    return 0 if result["failures"] == 0 and steady else 1


if __name__ == "__main__":
    sys.exit(main())

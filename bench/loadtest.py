"""The load test: simulated dashboard users against the API of step 3 (`make bench`), or
alone on a fresh database and server of its own (`make load-test`, `python -m bench
--load-test`): the same `run`.

Each simulated user logs in as one of step 1's typical users, then mixes GET /metrics,
GET /transactions, the CSV export and now and then a fresh login, with a think time of
1-3 s. The logins, spread over the warm-up time, are the ramp-up, not measured; the
`config.load_test_seconds` after it are. The workers' RSS is sampled every second."""

import asyncio
import json
import random
import time
from collections import Counter

import uvloop

from bench.config import Config
from bench.dataset import PASSWORD, typical_username
from bench.load import Client, Server, Stats, call, http_failure, measure, percentile

THINK_TIME_S = (1, 3)
TASK_WEIGHTS = {"metrics": 20, "transactions": 20, "export": 4, "login": 1}
# Memory counts as steady when the workers' RSS at the end is within this of the RSS after
# the warm-up (allocator warm-up and the first exports are over by then); both are medians
# of ten one-second samples.
STEADY_GROWTH_MB = 40.0
RAMP_LIMIT_S = 180


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


async def _simulate(server: Server, usernames: list[str], seconds: float, warmup: float) -> dict:
    stats, started = Stats(), []
    rss_start = server.worker_rss_mb()
    ramp_started = time.monotonic()
    users = []
    for username in usernames:  # spawned over the warm-up time
        user = DashboardUser(server.base_url, username, stats)
        users.append(asyncio.create_task(user.run(started)))
        await asyncio.sleep(warmup / len(usernames))
    # Ramp-up: every user logged in once (Argon2 costs about 0.5 s of CPU here), unmeasured.
    while len(started) < len(usernames):
        await asyncio.sleep(0.5)
        if time.monotonic() - ramp_started > RAMP_LIMIT_S:
            raise RuntimeError(f"the ramp-up did not finish within {RAMP_LIMIT_S} s")
    ramp_s = round(time.monotonic() - ramp_started, 1)
    ramp_failures, ramp_errors = sum(1 for *_, failure in stats if failure), stats.errors()
    stats.clear()
    elapsed, samples, crashed = await measure(server, users, seconds)
    crashed = Counter(repr(exception) for exception in crashed)
    rss = [value for _, value in samples]
    after_warmup = [value for t, value in samples if t >= warmup] or [rss_start]
    # Medians of the first and last ten samples after the warm-up: single Argon2 spikes
    # (64 MiB per concurrent login) do not count as growth.
    early, late = percentile(after_warmup[:10], 0.5), percentile(after_warmup[-10:], 0.5)
    overall, growth = stats.summary(elapsed, digits=1), round(late - early, 1)
    overall["failures"] += sum(crashed.values()) + ramp_failures
    return {
        "users": len(usernames),
        "workers": server.workers,
        "ramp_up_s": ramp_s,
        "ramp_up_failures": ramp_failures,
        "ramp_up_errors": ramp_errors,
        "duration_s": round(elapsed, 1),
        **overall,
        "rss_start_mb": rss_start,
        "rss_after_warmup_mb": early,
        "rss_end_mb": late,
        "rss_max_mb": max(rss or [rss_start]),
        "rss_growth_mb": growth,
        "memory_steady": growth <= STEADY_GROWTH_MB,
        "steady_growth_limit_mb": STEADY_GROWTH_MB,
        "rss_samples_mb": rss,
        "per_endpoint": {
            name: stats.summary(elapsed, name, digits=1) for name in sorted({r[0] for r in stats})
        },
        "errors": stats.errors(),
        "task_exceptions": [{"error": e, "count": n} for e, n in crashed.items()],
        "think_time_s": list(THINK_TIME_S),
        "task_weights": TASK_WEIGHTS,
    }


def run(server: Server, config: Config) -> dict:
    """`config.load_test_users` of step 1's typical users for `config.load_test_seconds`."""
    usernames = [typical_username(i) for i in range(1, config.load_test_users + 1)]
    seconds, warmup = config.load_test_seconds, config.load_test_warmup_seconds
    return uvloop.run(_simulate(server, usernames, seconds, warmup))

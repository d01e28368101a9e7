"""The 60 s load test: 100 locust users against a two-worker API on loopback.

Each simulated user logs in to an account of its own (two years of generated data each),
then mixes GET /metrics, GET /transactions, the CSV export and now and then a fresh login,
with a think time of 1-3 s. The ramp-up (100 Argon2 logins) is not measured; the 60 s after
it are. The API's worker RSS is sampled every second. Results go to
bench/results/load-test.json; the exit status is 1 when any request failed or the memory
did not stay steady.

    .venv/bin/python bench/loadtest.py                 # 100 users, 60 s
    .venv/bin/python bench/loadtest.py --users 20 --duration 10
"""

# locust patches the standard library with gevent; it must come first.
from locust import HttpUser, between, events, task  # noqa: I001
from locust.env import Environment

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
from spending_api.processes import ServerProcess, free_port, start_server, wait_until  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "load-test.json"
PASSWORD = "load-test-password"
ACCOUNTS: list[str] = []  # usernames, filled by prepare_database
# Memory counts as steady when the workers' RSS at the end is within this of the RSS after
# the ramp-up (allocator warm-up and the first exports are over by then); both are medians
# of ten one-second samples.
STEADY_GROWTH_MB = 40.0
WARMUP_S = 10

logger = logging.getLogger("bench.loadtest")


class DashboardUser(HttpUser):
    """What a dashboard session does: metrics and the table often, export and login rarely."""

    wait_time = between(1, 3)
    _next_account = 0
    started = 0  # users whose first login is done
    logins_in_flight = 0

    def on_start(self) -> None:
        self.username = ACCOUNTS[DashboardUser._next_account % len(ACCOUNTS)]
        self.password = PASSWORD
        DashboardUser._next_account += 1
        self.login()
        DashboardUser.started += 1

    def login(self) -> None:
        DashboardUser.logins_in_flight += 1
        try:
            self._login()
        finally:
            DashboardUser.logins_in_flight -= 1

    def _login(self) -> None:
        with self.client.post(
            "/login",
            json={"username": self.username, "password": self.password},
            name="POST /login",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"login {response.status_code}")
                return
            token = response.json()["access_token"]
            self.client.headers["Authorization"] = f"Bearer {token}"

    @task(1)
    def relogin(self) -> None:
        self.login()

    @task(20)
    def metrics(self) -> None:
        granularity = random.choice(("day", "week", "month"))
        self.client.get(f"/metrics?granularity={granularity}", name="GET /metrics")
        self.client.get("/metrics?start=2025-01-01&category=Groceries", name="GET /metrics")

    @task(20)
    def transactions(self) -> None:
        offset = random.randrange(0, 500)
        self.client.get(f"/transactions?limit=50&offset={offset}", name="GET /transactions")
        self.client.get("/transactions?q=coffee&sort=-amount", name="GET /transactions")

    @task(4)
    def export(self) -> None:
        with self.client.get(
            "/transactions/export?start=2025-01-01",
            name="GET /transactions/export",
            catch_response=True,
        ) as response:
            # Not streamed: the time measured includes the whole body.
            size = len(response.content)
            if response.status_code != 200 or size == 0:
                response.failure(f"export {response.status_code}, {size} bytes")
            else:
                response.success()


def prepare_database(accounts: int) -> tuple[str, callable]:
    """A fresh, migrated database with `accounts` users on the tests' PostgreSQL server
    (TEST_DATABASE_URL, else :5432, else the embedded one); returns its URL and a cleanup."""
    from datetime import date

    from spending_api.auth.repository import create_user
    from spending_api.auth.security import hash_password
    from spending_api.db import Database
    from spending_api.demo import PERSONAS, generate_transactions
    from spending_api.embedded import create_database, drop_database, server_for_tests
    from spending_api.migrate import upgrade
    from spending_api.settings import Settings
    from spending_api.transactions.repository import insert_transactions
    from sqlalchemy.engine import make_url

    admin_url, embedded_server = server_for_tests(os.environ.get("TEST_DATABASE_URL"))
    name = f"spending_load_{uuid.uuid4().hex[:10]}"
    create_database(admin_url, name)
    url = make_url(admin_url).set(database=name).render_as_string(False)

    def cleanup() -> None:
        drop_database(admin_url, name)
        if embedded_server is not None:
            embedded_server.stop()

    upgrade(url)
    database = Database.from_settings(Settings(_env_file=None, database_url=url))
    password_hash = hash_password(PASSWORD)  # one Argon2 hash for every account
    personas = sorted(PERSONAS)
    try:
        with database.session() as session:
            for n in range(accounts):
                username = f"load-{n:03d}"
                user = create_user(session, username=username, password_hash=password_hash)
                rows = generate_transactions(
                    seed=n, end=date.today(), days=730, persona=personas[n % len(personas)]
                )
                insert_transactions(session, user_id=user.id, rows=rows)
                session.commit()
                ACCOUNTS.append(username)
    finally:
        database.dispose()
    logger.info("seeded %s accounts", accounts)
    return url, cleanup


def start_api(url: str, workers: int, workdir: Path) -> ServerProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ENVIRONMENT": "production",
            "LOG_LEVEL": "WARNING",
        }
    )
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        "spending_api.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = start_server(
        command,
        name="uvicorn",
        url=f"http://127.0.0.1:{port}",
        log_path=workdir / "uvicorn.log",
        ready=lambda response: response.status_code == 200,
        env=env,
        cwd=workdir,
    )
    wait_until(lambda: len(_workers(server.process)) >= workers, timeout=60, what="workers")
    return server


def _workers(process: subprocess.Popen) -> list[psutil.Process]:
    try:
        main = psutil.Process(process.pid)
        # uvicorn's workers are multiprocessing "spawn" children; skip its resource tracker.
        return [
            p
            for p in main.children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())
        ]
    except psutil.NoSuchProcess:
        return []


def workers_rss_mb(process: subprocess.Popen) -> float:
    total = 0
    for worker in _workers(process):
        try:
            total += worker.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return round(total / 2**20, 1)


def _errors(stats) -> list[dict]:
    return [
        {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
        for error in stats.errors.values()
    ]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _ms(entry, percentile: float) -> float | None:
    if not entry.num_requests:
        return None
    return round(entry.get_response_time_percentile(percentile), 1)


def run(users: int, duration: int, base_url: str, process: subprocess.Popen) -> dict:
    environment = Environment(user_classes=[DashboardUser], host=base_url, events=events)
    runner = environment.create_local_runner()
    samples: list[tuple[float, float]] = []
    rss_start = workers_rss_mb(process)
    ramp_started = time.monotonic()
    runner.start(users, spawn_rate=max(1, users / 10))
    # Ramp-up: every user logged in once (Argon2 costs about 0.5 s of CPU here), unmeasured.
    # Then until no login queued during the ramp is still waiting for its hash.
    while DashboardUser.started < users or DashboardUser.logins_in_flight:
        gevent.sleep(0.5)
        if time.monotonic() - ramp_started > 180:
            raise RuntimeError("the ramp-up did not finish within 180 s")
    ramp_s = round(time.monotonic() - ramp_started, 1)
    ramp_failures = environment.stats.total.num_failures
    ramp_errors = _errors(environment.stats)
    environment.stats.reset_all()
    started = time.monotonic()
    while time.monotonic() - started < duration:
        gevent.sleep(1)
        samples.append((round(time.monotonic() - started, 1), workers_rss_mb(process)))
    runner.quit()
    elapsed = time.monotonic() - started
    stats = environment.stats
    total = stats.total
    after_warmup = [rss for t, rss in samples if t >= WARMUP_S] or [rss_start]
    # Medians of the first and last ten samples after the ramp: single Argon2 spikes
    # (64 MiB per concurrent login) do not count as growth.
    early, late = _median(after_warmup[:10]), _median(after_warmup[-10:])
    crashed = sum(error["count"] for error in runner.exceptions.values())
    per_endpoint = {
        name: {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": round(entry.num_requests / elapsed, 1),
            "p50_ms": _ms(entry, 0.5),
            "p95_ms": _ms(entry, 0.95),
            "p99_ms": _ms(entry, 0.99),
            "max_ms": round(entry.max_response_time or 0, 1),
        }
        for (name, _method), entry in sorted(stats.entries.items())
    }
    errors = _errors(stats)
    return {
        "users": users,
        "ramp_up_s": ramp_s,
        "ramp_up_failures": ramp_failures,
        "ramp_up_errors": ramp_errors,
        "duration_s": round(elapsed, 1),
        "requests": total.num_requests,
        "failures": total.num_failures + crashed + ramp_failures,
        "rps": round(total.num_requests / elapsed, 1),
        "p50_ms": _ms(total, 0.5),
        "p95_ms": _ms(total, 0.95),
        "p99_ms": _ms(total, 0.99),
        "max_ms": round(total.max_response_time or 0, 1),
        "rss_start_mb": rss_start,
        "rss_after_warmup_mb": early,
        "rss_end_mb": late,
        "rss_max_mb": max([rss for _, rss in samples] or [rss_start]),
        "rss_growth_mb": round(late - early, 1),
        "rss_samples_mb": [rss for _, rss in samples],
        "per_endpoint": per_endpoint,
        "errors": errors,
        "task_exceptions": [
            {"error": error["msg"], "count": error["count"]} for error in runner.exceptions.values()
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="spending-load-") as tmp:
        workdir = Path(tmp)
        url, cleanup = prepare_database(accounts=args.users)
        try:
            server = start_api(url, args.workers, workdir)
            try:
                logger.info("%s users for %ss against %s", args.users, args.duration, server.url)
                result = run(args.users, args.duration, server.url, server.process)
            finally:
                server.stop()
        finally:
            cleanup()

    steady = result["rss_growth_mb"] <= STEADY_GROWTH_MB
    result.update(
        {
            "database": "postgresql",
            "workers": args.workers,
            "think_time_s": [1, 3],
            "task_weights": {"metrics": 20, "transactions": 20, "export": 4, "login": 1},
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

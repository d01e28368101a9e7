"""The API as the benchmark serves it, the benchmark's one load generator, and step 3.

`Server`: uvicorn with its workers, uvloop and httptools, no access log, no proxy headers,
started by spending_api.processes.start_api. `Client`: a keep-alive HTTP/1.1 connection on
asyncio (uvloop).
`call` times one request into `Stats`; `measure` samples the workers' RSS while request
loops run, then stops them. Step 3 (`closed_loop`: as many requests as `connections`
connections can make) and the load test (bench/loadtest.py: simulated users with think
times, on step 3's server) are both made of these."""

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import uvloop

from bench.config import REPO_ROOT, Config, log
from spending_api.auth.security import create_access_token
from spending_api.processes import api_environment, free_port, launch_api

WORKERS = 2
GENERATOR = "bench.load (Python asyncio on uvloop, 1 process)"
ENDPOINTS = {
    "floor": "/bench/floor",
    "floor_sync": "/bench/floor-sync",
    "metrics": "/metrics?granularity=month",
    "transactions": "/transactions?limit=100",
}


class Server:
    """uvicorn serving bench.server:app (the API plus the floor routes), as in production."""

    def __init__(self, url: str, workers: int = WORKERS, extra_env: dict | None = None) -> None:
        self.workers = workers
        self.secret_key = secrets.token_urlsafe(48)
        self.env = api_environment(
            {
                "ENVIRONMENT": "production",
                "SECRET_KEY": self.secret_key,
                "DATABASE_URL": url,
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
                **(extra_env or {}),
            }
        )

    def __enter__(self) -> "Server":
        port = free_port()
        self._log_dir = tempfile.TemporaryDirectory(prefix="spending-bench-")
        # The framework's own httptools protocol: the figures are uvicorn's, not the guard's.
        self.server = launch_api(
            port=port,
            workers=self.workers,
            app="bench.server:app",
            factory=False,
            http="httptools",
            options=["--loop", "uvloop", "--no-access-log", "--log-level", "warning"],
            log_path=Path(self._log_dir.name) / "uvicorn.log",
            env=self.env,
            cwd=REPO_ROOT,
        )
        self.base_url = self.server.url
        self.server.wait_ready(ready_path="/bench/floor", ready=self._all_workers_answer)
        time.sleep(0.5)  # the last worker's first request must not land mid-import
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop(sig=signal.SIGINT)  # uvicorn's graceful shutdown, as Ctrl-C
        self._log_dir.cleanup()

    def _all_workers_answer(self, response: httpx.Response) -> bool:
        return response.status_code == 200 and len(self.worker_processes()) >= self.workers

    def worker_processes(self) -> list[psutil.Process]:
        """The processes serving requests: uvicorn's children but its resource tracker,
        or uvicorn itself with 1 worker."""
        try:
            main = psutil.Process(self.server.pid)
            children = main.children(recursive=True)
            workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        except psutil.NoSuchProcess:
            return []
        return workers or [main]

    def worker_rss_mb(self) -> float:
        """The workers' total RSS."""
        total = 0
        for process in self.worker_processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return round(total / 2**20, 1)

    def token(self, user_id: int) -> str:
        return create_access_token(
            user_id=user_id, secret_key=self.secret_key, lifetime=timedelta(hours=3)
        )

    def client(self, user_id: int) -> httpx.Client:
        """An HTTP client of the API, logged in as the user."""
        headers = {"Authorization": f"Bearer {self.token(user_id)}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def timed_ms(call, repetitions: int, warmup: int = 0) -> tuple[list[float], object]:
    """`call()` `warmup` times, then `repetitions` times timed: the milliseconds of each,
    and what the last call returned."""
    for _ in range(warmup):
        call()
    times, result = [], None
    for _ in range(repetitions):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


class Client:
    """One keep-alive HTTP/1.1 connection; bodies by Content-Length or chunked."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers: dict[str, str] = {}
        self._streams = None

    async def request(self, method: str, path: str, body: dict | None = None):
        """(status, body bytes); reconnects when the server closed the connection."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        writer.write(head.encode() + b"\r\n" + payload)
        head = await reader.readuntil(b"\r\n\r\n")
        fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
        fields = {key.strip().lower(): value.strip().lower() for key, value in fields.items()}
        if fields.get(b"transfer-encoding") == b"chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
                chunks.append((await reader.readexactly(size + 2))[:-2])
            await reader.readuntil(b"\r\n")
            content = b"".join(chunks)
        else:
            content = await reader.readexactly(int(fields.get(b"content-length", 0)))
        if fields.get(b"connection") == b"close":
            self.close()
        return int(head[9:12]), content

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


class Stats(list):
    """(name, latency ms, failure or None) of every request."""

    def summary(self, seconds: float, name: str | None = None, digits: int = 2) -> dict:
        """All requests' figures, or those of one name: failures, requests, requests/s,
        latency percentiles and maximum."""
        chosen = [r for r in self if name in (None, r[0])]
        latencies = [r[1] for r in chosen]
        return {
            "failures": sum(1 for r in chosen if r[2]),
            "requests": len(latencies),
            "rps": round(len(latencies) / seconds, 1),
            **{f"p{q}_ms": round(percentile(latencies, q / 100), digits) for q in (50, 95, 99)},
            "max_ms": round(max(latencies, default=0), digits),
        }

    def errors(self) -> list[dict]:
        counted = Counter((name, failure) for name, _, failure in self if failure)
        return [{"name": n, "error": e, "occurrences": count} for (n, e), count in counted.items()]


def http_failure(status: int, body: bytes) -> str | None:
    return f"HTTP {status}" if status >= 400 else None


async def call(client: Client, stats: Stats, name: str, path: str, body=None, check=http_failure):
    """One request (POST with a body, else GET), recorded in `stats` under `name` with
    its failure (`check(status, body)`, or the connection error); (status, body) or None."""
    started, answer = time.perf_counter(), None
    try:
        answer = await client.request("POST" if body else "GET", path, body)
        failure = check(*answer)
    except (OSError, asyncio.IncompleteReadError) as exc:
        client.close()
        failure = repr(exc)
    stats.append((name, (time.perf_counter() - started) * 1000, failure))
    return answer


async def measure(server: Server, tasks: list[asyncio.Task], seconds: float):
    """While `tasks` (each a loop of requests) run: the workers' RSS every second (in a
    thread: the requests' loop is never held up) for `seconds`; then the tasks are
    cancelled. (elapsed s, [(s since the start, RSS MB)], the tasks' exceptions)."""
    started, samples = time.monotonic(), []
    while (elapsed := time.monotonic() - started) < seconds:
        samples.append((elapsed, await asyncio.to_thread(server.worker_rss_mb)))
        await asyncio.sleep(min(1, max(0, seconds - elapsed)))
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    crashed = [o for o in outcomes if not isinstance(o, asyncio.CancelledError)]
    return time.monotonic() - started, samples, crashed


async def closed_loop(server: Server, requests, seconds: float, connections: int) -> dict:
    """Each of `connections` connections sends a random one of `requests` (path, token)
    as soon as the previous answer is in, for `seconds`; the workers' RSS every second."""
    stats = Stats()

    async def connection() -> None:
        client, rng = Client(server.base_url), random.Random()
        try:
            while True:
                path, token = rng.choice(requests)
                client.headers = {"Authorization": f"Bearer {token}"} if token else {}
                await call(client, stats, path, path)
        finally:
            client.close()

    tasks = [asyncio.create_task(connection()) for _ in range(connections)]
    duration, samples, crashed = await measure(server, tasks, seconds)
    if crashed:
        raise crashed[0]
    figures = stats.summary(duration)
    errors = figures.pop("failures")
    rss = [mb for _, mb in samples]
    return {
        **figures,
        "seconds": round(duration, 2),
        "errors": errors,
        "worker_rss_mb": rss[-1] if rss else None,
        "rss_samples": rss,
    }


def run(server: Server, user_ids: list[int], config: Config, endpoints=tuple(ENDPOINTS)) -> dict:
    """Step 3: each endpoint for random typical users for `config.load_seconds` per round,
    the endpoints interleaved over `config.load_rounds` rounds after a warm-up each; each
    endpoint's best round (highest throughput) is kept, so another process busy on the
    machine for a while skews the ratios less."""

    requests = {}  # (path, token) for each user; the floor without a token
    for name in endpoints:
        tokens = [None if name.startswith("floor") else server.token(u) for u in user_ids]
        requests[name] = [(ENDPOINTS[name], token) for token in tokens]

    def closed_loop_of(name: str, seconds: float) -> dict:
        return uvloop.run(closed_loop(server, requests[name], seconds, config.connections))

    for name in endpoints:
        warm = closed_loop_of(name, config.load_warmup_seconds)
        if warm["errors"]:
            raise RuntimeError(f"{ENDPOINTS[name]}: {warm['errors']} errors in the warm-up")
    runs: dict[str, list[dict]] = {name: [] for name in endpoints}
    rss: list[float] = []
    for _ in range(config.load_rounds):
        for name in endpoints:
            runs[name].append(closed_loop_of(name, config.load_seconds))
            rss += runs[name][-1].pop("rss_samples")
    floor = max(r["rps"] for r in runs["floor"])
    results = {}
    for name, attempts in runs.items():
        best = max(attempts, key=lambda r: r["rps"])
        results[name] = {
            **best,
            "path": ENDPOINTS[name],
            "rounds_rps": [r["rps"] for r in attempts],
            "share_of_floor": round(best["rps"] / floor, 3) if floor else None,
        }
        log(f"  {name}: {results[name]}")
    return {
        "connections": config.connections,
        "seconds_per_run": config.load_seconds,
        "rounds": config.load_rounds,
        "load_generator": GENERATOR,
        "workers": server.workers,
        "endpoints": results,
        "worker_rss_mb": {
            "first": rss[0] if rss else None,
            "last": rss[-1] if rss else None,
            "max": max(rss, default=None),
            "samples": len(rss),
        },
    }

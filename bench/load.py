"""The API as the benchmark serves it, and the benchmark's one load generator.

`Server`: uvicorn with its workers, uvloop and httptools, no access log, started through
spending_api.processes. `Client`: a keep-alive HTTP/1.1 connection on asyncio (uvloop), used
by step 3 (`closed_loop`: as many requests as `connections` connections can make) and by
the 60 s load test (bench/loadtest.py: simulated users with think times).
"""

import asyncio
import json
import os
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import uvloop

from bench.config import REPO_ROOT
from spending_api.auth.security import create_access_token
from spending_api.processes import free_port, start_server, wait_until

WORKERS = 2
GENERATOR = "bench.load (Python asyncio on uvloop, 1 process)"


class Server:
    """uvicorn serving bench.server:app (the API plus the floor routes), as in production."""

    def __init__(
        self, url: str, workers: int = WORKERS, extra_env: dict[str, str] | None = None
    ) -> None:
        self.workers = workers
        self.secret_key = secrets.token_urlsafe(48)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        self.env.update(
            ENVIRONMENT="production",
            SECRET_KEY=self.secret_key,
            DATABASE_URL=url,
            LOG_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
            **(extra_env or {}),
        )

    def __enter__(self) -> "Server":
        self._log_dir = tempfile.TemporaryDirectory(prefix="spending-bench-")
        command = [sys.executable, "-m", "uvicorn", "bench.server:app", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers"]
        command += [str(self.workers), "--loop", "uvloop", "--http", "httptools"]
        command += ["--no-access-log", "--log-level", "warning"]
        self.server = start_server(
            command,
            name="uvicorn",
            url=self.base_url,
            log_path=Path(self._log_dir.name) / "uvicorn.log",
            ready_path="/bench/floor",
            ready=lambda response: response.status_code == 200,
            env=self.env,
            cwd=REPO_ROOT,
        )
        try:
            wait_until(
                lambda: len(self.worker_processes()) >= self.workers, timeout=60, what="workers"
            )
        except TimeoutError:
            self.__exit__(None, None, None)
            raise
        time.sleep(0.5)  # the last worker's first request must not land mid-import
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop(sig=signal.SIGINT)  # uvicorn's graceful shutdown, as Ctrl-C
        self._log_dir.cleanup()

    def worker_processes(self) -> list[psutil.Process]:
        """The processes serving requests: uvicorn's children but its resource tracker,
        or uvicorn itself with 1 worker."""
        try:
            main = psutil.Process(self.server.pid)
            children = [
                child
                for child in main.children(recursive=True)
                if "resource_tracker" not in " ".join(child.cmdline())
            ]
        except psutil.NoSuchProcess:
            return []
        return children or [main]

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for process in self.worker_processes():
            try:
                sizes.append(round(process.memory_info().rss / 2**20, 1))
            except psutil.NoSuchProcess:
                pass
        return sorted(sizes)

    def token(self, user_id: int) -> str:
        return create_access_token(
            user_id=user_id, secret_key=self.secret_key, lifetime=timedelta(hours=3)
        )


@contextmanager
def rss_sampler(server: Server, interval: float = 1.0):
    """Samples the workers' total RSS every `interval` seconds while the load runs."""
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(round(sum(server.worker_rss_mb()), 1))
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


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


async def _closed_loop(base_url, requests, seconds: float, connections: int) -> dict:
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def connection() -> None:
        nonlocal errors
        client, rng = Client(base_url), random.Random()
        try:
            while time.perf_counter() < deadline:
                path, token = rng.choice(requests)
                client.headers = {"Authorization": f"Bearer {token}"} if token else {}
                sent = time.perf_counter()
                status, _ = await client.request("GET", path)
                latencies.append(time.perf_counter() - sent)
                errors += status >= 400
        finally:
            client.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    duration = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": round(duration, 2),
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=0) * 1000, 2),
        "errors": errors,
    }


def closed_loop(
    base_url: str, requests: list[tuple[str, str | None]], *, seconds: float, connections: int
) -> dict:
    """Each of `connections` connections sends a random one of `requests` (path, token)
    as soon as the previous answer is in, for `seconds`."""
    return uvloop.run(_closed_loop(base_url, requests, seconds, connections))

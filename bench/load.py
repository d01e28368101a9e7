"""Step 3: the API under load, served as in production, driven by wrk (or a Python client)."""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psutil

from bench.config import REPO_ROOT
from spending_api.auth.security import create_access_token
from spending_api.processes import free_port, start_server, wait_until

WORKERS = 2


def server_environment(url: str, secret_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ENVIRONMENT": "production",
            "SECRET_KEY": secret_key,
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]),
        }
    )
    env.pop("DATABASE_READ_URL", None)
    return env


class Server:
    """uvicorn with `workers` processes, uvloop and httptools, no access log."""

    def __init__(
        self, url: str, workers: int = WORKERS, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.secret_key = secrets.token_urlsafe(48)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.server:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.env = server_environment(url, self.secret_key)
        self.env.update(extra_env or {})
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self._log_dir = tempfile.TemporaryDirectory(prefix="spending-bench-")
        self.server = start_server(
            self.command,
            name="uvicorn",
            url=self.base_url,
            log_path=Path(self._log_dir.name) / "uvicorn.log",
            ready_path="/bench/floor",
            ready=lambda response: response.status_code == 200,
            env=self.env,
            cwd=REPO_ROOT,
        )
        self.process = self.server.process
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
        # SIGINT: uvicorn's graceful shutdown, as Ctrl-C in production.
        self.server.stop(sig=signal.SIGINT)
        self._log_dir.cleanup()

    def worker_processes(self) -> list[psutil.Process]:
        """The processes serving requests: the children, or uvicorn itself with 1 worker."""
        try:
            main = psutil.Process(self.process.pid)
            return main.children(recursive=True) or [main]
        except psutil.NoSuchProcess:
            return []

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


# ---------------------------------------------------------------------------- wrk

WRK_SCRIPT = """
local requests = {%(requests)s}
local thread_counter = 0
function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("seed", thread_counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
function request()
  local r = requests[math.random(#requests)]
  return wrk.format("GET", r[1], r[2] and {["Authorization"] = "Bearer " .. r[2]} or {})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"max_us": %%d, "mean_us": %%f, "errors": %%d, "non_2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def wrk_available() -> str | None:
    """The path of wrk, installing it with apt-get if it is missing and that is possible."""
    path = shutil.which("wrk")
    if path or os.environ.get("BENCH_NO_INSTALL"):
        return path
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            capture_output=True,
            check=False,
            timeout=300,
        )
    return shutil.which("wrk")


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    wrk: str,
    base_url: str,
    requests: list[tuple[str, str | None]],
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
) -> dict:
    body = ",".join(
        "{%s,%s}" % (_lua_string(path), _lua_string(token) if token else "nil")
        for path, token in requests
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"requests": body})
    try:
        completed = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    finally:
        Path(script.name).unlink()
    match = re.search(r"WRKJSON (\{.*\})", completed.stdout)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{completed.stdout}\n{completed.stderr}")
    raw = json.loads(match.group(1))
    duration = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(duration, 2),
        "rps": round(raw["requests"] / duration, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": raw["errors"] + raw["non_2xx"],
    }


# -------------------------------------------------------------- Python fallback


def run_python(
    base_url: str,
    requests: list[tuple[str, str | None]],
    *,
    seconds: float,
    connections: int,
) -> dict:
    """The same measurement with bench.pyload's keep-alive asyncio client."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump({"requests": requests}, spec)
    try:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.pyload",
                base_url,
                spec.name,
                str(seconds),
                str(connections),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
            timeout=seconds + 60,
        )
    finally:
        Path(spec.name).unlink()
    return json.loads(completed.stdout.strip().splitlines()[-1])


class LoadGenerator:
    def __init__(self, prefer: str = "wrk") -> None:
        self.wrk = wrk_available() if prefer == "wrk" else None
        if self.wrk:
            version = subprocess.run([self.wrk, "-v"], capture_output=True, text=True).stdout
            self.name = (version.strip().splitlines() or ["wrk"])[0].split(" [")[0]
        else:
            self.name = "bench.pyload (Python asyncio, 1 process)"

    def run(self, base_url, requests, *, seconds, connections) -> dict:
        if self.wrk:
            return run_wrk(self.wrk, base_url, requests, seconds=seconds, connections=connections)
        return run_python(base_url, requests, seconds=seconds, connections=connections)

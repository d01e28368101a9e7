"""Child processes for `make run`, the tests, the benchmark and the scripts: a free port,
a server started and polled until it answers, and stopped again by its own pid."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.1


class ServerStartError(RuntimeError):
    """The server exited, or did not answer in time; the message ends with its log."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll `condition` until it returns something true; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)  # a polling interval, not a wait for an outcome


@dataclass
class ServerProcess:
    """A server started by `start_server`; `url` is its base address."""

    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_text(self, *, tail: int | None = None) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text if tail is None else "\n".join(text.splitlines()[-tail:])

    def wait_ready(
        self,
        *,
        ready_path: str = "/health",
        ready: Callable[[httpx.Response], bool] = lambda response: True,
        timeout: float = 60.0,
    ) -> None:
        """Poll `url + ready_path` until `ready(response)`; ServerStartError (with the
        log's last lines) if the process exits first or `timeout` passes (then stopped)."""

        def answered() -> bool:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with {self.process.returncode} while starting:\n"
                    f"{self.log_text(tail=40)}"
                )
            try:
                return ready(httpx.get(self.url + ready_path, timeout=2))
            except httpx.HTTPError:
                return False

        try:
            wait_until(answered, timeout=timeout, what=f"{self.name} at {self.url}")
        except TimeoutError as error:
            self.stop()
            raise ServerStartError(f"{error}:\n{self.log_text(tail=40)}") from None

    def stop(self, *, timeout: float = 15, sig: int = signal.SIGTERM) -> None:
        """`sig` to the server's own pid (uvicorn and panel stop their workers), then,
        if it is still there after `timeout`, SIGKILL to its process group."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def launch_server(
    command: Sequence[str],
    *,
    name: str,
    url: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    """Start `command` in a session of its own, its output to `log_path`; no waiting
    (several servers can boot side by side, then `wait_ready` on each)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only, which stops it
        )
    return ServerProcess(name=name, url=url, process=process, log_path=log_path)


def start_server(
    command: Sequence[str],
    *,
    name: str,
    url: str,
    log_path: Path,
    ready_path: str = "/health",
    ready: Callable[[httpx.Response], bool] = lambda response: True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> ServerProcess:
    """`launch_server`, then `wait_ready`: poll `url + ready_path` until `ready(response)`
    (by default any answer at all)."""
    server = launch_server(command, name=name, url=url, log_path=log_path, env=env, cwd=cwd)
    server.wait_ready(ready_path=ready_path, ready=ready, timeout=timeout)
    return server

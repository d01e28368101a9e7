"""Child processes for `make run`, the tests, the benchmark and the scripts: a free port,
a server started and polled until it answers, and stopped again by its own pid.

The one home of the API's and the dashboard's command lines and environments as children:
`api_command`/`api_environment`/`launch_api`/`start_api` and `dashboard_command`/
`dashboard_environment`/`launch_dashboard`. A `ServerProcess` is a context manager that
stops it (`with start_api(...) as api:`). backend/scripts/start.sh (the Docker image)
spells the same uvicorn flags as `api_command`."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.1
API_APP = "spending_api.main:create_app"
# uvicorn's httptools protocol with a header deadline and size bound (spending_api.server).
GUARDED_HTTP = "spending_api.server:GuardedHttpToolsProtocol"
# Inherited variables a dashboard child must not see: Panel's and Bokeh's own settings.
DASHBOARD_PREFIXES = ("PANEL_", "BOKEH_")


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

    def _explain(self, error: BaseException) -> None:
        """If the server has died, `error` carries its exit status and its log's last lines."""
        if not self.running():
            error.add_note(
                f"{self.name} had exited with {self.process.returncode}:\n"
                f"{self.log_text(tail=40)}"
            )

    @contextmanager
    def stopped_on_error(self) -> Iterator["ServerProcess"]:
        """For the steps after a start (waiting for workers, starting the next server):
        an error stops the server (and says so if it had died)."""
        try:
            yield self
        except BaseException as error:
            self._explain(error)
            self.stop()
            raise

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        """Stopped (`with start_api(...) as api:`); if the block failed, see `_explain`."""
        if exc is not None:
            self._explain(exc)
        self.stop()

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


def url_of(port: int, host: str = LOOPBACK) -> str:
    return f"http://{host}:{port}"


def api_command(
    *,
    port: int,
    host: str = LOOPBACK,
    workers: int = 1,
    app: str = API_APP,
    factory: bool = True,
    http: str = GUARDED_HTTP,
    options: Sequence[str] = (),
) -> list[str]:
    """The API's uvicorn command line: the guarded HTTP protocol and no proxy headers (the
    app reads X-Forwarded-For itself, from TRUSTED_PROXIES only); `options` are uvicorn's."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *(["--factory"] if factory else []),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-proxy-headers",
        "--http",
        http,
        *options,
    ]


def _inherited(base: Mapping[str, str] | None, drop: Callable[[str], bool]) -> dict[str, str]:
    return {k: v for k, v in (os.environ if base is None else base).items() if not drop(k)}


def api_environment(
    values: Mapping[str, str], *, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """An API child's environment: `base` (default os.environ) without any variable the
    API's Settings read (nor Panel's and Bokeh's), then `values` (e.g. DATABASE_URL): the
    child's settings are exactly the ones given, whatever the caller's shell holds."""
    from spending_api.settings import Settings

    settings_names = {name.upper() for name in Settings.model_fields}
    inherited = _inherited(
        base, lambda key: key.upper() in settings_names or key.startswith(DASHBOARD_PREFIXES)
    )
    return {**inherited, **values}


def dashboard_command(*, port: int, host: str = LOOPBACK, options: Sequence[str] = ()) -> list[str]:
    """`python -m spending_ui.serve` (the home of every `panel serve` flag) on `port`."""
    return [
        sys.executable,
        "-m",
        "spending_ui.serve",
        "--address",
        host,
        "--port",
        str(port),
        *options,
    ]


def dashboard_environment(
    *,
    backend_url: str,
    values: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A dashboard child's environment: `base` (default os.environ) without Panel's and
    Bokeh's variables, talking to the API at `backend_url`, then `values`."""
    inherited = _inherited(base, lambda key: key.startswith(DASHBOARD_PREFIXES))
    return {**inherited, "BACKEND_URL": backend_url, **(values or {})}


def launch_api(
    *,
    port: int,
    log_path: Path,
    env: dict[str, str],
    cwd: Path | None = None,
    name: str = "uvicorn",
    **command: Any,
) -> ServerProcess:
    """The API (`api_command(port=port, **command)`) started, not waited for."""
    url = url_of(port, command.get("host", LOOPBACK))
    command_line = api_command(port=port, **command)
    return launch_server(command_line, name=name, url=url, log_path=log_path, env=env, cwd=cwd)


def start_api(
    *,
    ready_path: str = "/health",
    ready: Callable[[httpx.Response], bool] = lambda response: True,
    timeout: float = 60.0,
    **launch: object,
) -> ServerProcess:
    """`launch_api(**launch)`, then polled at `ready_path` until `ready(response)` (by
    default any answer); ServerStartError with its log's last lines if it does not come up."""
    server = launch_api(**launch)
    server.wait_ready(ready_path=ready_path, ready=ready, timeout=timeout)
    return server


def launch_dashboard(
    *, port: int, options: Sequence[str] = (), name: str = "panel serve", **launch: Any
) -> ServerProcess:
    """The dashboard (`dashboard_command`) on the loopback address, started, not waited for
    (`wait_ready` on it); `launch`: `launch_server`'s log_path, env and cwd."""
    command = dashboard_command(port=port, options=options)
    return launch_server(command, name=name, url=url_of(port), **launch)

"""`make run`: the database, the API and the dashboard, until Ctrl-C or until one of them dies.

Without DATABASE_URL it starts the embedded PostgreSQL (data in data/postgresql/, kept
between runs). It migrates, copies an older version's data/spending.db once, seeds the
demo users, then serves the API (API_PORT, default 8000) and the dashboard (UI_PORT,
default 8501), each logging to LOG_DIR (default data/logs/). If either server exits, the
other is stopped too and the message names the one that died and its log; the exit
status is then 1. Ctrl-C or SIGTERM stops everything, the embedded server last.
"""

import logging
import math
import os
import signal
import sys
from pathlib import Path

from spending_api import cli, embedded
from spending_api.processes import (
    ServerProcess,
    ServerStartError,
    launch_dashboard,
    start_api,
    url_of,
    wait_until,
)
from spending_api.settings import REPO_ROOT, get_settings
from spending_api.sqlite_import import LEGACY_SQLITE_PATH

logger = logging.getLogger("run")
NAMES = {"api": "the API (uvicorn)", "dashboard": "the dashboard (panel serve)"}


class Stop(BaseException):
    """Ctrl-C or SIGTERM (a BaseException, like KeyboardInterrupt: no `except Exception`
    on the way may swallow it)."""


def _on_signal(signum, _frame) -> None:
    raise Stop(signal.Signals(signum).name)


def _prepare_database() -> None:
    """Migrate, copy an old SQLite file once, seed the demo users (all idempotent)."""
    for command in (
        ["init-db"],
        ["import-sqlite", "--if-found", str(LEGACY_SQLITE_PATH)],
        ["seed-demo"],
    ):
        if cli.main(command) != 0:
            raise SystemExit(f"run: `spending-admin {' '.join(command)}` failed (see above)")


def _start(api_port: int, ui_port: int, log_dir: Path) -> list[ServerProcess]:
    """Both servers with this shell's environment (make run's settings are the user's)."""
    env = dict(os.environ)
    env.setdefault("BACKEND_URL", url_of(api_port))
    where = {"env": env, "cwd": REPO_ROOT}
    api = start_api(port=api_port, name=NAMES["api"], log_path=log_dir / "api.log", **where)
    with api.stopped_on_error():
        dashboard = launch_dashboard(
            port=ui_port, name=NAMES["dashboard"], log_path=log_dir / "dashboard.log", **where
        )
        dashboard.wait_ready(ready_path="/")
    return [api, dashboard]


def _watch(servers: list[ServerProcess]) -> ServerProcess:
    """Block until one of the servers exits; return it."""
    return wait_until(
        lambda: next((server for server in servers if not server.running()), None),
        timeout=math.inf,
        what="a server exiting",
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness polls
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    api_port = int(os.environ.get("API_PORT", "8000"))
    ui_port = int(os.environ.get("UI_PORT", "8501"))
    log_dir = Path(os.environ.get("LOG_DIR", REPO_ROOT / "data" / "logs"))
    server = None
    servers: list[ServerProcess] = []
    try:
        if not os.environ.get("DATABASE_URL"):
            server = embedded.embedded_server()
            os.environ["DATABASE_URL"] = server.url  # for the children and the CLI below
            get_settings.cache_clear()
            logger.info("run: embedded PostgreSQL, data in %s", server.data_dir)
        _prepare_database()
        servers = _start(api_port, ui_port, log_dir)
        api, dashboard = servers
        logger.info(
            "\n  spending-dashboard is running:\n"
            "    Dashboard  %s\n    API        %s   (docs: %s/docs)\n"
            "    Demo login demo / demo\n    Logs       %s\n  Press Ctrl-C to stop.\n",
            dashboard.url,
            api.url,
            api.url,
            log_dir,
        )
        died = _watch(servers)
        logger.error(
            "\nrun: %s (pid %d) exited with status %s; stopping the rest.\n"
            "run: its log is %s; the last lines:\n%s",
            died.name,
            died.pid,
            died.process.returncode,
            died.log_path,
            died.log_text(tail=20),
        )
        return 1
    except ServerStartError as error:
        logger.error("run: %s", error)
        return 1
    except Stop as stop:
        logger.info("run: %s, stopping", stop)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for running in servers:
            running.stop()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())

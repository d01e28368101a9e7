"""Starts the dashboard server with its security flags: `python -m spending_ui.serve`.

The one home of the `panel serve` command line: scripts/run.py, the Docker image, Compose,
the tests, the benchmark and the screenshots all start the dashboard through this module
(the Python starters by spending_api.processes.dashboard_command).

    python -m spending_ui.serve [--address 127.0.0.1] [--port 8501] [other panel serve flags]

Environment:
- BOKEH_ALLOW_WS_ORIGIN: comma-separated host[:port] names browsers use to reach the dashboard
  (default: 127.0.0.1 and localhost on the port). Requests for any other Host get 400, and the
  websocket accepts only these origins.
- DASHBOARD_SESSION_SECRET: the key that signs Bokeh session ids (at least 32 characters).
  When unset, a random key is made at each start: sessions live in this process's memory only,
  so nothing needs to survive a restart.
- DASHBOARD_MAX_ANONYMOUS_SESSIONS: read by spending_ui.security (see there).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("spending_ui.serve")

APP = Path(__file__).resolve().parent / "app.py"
# Files served as they are under <prefix>/assets/ (the dashboard's stylesheet: spending_ui.theme).
STATIC_DIR = APP.parent / "static"
STATIC_ROUTE = "assets"
MIN_SECRET_CHARS = 32
# A page's session must connect its websocket within this time, and a session nobody is
# connected to is dropped after UNUSED_SESSION_MS (checked every CHECK_UNUSED_MS).
SESSION_TOKEN_SECONDS = 60
UNUSED_SESSION_MS = 15_000
CHECK_UNUSED_MS = 5_000


@dataclass(frozen=True)
class ServerSettings:
    """What the dashboard server is configured with, read from the environment."""

    hosts: tuple[str, ...]
    session_secret: str

    @classmethod
    def from_env(cls, port: int, environ=os.environ) -> ServerSettings:
        configured = [h.strip() for h in environ.get("BOKEH_ALLOW_WS_ORIGIN", "").split(",")]
        hosts = [f"127.0.0.1:{port}", f"localhost:{port}", *(h for h in configured if h)]
        secret = environ.get("DASHBOARD_SESSION_SECRET", "")
        if secret and len(secret) < MIN_SECRET_CHARS:
            raise SystemExit(
                f"DASHBOARD_SESSION_SECRET is too short: use at least {MIN_SECRET_CHARS} "
                "random characters, or unset it to get a random key at each start."
            )
        return cls(
            hosts=tuple(dict.fromkeys(h.lower() for h in hosts)),
            session_secret=secret or secrets.token_urlsafe(48),
        )


def panel_arguments(address: str, port: int, settings: ServerSettings, extra: list[str]):
    """The `panel serve` command line for these settings."""
    return [
        "panel",
        "serve",
        str(APP),
        "--address",
        address,
        "--port",
        str(port),
        "--num-procs",
        "1",
        "--plugins",
        "spending_ui.security",
        "--session-ids",
        "signed",
        "--session-token-expiration",
        str(SESSION_TOKEN_SECONDS),
        "--unused-session-lifetime",
        str(UNUSED_SESSION_MS),
        "--check-unused-sessions",
        str(CHECK_UNUSED_MS),
        "--liveness",
        "--static-dirs",
        f"{STATIC_ROUTE}={STATIC_DIR}",
        *(f"--allow-websocket-origin={host}" for host in settings.hosts),
        *extra,
    ]


def without_mathjax() -> None:
    """Pages without BokehJS's MathJax bundle: Panel links it (1.8 MB) into every page that
    has an HTML pane, and the browser then spends about 150 ms of each load compiling and
    running it. Nothing here typesets TeX: HTML panes have `disable_math`, the Markdown ones
    hold fixed text, the figures have no axis labels or titles. Bokeh has no setting for the
    bundles of a server's pages, only this class default."""
    from bokeh.resources import Resources

    Resources._default_components = [
        name for name in Resources._default_components if name != "bokeh-mathjax"
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8501)
    args, extra = parser.parse_known_args(argv)
    settings = ServerSettings.from_env(args.port)
    # Bokeh reads the signing key from its own environment variable only.
    os.environ["BOKEH_SECRET_KEY"] = settings.session_secret
    os.environ["BOKEH_SIGN_SESSIONS"] = "true"
    without_mathjax()
    from panel.command import main as panel_main

    sys.argv = panel_arguments(args.address, args.port, settings, extra)
    panel_main()


if __name__ == "__main__":
    main()

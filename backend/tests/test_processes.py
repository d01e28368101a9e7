"""spending_api.processes: the API's and the dashboard's children get exactly the settings
they are given, and a server that cannot start, or dies, is stopped and explained by its log."""

import sys

import httpx
import psutil
import pytest

from spending_api.processes import (
    ServerStartError,
    api_command,
    api_environment,
    dashboard_environment,
    free_port,
    launch_server,
    start_api,
    url_of,
)

SECRET = "processes-test-secret-key-long-enough-0123456789"


def test_api_environment_replaces_every_inherited_setting():
    shell = {
        "PATH": "/bin",
        "HOME": "/root",
        "DATABASE_URL": "postgresql://elsewhere/db",
        "database_read_url": "postgresql://replica/db",  # Settings read names in any case
        "LOGIN_MAX_FAILURES": "1",
        "CORS_ORIGINS": '["http://evil"]',
        "PANEL_OAUTH_PROVIDER": "github",
        "BOKEH_SECRET_KEY": "x",
    }
    env = api_environment(
        {"DATABASE_URL": "postgresql://here/db", "LOG_LEVEL": "WARNING"}, base=shell
    )
    assert env == {
        "PATH": "/bin",
        "HOME": "/root",
        "DATABASE_URL": "postgresql://here/db",
        "LOG_LEVEL": "WARNING",
    }


def test_dashboard_environment_drops_panel_and_bokeh_variables_only():
    shell = {"PATH": "/bin", "BOKEH_ALLOW_WS_ORIGIN": "a.example", "PANEL_X": "1", "DATA_DIR": "d"}
    env = dashboard_environment(
        backend_url="http://127.0.0.1:9", values={"BOKEH_ALLOW_WS_ORIGIN": "b.example"}, base=shell
    )
    assert env == {
        "PATH": "/bin",
        "DATA_DIR": "d",
        "BACKEND_URL": "http://127.0.0.1:9",
        "BOKEH_ALLOW_WS_ORIGIN": "b.example",
    }


def test_api_command_serves_the_guarded_protocol_without_proxy_headers():
    command = api_command(port=8123, workers=3, options=["--log-level", "warning"])
    assert command[:4] == [sys.executable, "-m", "uvicorn", "spending_api.main:create_app"]
    joined = " ".join(command)
    assert "--factory --host 127.0.0.1 --port 8123 --workers 3 --no-proxy-headers" in joined
    assert joined.endswith(
        "--http spending_api.server:GuardedHttpToolsProtocol --log-level warning"
    )


@pytest.mark.fault
def test_the_api_started_in_a_with_block_answers_and_is_stopped_after(database_url, tmp_path):
    env = api_environment(
        {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "ENVIRONMENT": "test"}
    )
    port = free_port()
    with start_api(port=port, env=env, log_path=tmp_path / "api.log", cwd=tmp_path) as api:
        assert api.url == url_of(port)
        assert httpx.get(f"{api.url}/health").status_code == 200
        pid = api.pid
    assert not api.running()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.fault
def test_an_api_that_cannot_start_raises_with_its_log_tail(tmp_path):
    # Production refuses a short secret key: the process exits while starting.
    env = api_environment(
        {"ENVIRONMENT": "production", "SECRET_KEY": "short", "DATABASE_URL": "postgresql://x/y"}
    )
    with pytest.raises(ServerStartError) as raised:
        start_api(port=free_port(), env=env, log_path=tmp_path / "api.log", cwd=tmp_path)
    message = str(raised.value)
    assert "uvicorn exited with" in message
    assert "SECRET_KEY must be at least 32 bytes" in message  # from the server's own log


def test_a_server_that_died_inside_the_block_is_explained_by_its_log(tmp_path):
    script = "import sys; print('the last words', flush=True); sys.exit(3)"
    server = launch_server(
        [sys.executable, "-c", script],
        name="a short-lived server",
        url=url_of(free_port()),
        log_path=tmp_path / "server.log",
    )
    with pytest.raises(RuntimeError) as raised:
        with server:
            server.process.wait(timeout=30)
            raise RuntimeError("the request failed")
    notes = "\n".join(raised.value.__notes__)
    assert "a short-lived server had exited with 3" in notes
    assert "the last words" in notes

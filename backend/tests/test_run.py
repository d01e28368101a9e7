"""`make run` (scripts/run.py): when one server dies the other is stopped, and the
message names the one that died and its log; SIGTERM stops both cleanly."""

import os
import signal
import subprocess
import sys

import psutil
import pytest

from spending_api.processes import free_port, wait_until
from spending_api.settings import REPO_ROOT

# Fault and load suite: `make test-slow` (it stops servers and waits on real processes).
pytestmark = pytest.mark.fault

RUN = REPO_ROOT / "scripts" / "run.py"
NAMES = {"api": "the API (uvicorn)", "dashboard": "the dashboard (panel serve)"}


@pytest.fixture
def supervisor(database, postgresql_url, tmp_path):
    """scripts/run.py on free ports and the test database; yields (process, output path,
    {"api": pid, "dashboard": pid})."""
    output = tmp_path / "run.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "BACKEND_"))}
    env.update(
        DATABASE_URL=postgresql_url,
        API_PORT=str(free_port()),
        UI_PORT=str(free_port()),
        LOG_DIR=str(tmp_path / "logs"),
        PYTHONUNBUFFERED="1",
    )
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(RUN)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until(
            lambda: "is running" in output.read_text() or process.poll() is not None,
            timeout=120,
            what="make run",
        )
        assert process.poll() is None, output.read_text()
        children = {}
        for child in psutil.Process(process.pid).children():
            command = " ".join(child.cmdline())
            children["api" if "uvicorn" in command else "dashboard"] = child.pid
        assert set(children) == {"api", "dashboard"}, children
        yield process, output, children
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["api", "dashboard"])
def test_when_one_server_dies_the_other_is_stopped_with_a_clear_message(supervisor, victim):
    process, output, children = supervisor
    os.kill(children[victim], signal.SIGKILL)
    assert process.wait(timeout=60) == 1
    survivor = "dashboard" if victim == "api" else "api"
    assert _gone(children[survivor])
    text = output.read_text()
    log = "api.log" if victim == "api" else "dashboard.log"
    assert f"{NAMES[victim]} (pid {children[victim]}) exited with status -9" in text
    assert f"its log is {output.parent / 'logs' / log}" in text


@pytest.mark.slow
def test_sigterm_stops_both_servers_and_exits_cleanly(supervisor):
    process, output, children = supervisor
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, output.read_text()
    assert all(_gone(pid) for pid in children.values())
    assert "exited with status" not in output.read_text()

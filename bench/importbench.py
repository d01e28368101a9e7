"""Step 2: the heavy user's CSV through the importer, against `psql \\copy` of the same file.

The importer runs in a process of its own (a spawned worker), so its peak RSS is its own."""

import multiprocessing
import resource
import time
from pathlib import Path

import psutil

from bench import pg

BASELINE_TABLE = "bench_copy_baseline"
COLUMNS = '("timestamp", amount, category, description)'


def baseline_table_sql(user_id: int) -> str:
    """The table `\\copy` loads: the CSV's columns with `transactions`' types, and the
    shape issue #13 names: the primary key (from a sequence, as `transactions.id`), the
    user foreign key (checked per row, every row the heavy user's) and the
    (user_id, timestamp) index (with the INCLUDE columns of the real one)."""
    return (
        f"DROP TABLE IF EXISTS {BASELINE_TABLE}; CREATE TABLE {BASELINE_TABLE} ("
        "id bigserial PRIMARY KEY, "
        f"user_id integer NOT NULL DEFAULT {int(user_id)} "
        "REFERENCES users (id) ON DELETE CASCADE, "
        '"timestamp" timestamp NOT NULL, amount numeric(12, 2) NOT NULL, '
        "category varchar(100) NOT NULL, description text); "
        f'CREATE INDEX ON {BASELINE_TABLE} (user_id, "timestamp") INCLUDE (amount, category)'
    )


def time_psql_copy(url: str, user_id: int, path: Path) -> float:
    """`\\copy` of the file into a table of the same shape (`baseline_table_sql`)."""
    pg.query(url, baseline_table_sql(user_id))
    copy = f"\\copy {BASELINE_TABLE} {COLUMNS} FROM '{path}' WITH (FORMAT csv, HEADER true)"
    started = time.perf_counter()
    pg.psql(url, "-c", copy)
    seconds = time.perf_counter() - started
    pg.query(url, f"DROP TABLE {BASELINE_TABLE}")
    return seconds


def run(url: str, heavy_user_id: int, path: Path) -> dict:
    path.read_bytes()  # both contestants read it from the page cache
    copy_seconds = time_psql_copy(url, heavy_user_id, path)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        worker = pool.apply(import_worker, (url, heavy_user_id, path))
    return {
        **worker,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "psql_copy_seconds": round(copy_seconds, 3),
        "psql_copy_table": "primary key, user foreign key, (user_id, timestamp) index",
        "ratio": round(worker["importer_seconds"] / copy_seconds, 2),
    }


def import_worker(url: str, user_id: int, path: Path) -> dict:
    """In the worker process: the file through the importer, and its figures."""
    with pg.database(url) as database:
        with database.engine.connect():
            pass  # connect and import everything before the clock and the baseline
        baseline = psutil.Process().memory_info().rss
        started = time.perf_counter()
        with path.open("rb") as stream:
            result = pg.import_file(database, user_id, stream)
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": result.total_rows,
        "importer_seconds": round(seconds, 3),
        "importer_peak_rss_mb": round(peak_kb / 1024, 1),
        "importer_baseline_rss_mb": round(baseline / 2**20, 1),
        "inserted": result.inserted,
        "skipped_duplicates": result.skipped_duplicates,
        "importer": pg.importer.__name__,
    }

"""Step 2: the heavy user's CSV through the importer, against `psql \\copy` of the same file.

The importer runs in a process of its own, so its peak RSS is its own:
python -m bench.importbench DATABASE_URL USER_ID CSV_PATH  ->  one JSON line
"""

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench import pg
from bench.config import REPO_ROOT

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
    with path.open(encoding="utf-8") as stream:
        header = str(stream.readline().strip().lower().startswith("timestamp")).lower()
    copy = f"\\copy {BASELINE_TABLE} {COLUMNS} FROM '{path}' WITH (FORMAT csv, HEADER {header})"
    started = time.perf_counter()
    pg.psql(url, "-c", copy)
    seconds = time.perf_counter() - started
    pg.query(url, f"DROP TABLE {BASELINE_TABLE}")
    return seconds


def run(url: str, heavy_user_id: int, path: Path) -> dict:
    path.read_bytes()  # both contestants read it from the page cache
    copy_seconds = time_psql_copy(url, heavy_user_id, path)
    command = [sys.executable, "-m", "bench.importbench", url, str(heavy_user_id), str(path)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"the import worker failed:\n{completed.stderr[-4000:]}")
    worker = json.loads(completed.stdout.strip().splitlines()[-1])
    return {
        **worker,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "psql_copy_seconds": round(copy_seconds, 3),
        "psql_copy_table": "primary key, user foreign key, (user_id, timestamp) index",
        "ratio": round(worker["importer_seconds"] / copy_seconds, 2),
    }


def main() -> None:
    """The import worker: the file through the importer, its figures as one JSON line."""
    url, user_id, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with pg.database(url) as database:
        with database.engine.connect():
            pass  # connect and import everything before the clock and the baseline
        baseline = psutil.Process().memory_info().rss
        started = time.perf_counter()
        with open(path, "rb") as stream:
            result = pg.import_file(database, user_id, stream)
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = {
        "rows": result.total_rows,
        "importer_seconds": round(seconds, 3),
        "importer_peak_rss_mb": round(peak_kb / 1024, 1),
        "importer_baseline_rss_mb": round(baseline / 2**20, 1),
        "inserted": result.inserted,
        "skipped_duplicates": result.skipped_duplicates,
        "importer": pg.importer.__name__,
    }
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()

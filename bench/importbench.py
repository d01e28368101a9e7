"""Step 2: the heavy user's CSV through the importer, against `psql \\copy` of the same file."""

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import pg
from bench.config import REPO_ROOT

PLAIN_TABLE = "bench_plain_copy"


def _has_header(path: Path) -> bool:
    with path.open(encoding="utf-8") as stream:
        return stream.readline().strip().lower().startswith("timestamp")


def time_psql_copy(url: str, path: Path) -> float:
    """`\\copy` into a plain table with the CSV's columns: no keys, indexes or triggers."""
    pg.psql(
        url,
        "-c",
        f"DROP TABLE IF EXISTS {PLAIN_TABLE}; CREATE TABLE {PLAIN_TABLE} ("
        '"timestamp" timestamp, amount numeric(12, 2), category varchar(100), description text)',
    )
    header = "true" if _has_header(path) else "false"
    copy = (
        f'\\copy {PLAIN_TABLE} ("timestamp", amount, category, description) '
        f"FROM '{path}' WITH (FORMAT csv, HEADER {header})"
    )
    started = time.perf_counter()
    pg.psql(url, "-c", copy)
    seconds = time.perf_counter() - started
    pg.psql(url, "-c", f"DROP TABLE {PLAIN_TABLE}")
    return seconds


def run_importer(url: str, user_id: int, path: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.import_worker", url, str(user_id), str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the import worker failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(url: str, heavy_user_id: int, path: Path) -> dict:
    path.read_bytes()  # both contestants read it from the page cache
    copy_seconds = time_psql_copy(url, path)
    importer = run_importer(url, heavy_user_id, path)
    return {
        "rows": importer["total_rows"],
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "importer_seconds": importer["seconds"],
        "psql_copy_seconds": round(copy_seconds, 3),
        "ratio": round(importer["seconds"] / copy_seconds, 2),
        "importer_peak_rss_mb": importer["peak_rss_mb"],
        "importer_baseline_rss_mb": importer["baseline_rss_mb"],
        "inserted": importer["inserted"],
        "skipped_duplicates": importer["skipped_duplicates"],
        "importer": importer["importer"],
    }

"""Step 2's importer run, in a process of its own so its peak RSS is its own.

python -m bench.import_worker DATABASE_URL USER_ID CSV_PATH  ->  one JSON line
"""

import json
import resource
import sys
import time

import psutil


def main() -> None:
    url, user_id, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    from bench.dataset import bench_settings
    from spending_api.transactions.importer import ImportOptions, import_csv
    from spending_api.db import Database

    database = Database.from_settings(bench_settings(url))
    with database.engine.connect():
        pass  # connect and import everything before the clock and the baseline
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    with database.session() as session, open(path, "rb") as stream:
        result = import_csv(session, user_id=user_id, stream=stream, options=ImportOptions())
        session.commit()
    seconds = time.perf_counter() - started
    database.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "baseline_rss_mb": round(baseline / 2**20, 1),
                "inserted": result.inserted,
                "skipped_duplicates": result.skipped_duplicates,
                "total_rows": result.total_rows,
                "importer": import_csv.__module__,
            }
        )
    )


if __name__ == "__main__":
    main()

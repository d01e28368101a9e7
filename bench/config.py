"""The sizes of the full and the quick benchmark, where its files go, and its log."""

import logging
from collections import namedtuple
from datetime import date
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PERFORMANCE_MD = REPO_ROOT / "docs" / "PERFORMANCE.md"
LOAD_TEST_RESULTS = RESULTS_DIR / "load-test.json"

# Every generated transaction falls in the three years up to this day.
END = date(2026, 10, 31)
DAYS = 3 * 365 + 1

# Each size: (full run, quick run).
SIZES = {
    "users": (1000, 5),
    "per_user": (2000, 200),
    "heavy_rows": (1_000_000, 20_000),
    "load_seconds": (10, 3),
    "load_warmup_seconds": (3, 1),
    "load_rounds": (3, 1),
    "connections": (32, 32),
    # The load test (bench.loadtest): simulated users, measured seconds, warm-up seconds.
    "load_test_users": (100, 5),
    "load_test_seconds": (60, 4),
    "load_test_warmup_seconds": (10, 1),
    "heavy_repetitions": (15, 5),
    # Step 5 (Chromium): not in the quick run.
    "browser": (True, False),
    "browser_repetitions": (5, 2),
}
Config = namedtuple("Config", ["name", *SIZES])
FULL = Config("full", *(full for full, _ in SIZES.values()))
QUICK = Config("quick", *(quick for _, quick in SIZES.values()))

log = logging.getLogger("bench").info


def log_to_stderr() -> None:
    """The benchmark's progress (the `bench` loggers) on stderr; other loggers' warnings."""
    logging.basicConfig(format="[%(name)s %(asctime)s] %(message)s")
    logging.getLogger("bench").setLevel(logging.INFO)

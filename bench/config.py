"""The sizes of the full and the quick benchmark, where its files go, and its log."""

import logging
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Config:
    name: str = "full"
    users: int = 1000
    per_user: int = 2000
    heavy_rows: int = 1_000_000
    load_seconds: float = 10
    load_warmup_seconds: float = 3
    load_rounds: int = 3
    connections: int = 32
    # The load test (bench.loadtest): simulated users, measured seconds, warm-up seconds.
    load_test_users: int = 100
    load_test_seconds: float = 60
    load_test_warmup_seconds: float = 10
    heavy_repetitions: int = 15
    browser: bool = True
    browser_repetitions: int = 5
    results_file: Path = RESULTS_DIR / "latest.json"

    @property
    def quick(self) -> bool:
        return self.name == "quick"


FULL = Config()
QUICK = replace(
    FULL,
    name="quick",
    users=5,
    per_user=200,
    heavy_rows=20_000,
    load_seconds=3,
    load_warmup_seconds=1,
    load_rounds=1,
    load_test_users=5,
    load_test_seconds=4,
    load_test_warmup_seconds=1,
    heavy_repetitions=5,
    browser=False,
    browser_repetitions=2,
    results_file=RESULTS_DIR / "quick.json",
)


def log_to_stderr() -> None:
    """The benchmark's progress (the `bench` loggers) on stderr; other loggers' warnings."""
    logging.basicConfig(format="[%(name)s %(asctime)s] %(message)s")
    logging.getLogger("bench").setLevel(logging.INFO)

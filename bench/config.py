"""The sizes of the full and the quick benchmark."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PERFORMANCE_MD = REPO_ROOT / "docs" / "PERFORMANCE.md"

# Every generated transaction falls in the three years up to this day.
END = date(2026, 10, 31)
DAYS = 3 * 365 + 1


@dataclass(frozen=True)
class Config:
    name: str
    users: int
    per_user: int
    heavy_rows: int
    load_seconds: float
    load_warmup_seconds: float
    load_rounds: int
    connections: int
    heavy_repetitions: int
    browser: bool
    browser_repetitions: int
    results_file: Path

    @property
    def quick(self) -> bool:
        return self.name == "quick"


FULL = Config(
    name="full",
    users=1000,
    per_user=2000,
    heavy_rows=1_000_000,
    load_seconds=10,
    load_warmup_seconds=3,
    load_rounds=3,
    connections=32,
    heavy_repetitions=15,
    browser=True,
    browser_repetitions=5,
    results_file=RESULTS_DIR / "latest.json",
)

QUICK = Config(
    name="quick",
    users=5,
    per_user=200,
    heavy_rows=20_000,
    load_seconds=3,
    load_warmup_seconds=1,
    load_rounds=1,
    connections=32,
    heavy_repetitions=5,
    browser=False,
    browser_repetitions=2,
    results_file=RESULTS_DIR / "quick.json",
)

"""The benchmark's users and their data: step 1 through the project's own import path
(also the load test's users), and the heavy user's CSV for step 2."""

import io
import itertools
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path

from bench import pg
from bench.config import DAYS, END
from spending_api.auth.repository import create_user
from spending_api.auth.security import hash_password
from spending_api.demo import generate_transactions, write_csv

PASSWORD = "bench-password-1"
HEAVY_USERNAME = "bench-heavy"
HEAVY_SEED = 1_000_003
TABLES = ("users", "transactions", "daily_category_spend")


def typical_username(index: int) -> str:
    return f"bench-user-{index:04d}"


@dataclass
class Users:
    typical: list[int]
    heavy: int


def create_users(url: str, count: int) -> Users:
    """`count` typical users and the heavy user (one Argon2 hash for all), without data."""
    names = [typical_username(i) for i in range(1, count + 1)] + [HEAVY_USERNAME]
    password_hash = hash_password(PASSWORD)
    with pg.database(url) as database, database.session() as session:
        ids = [
            create_user(session, username=name, password_hash=password_hash).id for name in names
        ]
        session.commit()
    return Users(typical=ids[:-1], heavy=ids[-1])


def calibrated_rate(seed: int, count: int, sample_days: int) -> float:
    """The `per_day` that gives about `count` rows over DAYS (the generator aims at its
    `per_day` only on average, with some fixed rows), measured on `sample_days` days."""
    per_day = count / DAYS
    generated = generate_transactions(seed=seed, end=END, days=sample_days, per_day=per_day)
    return per_day * (per_day * sample_days) / max(sum(1 for _ in generated), 1)


def exact_rows(seed: int, count: int, per_day: float):
    """Exactly `count` rows: 2% more are aimed at, and the last days are cut."""
    generated = generate_transactions(seed=seed, end=END, days=DAYS, per_day=per_day * 1.02)
    return itertools.islice(generated, count)


def _import_typical(args: tuple[str, list[int], int, float]) -> int:
    url, user_ids, per_user, per_day = args
    inserted = 0
    with pg.database(url) as database:
        for user_id in user_ids:
            stream = io.BytesIO()
            write_csv(exact_rows(user_id, per_user, per_day), stream)
            stream.seek(0)
            inserted += pg.import_file(database, user_id, stream).inserted
    return inserted


def import_typical_users(url: str, users: Users, per_user: int, processes: int = 2) -> dict:
    """Every typical user's `per_user` rows as a CSV through the importer, in `processes`
    parallel workers."""
    started = time.perf_counter()
    per_day = calibrated_rate(users.typical[0], per_user, DAYS)
    chunks = [(url, users.typical[i::processes], per_user, per_day) for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        inserted = sum(pool.map(_import_typical, chunks))
    return {
        "users": len(users.typical),
        "transactions": inserted,
        "seconds": round(time.perf_counter() - started, 2),
        "processes": processes,
    }


def write_heavy_csv(path: Path, rows: int) -> None:
    per_day = calibrated_rate(HEAVY_SEED, rows, 60)
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_csv(exact_rows(HEAVY_SEED, rows, per_day), stream)


def vacuum_analyze(url: str) -> float:
    """What autovacuum does after a bulk load: statistics and the visibility map."""
    started = time.perf_counter()
    for table in TABLES:
        pg.query(url, f"VACUUM ANALYZE {table}")
    return round(time.perf_counter() - started, 2)


def table_counts(url: str) -> dict[str, int]:
    return {table: pg.query(url, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}

"""Step 1: the data set, built through the project's own import path."""

import io
import itertools
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench.config import DAYS, END, Config
from spending_api.demo import generate_transactions, write_csv
from spending_api.transactions.importer import ImportOptions, import_csv
from spending_api.auth.repository import create_user
from spending_api.auth.security import hash_password
from spending_api.db import Database
from spending_api.settings import Settings

PASSWORD = "bench-password-1"
HEAVY_USERNAME = "bench-heavy"
HEAVY_SEED = 1_000_003


def typical_username(index: int) -> str:
    return f"bench-user-{index:04d}"


def bench_settings(url: str, **overrides) -> Settings:
    return Settings(_env_file=None, environment="test", database_url=url, **overrides)


@dataclass
class Users:
    typical: list[int]
    heavy: int


def create_users(url: str, config: Config) -> Users:
    database = Database.from_settings(bench_settings(url))
    password_hash = hash_password(PASSWORD)  # Argon2 once, shared by every user
    try:
        with database.session() as session:
            typical = [
                create_user(
                    session, username=typical_username(index), password_hash=password_hash
                ).id
                for index in range(1, config.users + 1)
            ]
            heavy = create_user(session, username=HEAVY_USERNAME, password_hash=password_hash).id
            session.commit()
    finally:
        database.dispose()
    return Users(typical=typical, heavy=heavy)


def calibrated_rate(seed: int, count: int, sample_days: int) -> float:
    """The `per_day` that gives about `count` rows over DAYS (the generator aims at its
    `per_day` only on average, with some fixed rows), measured on `sample_days` days."""
    per_day = count / DAYS
    sample = sum(
        1 for _ in generate_transactions(seed=seed, end=END, days=sample_days, per_day=per_day)
    )
    return per_day * (per_day * sample_days) / max(sample, 1)


def exact_rows(seed: int, count: int, per_day: float):
    """Exactly `count` rows: 2% more are aimed at, and the last days are cut."""
    generated = generate_transactions(seed=seed, end=END, days=DAYS, per_day=per_day * 1.02)
    return itertools.islice(generated, count)


def csv_bytes(rows) -> bytes:
    buffer = io.StringIO()
    write_csv(rows, buffer)
    return buffer.getvalue().encode()


def import_bytes(session, user_id: int, data: bytes):
    return import_csv(session, user_id=user_id, stream=io.BytesIO(data), options=ImportOptions())


def _import_typical(args: tuple[str, list[int], int, float]) -> int:
    url, user_ids, per_user, per_day = args
    database = Database.from_settings(bench_settings(url))
    inserted = 0
    try:
        for user_id in user_ids:
            data = csv_bytes(exact_rows(user_id, per_user, per_day))
            with database.session() as session:
                inserted += import_bytes(session, user_id, data).inserted
                session.commit()
    finally:
        database.dispose()
    return inserted


def import_typical_users(url: str, users: Users, config: Config, processes: int = 2) -> dict:
    """Every typical user's CSV through the importer, in `processes` parallel workers."""
    started = time.perf_counter()
    per_day = calibrated_rate(users.typical[0], config.per_user, DAYS)
    chunks = [users.typical[i::processes] for i in range(processes)]
    if processes == 1 or len(users.typical) < 20:
        inserted = _import_typical((url, users.typical, config.per_user, per_day))
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes) as pool:
            inserted = sum(
                pool.map(
                    _import_typical,
                    [(url, chunk, config.per_user, per_day) for chunk in chunks],
                )
            )
    return {
        "users": len(users.typical),
        "transactions": inserted,
        "seconds": round(time.perf_counter() - started, 2),
        "processes": processes if len(users.typical) >= 20 else 1,
    }


def write_heavy_csv(path: Path, rows: int) -> int:
    per_day = calibrated_rate(HEAVY_SEED, rows, 60)
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_csv(exact_rows(HEAVY_SEED, rows, per_day), stream)
    return path.stat().st_size


def vacuum_analyze(url: str) -> float:
    """What autovacuum does after a bulk load: statistics and the visibility map."""
    started = time.perf_counter()
    database = Database.from_settings(bench_settings(url))
    try:
        with database.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("users", "transactions", "daily_category_spend"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        database.dispose()
    return round(time.perf_counter() - started, 2)


def table_counts(url: str) -> dict[str, int]:
    database = Database.from_settings(bench_settings(url))
    try:
        with database.engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("users", "transactions", "daily_category_spend")
            }
    finally:
        database.dispose()

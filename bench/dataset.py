"""The benchmark's users and their data: step 1 through the project's own import path,
the heavy user's CSV for step 2, and demo accounts for the load test and bench.executors."""

import io
import itertools
import multiprocessing
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench import pg
from bench.config import DAYS, END, Config
from spending_api.auth.repository import create_user
from spending_api.auth.security import hash_password
from spending_api.demo import PERSONAS, generate_transactions, write_csv
from spending_api.transactions.importer import ImportOptions, import_csv
from spending_api.transactions.repository import insert_transactions

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


def add_users(url: str, names: list[str], password: str, rows=None) -> list[int]:
    """The users `names` (one Argon2 hash for all), each with `rows(index)`, if given,
    inserted by the repository (not the importer): their ids."""
    password_hash = hash_password(password)
    ids = []
    with pg.database(url) as database, database.session() as session:
        for index, name in enumerate(names):
            user_id = create_user(session, username=name, password_hash=password_hash).id
            if rows:
                insert_transactions(session, user_id=user_id, rows=rows(index))
            session.commit()
            ids.append(user_id)
    return ids


def create_users(url: str, config: Config) -> Users:
    """Step 1's typical users and the heavy user, without data yet."""
    names = [typical_username(i) for i in range(1, config.users + 1)] + [HEAVY_USERNAME]
    ids = add_users(url, names, PASSWORD)
    return Users(typical=ids[:-1], heavy=ids[-1])


def demo_rows(index: int, personas=tuple(sorted(PERSONAS))):
    """Two years up to today of one of `personas` (in turn): the load test's accounts."""
    persona = personas[index % len(personas)]
    return generate_transactions(seed=index, end=date.today(), days=730, persona=persona)


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
            buffer = io.StringIO()
            write_csv(exact_rows(user_id, per_user, per_day), buffer)
            stream = io.BytesIO(buffer.getvalue().encode())
            with database.session() as session:
                result = import_csv(
                    session, user_id=user_id, stream=stream, options=ImportOptions()
                )
                inserted += result.inserted
                session.commit()
    return inserted


def import_typical_users(url: str, users: Users, config: Config, processes: int = 2) -> dict:
    """Every typical user's CSV through the importer, in `processes` parallel workers
    (one for a small data set)."""
    started = time.perf_counter()
    per_day = calibrated_rate(users.typical[0], config.per_user, DAYS)
    processes = processes if len(users.typical) >= 20 else 1
    chunks = [
        (url, users.typical[i::processes], config.per_user, per_day) for i in range(processes)
    ]
    if processes == 1:
        inserted = _import_typical(chunks[0])
    else:
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

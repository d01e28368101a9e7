"""Concurrent imports of overlapping files by one user: no duplicates, no lost rows."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from spending_api.auth.security import create_access_token
from spending_api.models import DailyCategorySpend, Transaction

# Fault and load suite: `make test-slow` (it stops servers and waits on real processes).
pytestmark = pytest.mark.fault

DISTINCT = 1000
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _line(i: int) -> str:
    # Rows 500 and 501 are the same purchase made twice: both must be kept, once.
    n = 500 if i == 501 else i
    return (
        f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00,{n % 300 + 1}.75,C{n % 5},p{n}"
    )


def _file(first: int, last: int) -> bytes:
    lines = ["timestamp,amount,category,description"] + [_line(i) for i in range(first, last)]
    return ("\n".join(lines) + "\n").encode()


FILES = {
    "a": (0, 600),
    "b": (400, 1000),
    "c": (200, 800),
    "all": (0, 1000),
}


@pytest.mark.slow
def test_overlapping_imports_at_once(api_server, database_url, database, make_user):
    """Eight uploads (four overlapping files, each twice) at the same moment, to a two-worker
    API: every row is stored exactly once, the inserted counts add up to that, and the rollup
    equals the table."""
    user = make_user()
    token = create_access_token(user_id=user.id, secret_key=SECRET, lifetime=timedelta(minutes=10))
    server = api_server(database_url=database_url, workers=2, extra_env={"SECRET_KEY": SECRET})
    uploads = [name for name in FILES for _ in range(2)]

    def upload(name: str) -> dict:
        first, last = FILES[name]
        with httpx.Client(base_url=server.url, timeout=60) as http:
            response = http.post(
                "/transactions/import",
                files={"file": (f"{name}.csv", _file(first, last), "text/csv")},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text
        return {"name": name, **response.json()}

    with ThreadPoolExecutor(max_workers=len(uploads)) as pool:
        results = list(pool.map(upload, uploads))

    for result in results:
        first, last = FILES[result["name"]]
        assert result["total_rows"] == last - first
        assert result["inserted"] + result["skipped_duplicates"] == result["total_rows"]
    assert sum(result["inserted"] for result in results) == DISTINCT

    with database.session() as session:
        stored = session.execute(
            select(Transaction.description, func.count())
            .where(Transaction.user_id == user.id)
            .group_by(Transaction.description)
        ).all()
        total = session.scalar(
            select(func.sum(Transaction.amount)).where(Transaction.user_id == user.id)
        )
        rollup_count, rollup_total = session.execute(
            select(
                func.sum(DailyCategorySpend.transaction_count), func.sum(DailyCategorySpend.total)
            ).where(DailyCategorySpend.user_id == user.id)
        ).one()
    counts = dict(stored)
    assert len(counts) == DISTINCT - 1
    assert counts["p500"] == 2
    assert all(n == 1 for name, n in counts.items() if name != "p500")
    expected_total = sum(Decimal(_line(i).split(",")[1]) for i in range(DISTINCT))
    assert Decimal(total) == expected_total
    assert rollup_count == DISTINCT
    assert Decimal(rollup_total) == expected_total

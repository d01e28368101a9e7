"""Fixtures for the import and export tests: uploading files and reading back what was stored."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from spending_api.models import DailyCategorySpend, Transaction

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


def _file_poster(client, auth_headers, path: str) -> Callable:
    def post(user, content: bytes, filename: str = "file.csv", account_id=None, **params):
        return client.post(
            path,
            headers=auth_headers(user),
            files={"file": (filename, content, "text/csv")},
            data={} if account_id is None else {"account_id": str(account_id)},
            params=params,
        )

    return post


@pytest.fixture
def upload(client, auth_headers) -> Callable:
    """upload(user, content_bytes, filename="file.csv", account_id=None, **query) -> response"""
    return _file_poster(client, auth_headers, "/transactions/import")


@pytest.fixture
def preview(client, auth_headers) -> Callable:
    """preview(user, content_bytes, filename="file.csv", **query) -> response (nothing stored)"""
    return _file_poster(client, auth_headers, "/transactions/import/preview")


@pytest.fixture
def stored(database) -> Callable:
    """stored(user) -> [(timestamp, amount, category, description), ...] oldest first."""

    def rows(user) -> list[tuple]:
        with database.session() as session:
            statement = (
                select(
                    Transaction.timestamp,
                    Transaction.amount,
                    Transaction.category,
                    Transaction.description,
                )
                .where(Transaction.user_id == user.id)
                .order_by(Transaction.timestamp, Transaction.id)
            )
            return [tuple(row) for row in session.execute(statement)]

    return rows


@pytest.fixture
def rollup_total(database) -> Callable:
    """rollup_total(user) -> (sum, count) from the daily rollup the triggers maintain."""

    def total(user) -> tuple[Decimal, int]:
        with database.session() as session:
            amount, count = session.execute(
                select(
                    func.coalesce(func.sum(DailyCategorySpend.total), 0),
                    func.coalesce(func.sum(DailyCategorySpend.transaction_count), 0),
                ).where(DailyCategorySpend.user_id == user.id)
            ).one()
        return Decimal(amount).quantize(Decimal("0.01")), int(count)

    return total

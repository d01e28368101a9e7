"""Classification at import: what the standard files say about each row, read by hand from
the fixture files in tests/ingest/data (QIF's [Account], OFX TRNTYPE, CAMT.053 bank
transaction codes, card payments, refunds, payroll)."""

from pathlib import Path

import pytest
from sqlalchemy import select

from spending_api.models import Category, Transaction

DATA = Path(__file__).resolve().parents[1] / "ingest" / "data"

# file -> [(amount, category, category_source, kind)], in any order.
BY_HAND = {
    "bank-dayfirst.qif": [
        ("54.20", "Groceries", "bank", "spending"),  # LGroceries
        ("-1850.00", "Salary", "bank", "income"),  # LSalary
        ("300.00", "Savings", "bank", "transfer"),  # L[Savings]: another account
    ],
    "checking-ofx1.ofx": [
        ("42.17", "Uncategorized", "default", "spending"),
        ("-2150.00", "Salary", "bank", "income"),  # DIRECTDEP, PAYROLL
        ("500.00", "Transfer", "bank", "transfer"),  # XFER
        ("120.00", "Uncategorized", "default", "spending"),  # CHECK
    ],
    "statement.camt053.xml": [
        ("-2450.00", "Salary", "bank", "income"),  # SubFmlyCd SALA, "Gehalt"
        ("64.90", "Uncategorized", "default", "spending"),
        ("400.00", "Transfer", "bank", "transfer"),  # BOOK, "Umbuchung"
    ],
    "card-ofx2.qfx": [
        ("18.40", "Uncategorized", "default", "spending"),
        ("-9.99", "Uncategorized", "bank", "spending"),  # REFUND lowers spending
        ("-250.00", "Credit card payment", "bank", "transfer"),  # PAYMENT THANK YOU
    ],
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_standard_files_are_classified_by_what_they_say(name, make_user, upload, database):
    user = make_user()

    response = upload(user, (DATA / name).read_bytes(), filename=name)

    assert response.status_code == 200, response.text
    with database.session() as session:
        rows = session.execute(
            select(
                Transaction.amount,
                Transaction.category,
                Transaction.category_source,
                Category.kind,
            )
            .join(
                Category,
                (Category.user_id == Transaction.user_id) & (Category.name == Transaction.category),
            )
            .where(Transaction.user_id == user.id)
            .order_by(Transaction.timestamp, Transaction.id)
        ).all()
    assert sorted((f"{amount}", *rest) for amount, *rest in rows) == sorted(BY_HAND[name])

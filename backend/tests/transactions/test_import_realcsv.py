"""The real bank exports in ../shared/realcsv/, each imported through POST /transactions/import,
then `total_spend` and `total_income` read back through GET /metrics.

The count, money out and money in of each file are the ones the ingest tests worked out
by reading the files by hand (testkit/realcsv.py), reused here. The spend and
income figures below were written by reading each file as a careful person would:
salary, deposits and money received from others are income (on a card: a merchant's
credit is a refund); card payments, moves
between the person's own accounts (savings, brokerage, pension, wallet top-ups) are
neither; refunds, cashback and fee waivers lower spending; cash withdrawals and payments
to other people are spending. Where the importer reads a file differently, the test is
marked xfail (strict) with the reason, so the error stays visible and a fix shows up.
The files stay outside the repository.
"""

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from spending_api.models import Account, Category, Transaction
from testkit.realcsv import EXPECTED, REAL

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"the shared real-export corpus is not here ({REAL})"
)

# file -> (total_spend, total_income), from reading the file.
READ_BY_HAND = {
    "bank2ynab-amex-uk.csv": ("1385.80", "0"),  # the 1,100.00 in is the card being paid
    "bank2ynab-bunq-nl.csv": ("23.82", "0"),  # two Cloudflare refunds
    "bank2ynab-dbs-posb-sg.csv": ("173.28", "0"),
    "bank2ynab-rabobank-nl.csv": ("1087.49", "50.00"),  # a lottery win
    "csv2ofx-capitalone-card.csv": ("1000.00", "0"),  # autopay: the card paid
    # Nómina in; a transfer from the person's own account; a refund and two cashbacks.
    "csv2ofx-ing-spain.csv": ("1543.90", "1394.11"),
    "csv2ofx-mint-cr-lineends.csv": ("0", "0"),  # four account transfers
    # Jane Doe's standing order in is filed by the bank (Outbank) as Financials &
    # Precautions / Subcategory 'Refund': money back, not pay. 63.89 + 47.00 + 25.00 -
    # 100.00 = 35.89 spent, nothing earned (was 135.89 / 100.00, reading past the 'Refund').
    "csv2ofx-outbank-de.csv": ("35.89", "0"),
    "csv2ofx-payoneer.csv": ("100.00", "120.00"),
    "csv2ofx-pc-mastercard-ca.csv": ("50.31", "0"),
    "csv2ofx-schwab-checking.csv": ("178.00", "20.00"),  # a PayPal transfer is neither
    "csv2ofx-ubs-ch-fr.csv": ("210.00", "240.00"),
    # Salary, a cash deposit, interest; a refund and cashback; the ATM withdrawal is spent.
    "cvigo-n26.csv": ("15074.04", "2702.45"),
    # Broker, pension and the 'finances' bank transfers are moves of the person's money.
    "cvigo-neon-ch.csv": ("8455.96", "49200.59"),
    "cvigo-zkb-ch.csv": ("525.50", "5075.00"),
    "dkb-giro-de.csv": ("180.05", "2.17"),  # the account's closing credit
    "dkb-visa-de.csv": ("125.42", "5.58"),  # an Amazon refund, interest
    # 55 + 25 + 180 + 12 = 272.00 spent; the salary 1,280.80 is the income. The 4,884 in
    # under Monefy's 'Savings' is money taken from savings (the file's own source books it
    # against assets:Savings), a transfer like To/From 'Payment card'; was 6164.80.
    "hledger-monefy-app.csv": ("272.00", "1280.80"),
    "hledger-paypal-custom.csv": ("15.99", "9.41"),
    "jbms-mint.csv": ("2.45", "0"),  # a card payment and its transfer out
    # Brokerage transfers out and in are neither; an ATM fee rebate lowers the fees.
    "jbms-schwab-eac-checking.csv": ("1255.04", "23736.21"),
    "jbms-venmo.csv": ("1009.58", "2573.73"),  # standard transfers to the bank are neither
    "ofxstatement-ing-de-umsatzanzeige.csv": ("228.60", "50.00"),
    "ofxstatement-ing-diba-at.csv": ("1534.56", "522.23"),  # 'Umbuchung von 003' is neither
    "ofxstatement-ing-nl.csv": ("0.62", "20.00"),  # a fee waived (Kwijtschelding)
    "ofxstatement-johnlewis-card-uk.csv": ("358.56", "0"),  # the card's direct debit
    # Every Overboeking goes between the Janssens' own accounts and comes back; interest.
    "ofxstatement-knab-nl.csv": ("0", "7.02"),
    "ofxstatement-lloyds-uk.csv": ("6381.99", "2500.00"),
    "ofxstatement-revolut-2022-01.csv": ("413.44", "0"),  # a transfer to a person; a top-up
    "ofxstatement-sparkasse-de-camt.csv": ("1263.97", "1410.22"),  # the card's settlement
    "ofxstatement-wise.csv": ("368.90", "125.00"),  # a top-up is neither
    "ofxstatement-woolworths-money-au.csv": ("78.02", "3.14"),
    "paisa-icici-creditcard-in.csv": ("1370.37", "0"),
    "paisa-paytm-wallet-in.csv": ("3380.00", "0"),  # every money in is a top-up
    "reckon-banco-do-brasil.csv": ("495.00", "1300.00"),
    "reckon-chase-headerless.csv": ("145.19", "7183.52"),  # a PayPal transfer is neither
    "reckon-fr-bank-preamble.csv": ("8.10", "50.00"),
    "reckon-nationwide-headerless.csv": ("139.77", "500.00"),
    "reds-dcu-checking-us.csv": ("0", "16423.03"),  # transfers to the member's own accounts
}

# Where the importer's reading differs from the hand's, and why (spend, income as read).
DIFFERENCES: dict[str, str] = {}

# Card exports go to a credit card account, as their owner would import them.
CARD_FILES = {
    "bank2ynab-amex-uk.csv",
    "csv2ofx-capitalone-card.csv",
    "csv2ofx-pc-mastercard-ca.csv",
    "dkb-visa-de.csv",
    "ofxstatement-johnlewis-card-uk.csv",
    "paisa-icici-creditcard-in.csv",
}
CENT = Decimal("0.01")


def _query(options: dict | None) -> dict:
    """The confirmed options as the API takes them: `mapping` is a JSON object."""
    query = dict(options or {})
    if "mapping" in query:
        query["mapping"] = json.dumps(query["mapping"])
    return query


def _by_kind(database, user) -> tuple[Decimal, Decimal]:
    """Spend and income by MODEL.md's definition, from the stored rows and their
    categories' kinds: for a /metrics that does not give total_income yet."""
    with database.session() as session:
        totals = dict(
            session.execute(
                select(Category.kind, func.sum(Transaction.amount))
                .join(
                    Category,
                    (Category.user_id == Transaction.user_id)
                    & (Category.name == Transaction.category),
                )
                .where(Transaction.user_id == user.id)
                .group_by(Category.kind)
            ).all()
        )
    return totals.get("spending") or Decimal(0), -(totals.get("income") or Decimal(0))


def _cases() -> list:
    cases = []
    for name in sorted(EXPECTED):
        marks = (
            [pytest.mark.xfail(strict=True, reason=DIFFERENCES[name])]
            if name in DIFFERENCES
            else []
        )
        cases.append(pytest.param(name, marks=marks, id=name))
    return cases


def test_every_file_has_figures_read_by_hand():
    assert sorted(READ_BY_HAND) == sorted(EXPECTED) == sorted(p.name for p in REAL.glob("*.csv"))


@pytest.mark.parametrize("name", _cases())
def test_real_export_imports_with_the_figures_of_a_careful_reader(
    name, make_user, upload, stored, client, auth_headers, database
):
    expected = EXPECTED[name]
    user = make_user()
    account_id = None
    if name in CARD_FILES:
        with database.session() as session:
            card = Account(user_id=user.id, name="Card", kind="credit_card")
            session.add(card)
            session.commit()
            account_id = card.id

    response = upload(
        user,
        (REAL / name).read_bytes(),
        filename=name,
        account_id=account_id,
        **_query(expected.options),
    )

    assert response.status_code == 200, response.text
    amounts = [row[1] for row in stored(user)]
    money_out = sum((amount for amount in amounts if amount > 0), Decimal(0))
    money_in = -sum((amount for amount in amounts if amount < 0), Decimal(0))
    assert len(amounts) == expected.rows
    assert (money_out, money_in) == (Decimal(expected.money_out), Decimal(expected.money_in))
    answer = response.json()
    assert answer["inserted"] == answer["total_rows"] == expected.rows
    assert answer["skipped_row_count"] == sum(expected.skipped.values())
    assert len(answer["skipped_rows"]) == answer["skipped_row_count"]

    metrics = client.get("/metrics", headers=auth_headers(user))
    assert metrics.status_code == 200
    figures = metrics.json()
    if "total_income" in figures:
        spend, income = (
            Decimal(str(figures[key])).quantize(CENT) for key in ("total_spend", "total_income")
        )
    else:
        spend, income = _by_kind(database, user)
    assert (spend, income) == tuple(Decimal(figure) for figure in READ_BY_HAND[name])

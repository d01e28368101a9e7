"""Learned suggestions: merchant memory, the classifier, abstaining, refunds, provenance
and retraining."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from spending_api.categorize.ledger import CategorySource, LedgerRow
from spending_api.categorize.suggest import (
    Reason,
    Suggester,
    SuggesterCache,
    SuggesterConfig,
)

START = datetime(2025, 1, 1, 9, 0)


class Ledger:
    """Builds rows with increasing ids and timestamps."""

    def __init__(self) -> None:
        self.rows: list[LedgerRow] = []
        self.opened = 0

    def add(self, description, amount, category=None, source=CategorySource.BANK, **fields):
        row = LedgerRow(
            id=len(self.rows) + 1,
            description=description,
            amount=Decimal(amount),
            timestamp=START + timedelta(hours=len(self.rows)),
            category=category,
            category_source=source if category else CategorySource.DEFAULT,
            **fields,
        )
        self.rows.append(row)
        return row

    def open(self, description, amount, **fields) -> LedgerRow:
        """A row after the history, without a category (unless given)."""
        self.opened += 1
        return LedgerRow(
            id=10_000 + self.opened,
            description=description,
            amount=Decimal(amount),
            timestamp=START + timedelta(days=365),
            **fields,
        )


@pytest.fixture
def ledger() -> Ledger:
    """A small history: groceries, dining, fuel, salary and shopping, several spellings."""
    book = Ledger()
    for week in range(12):
        book.add(f"GREEN BASKET MARKET #{1000 + week}", "84.10", "Groceries")
        book.add(f"SQ *Sakura Sushi {week + 1:02d}/03", "31.50", "Dining out")
        book.add(f"SHELL FUEL {4400 + week} LONDON", "61.00", "Fuel")
        book.add("ESSO FUEL STATION", "55.00", "Fuel")
        book.add(f"AMAZON MKTPL*{week}AB12C", "23.99", "Shopping")
    for month in range(6):
        book.add("ACME INC SALARY", "-2500.00", "Income")
        book.add("Interest paid", "-1.20", "Income")
    return book


def test_the_same_merchant_in_another_spelling_gets_its_category(ledger):
    suggester = Suggester.train(ledger.rows)

    [answer] = suggester.suggest([ledger.open("AMZN Mktp US*2K4", "12.00")])

    assert answer.category == "Shopping"
    assert answer.reason == Reason.MERCHANT
    assert suggester.config.threshold <= answer.confidence <= 1


def test_an_unseen_merchant_is_placed_by_the_classifier_from_its_words(ledger):
    suggester = Suggester.train(ledger.rows)

    [answer] = suggester.rank([ledger.open("TEXACO FUEL 0093", "58.00")])

    assert answer.category == "Fuel" and answer.reason == Reason.MODEL
    assert 0 < answer.confidence < 1


def test_it_abstains_when_it_knows_nothing(ledger):
    empty = Suggester.train([])
    # One merchant seen once, among nothing else: a hint, not enough to answer.
    once = Suggester.train([ledger.rows[0]])

    assert empty.suggest([ledger.open("GREEN BASKET MARKET", "80.00")]) == [None]
    assert empty.rank([ledger.open("GREEN BASKET MARKET", "80.00")]) == [None]
    assert once.suggest([ledger.open("GREEN BASKET MARKET", "80.00")]) == [None]
    assert once.rank([ledger.open("GREEN BASKET MARKET", "80.00")])[0].category == "Groceries"


def test_a_merchant_the_user_splits_between_categories_is_not_answered(ledger):
    for index in range(6):
        ledger.add("MEGAMART ONLINE", "40.00", "Groceries" if index % 2 else "Home")
    suggester = Suggester.train(ledger.rows)

    [ranked] = suggester.rank([ledger.open("MEGAMART ONLINE *X1", "40.00")])

    assert ranked.confidence < suggester.config.threshold
    assert suggester.suggest([ledger.open("MEGAMART ONLINE *X1", "40.00")]) == [None]


def test_a_merchant_the_user_splits_by_size_is_answered_by_size(ledger):
    for index in range(8):
        ledger.add(
            "MEGAMART ONLINE",
            "12.00" if index % 2 else "400.00",
            "Groceries" if index % 2 else "Home",
        )
    suggester = Suggester.train(ledger.rows)

    small, large = suggester.suggest(
        [ledger.open("MEGAMART ONLINE *X1", "9.50"), ledger.open("MEGAMART ONLINE", "350.00")]
    )

    assert (small.category, large.category) == ("Groceries", "Home")


def test_rows_the_user_or_a_rule_categorized_get_no_suggestion(ledger):
    suggester = Suggester.train(ledger.rows)
    kept = [
        ledger.open("AMZN Mktp US*2K4", "12.00", category="Gifts", category_source=source)
        for source in (CategorySource.USER, CategorySource.RULE)
    ]

    assert suggester.rank(kept) == [None, None]
    assert suggester.changes(kept) == []


def test_only_default_and_learned_categories_are_replaced_by_themselves(ledger):
    suggester = Suggester.train(ledger.rows)
    rows = [
        ledger.open("AMZN Mktp US*2K4", "12.00"),
        ledger.open("AMZN Mktp US*2K4", "12.00", category="Misc", category_source="bank"),
        ledger.open("AMZN Mktp US*2K4", "12.00", category="Misc", category_source="learned"),
        ledger.open("AMZN Mktp US*2K4", "12.00", category="Shopping", category_source="learned"),
    ]

    changes = suggester.changes(rows)

    assert [change.row.id for change in changes] == [rows[0].id, rows[2].id]
    assert all(change.suggestion.category == "Shopping" for change in changes)
    # The bank's own category still gets a suggestion to review, it is just not applied.
    assert suggester.suggest(rows)[1].category == "Shopping"


def test_money_back_from_a_shop_is_a_refund_in_the_purchase_category(ledger):
    suggester = Suggester.train(ledger.rows)
    refund = ledger.open("Refund: AMAZON MKTPL*ZZ99", "-23.99")
    # A money-in row from a payer never bought from is not a refund.
    unknown = ledger.open("ACME INC SALARY", "-2500.00")

    answers = suggester.suggest([refund, unknown])

    assert answers[0].category == "Shopping" and answers[0].reason == Reason.REFUND
    assert answers[1].category == "Income" and answers[1].reason != Reason.REFUND


def test_a_money_in_row_before_the_first_purchase_is_not_a_refund(ledger):
    later = Ledger()
    later.rows = list(ledger.rows)
    later.add("COSY CABIN RENTALS", "400.00", "Travel")
    suggester = Suggester.train(later.rows)
    before_purchase = LedgerRow(
        id=99_999,
        description="COSY CABIN RENTALS",
        amount=Decimal("-400.00"),
        timestamp=START - timedelta(days=1),
    )

    [answer] = suggester.rank([before_purchase])

    assert answer is None or answer.reason != Reason.REFUND


def test_its_own_guesses_are_not_learnt_from(ledger):
    guesses = [
        LedgerRow(**{**row.__dict__, "category_source": CategorySource.LEARNED})
        for row in ledger.rows
    ]

    assert Suggester.train(guesses).rank([ledger.open("AMZN Mktp US*2K4", "12.00")]) == [None]


def test_training_is_bounded_to_the_newest_rows():
    book = Ledger()
    shops = ("ALPHA SHOP", "BRAVO SHOP", "CHARLIE SHOP", "DELTA SHOP")
    for index in range(100):
        book.add(f"OLD {shops[index % 4]}", "10.00", "Old")
    for index in range(40):
        book.add(shops[index % 4], "10.00", "New" if index % 2 else "Newer")
    config = SuggesterConfig(max_training_rows=40, max_memory_rows=60)

    suggester = Suggester.train(book.rows, config)

    assert set(suggester.model.classes_) == {"New", "Newer"}
    assert suggester.trained_rows == 60
    assert sum(suggester.memory["old alph"].values()) == 5  # of the 25 old rows


def test_the_cache_retrains_when_the_data_changed_but_not_more_often_than_allowed(ledger):
    now = [0.0]
    loads = []
    cache = SuggesterCache(min_retrain_seconds=60, clock=lambda: now[0], max_users=2)

    def history():
        loads.append(len(ledger.rows))
        return list(ledger.rows)

    first = cache.get(user_id=1, data_version=1, load_history=history)
    assert cache.get(user_id=1, data_version=1, load_history=history) is first
    ledger.add("NEW MERCHANT FLOWERS", "20.00", "Gifts")
    ledger.add("NEW MERCHANT FLOWERS", "22.00", "Gifts")
    now[0] = 30.0
    assert cache.get(user_id=1, data_version=2, load_history=history) is first
    now[0] = 61.0
    second = cache.get(user_id=1, data_version=2, load_history=history)

    assert second is not first
    assert second.rank([ledger.open("NEW MERCHANT FLOWERS", "21")])[0].category == "Gifts"
    assert loads == [len(ledger.rows) - 2, len(ledger.rows)]
    # Least recently used users are dropped beyond max_users.
    cache.get(user_id=2, data_version=1, load_history=history)
    cache.get(user_id=3, data_version=1, load_history=history)
    assert cache.get(user_id=1, data_version=2, load_history=history) is not second


def test_the_review_queue_holds_the_open_and_unsure_rows_largest_first(ledger):
    for index in range(6):
        ledger.add("MEGAMART ONLINE", "40.00", "Groceries" if index % 2 else "Home")
    suggester = Suggester.train(ledger.rows)
    sure = ledger.open("AMZN Mktp US*2K4", "12.00", category="Shopping", category_source="learned")
    unsure = ledger.open("MEGAMART ONLINE", "40.00", category="Home", category_source="learned")
    small_open = ledger.open("AMZN Mktp US*2K4", "-3.00")
    large_open = ledger.open("UNKNOWN PLACE", "250.00")
    users = ledger.open("MEGAMART ONLINE", "900.00", category="Gifts", category_source="user")
    bank = ledger.open("MEGAMART ONLINE", "800.00", category="Misc", category_source="bank")

    queue = suggester.review_queue([sure, unsure, small_open, large_open, users, bank])

    assert [row for row, _ in queue] == [large_open, unsure, small_open]
    assert queue[2][1].category == "Shopping"  # the refund of a known purchase, to accept

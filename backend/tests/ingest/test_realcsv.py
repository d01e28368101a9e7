"""The real bank exports in ../shared/realcsv/ (testkit.realcsv), read with no options or
one confirmed mapping: each as a careful reader reads it."""

from collections import Counter
from decimal import Decimal

import pytest

from spending_api.ingest import ParseOptions, parse
from testkit.realcsv import EXPECTED, REAL

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"the shared real-export corpus is not here ({REAL})"
)


def _reason(text: str) -> str:
    if text.startswith("continuation"):
        return "continuation"
    return text.split(":")[0].split(" (")[0]


def _read(name: str, options: dict | None):
    parsed = parse((REAL / name).read_bytes(), filename=name, options=ParseOptions(**options or {}))
    return parsed, list(parsed.rows())


def test_every_file_of_the_corpus_has_expected_figures():
    assert sorted(path.name for path in REAL.glob("*.csv")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_export_reads_as_a_careful_reader_does(name):
    expected = EXPECTED[name]

    parsed, rows = _read(name, expected.options)

    assert parsed.detection.undecided == []
    assert len(rows) == expected.rows
    out = sum((row.amount for row in rows if row.amount > 0), Decimal(0))
    money_in = -sum((row.amount for row in rows if row.amount < 0), Decimal(0))
    assert (out, money_in) == (Decimal(expected.money_out), Decimal(expected.money_in))
    dates = sorted(row.timestamp.date().isoformat() for row in rows)
    assert (dates[0], dates[-1]) == (expected.first, expected.last)
    by_line = {row.line: row for row in rows}
    for line, timestamp, amount, description in expected.samples:
        row = by_line[line]
        assert (row.timestamp.isoformat(sep=" "), str(row.amount), row.description) == (
            timestamp,
            amount,
            description,
        )
    kinds: dict[str, tuple[int, Decimal]] = {}
    for row in rows:
        if row.kind_hint:
            count, total = kinds.get(row.kind_hint, (0, Decimal(0)))
            kinds[row.kind_hint] = (count + 1, total + row.amount)
    assert kinds == {
        kind: (count, Decimal(total)) for kind, (count, total) in expected.kinds.items()
    }
    assert Counter(_reason(skip.reason) for skip in parsed.skipped) == expected.skipped


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e.options))
def test_files_that_need_a_confirmation_say_what_to_confirm(name):
    parsed, rows = _read(name, None)

    assert parsed.detection.undecided, "a guess must be listed for the user to confirm"
    assert any(word in " ".join(parsed.detection.undecided) for word in ("mapping", "date_format"))
    assert rows  # the preview still shows the rows as guessed


def test_the_table_of_the_corpus():
    """39 files: 35 read with no options, 4 after confirming once, none refused. The two
    with a header that still ask: every date has a day <= 12, the rows are on one day, and
    the one other clue, USD, is read as month first but proves nothing (Payoneer is
    MM/DD, Monefy's source reads its USD file as DD/MM)."""
    confirmed = sorted(name for name, expected in EXPECTED.items() if expected.options)
    assert confirmed == [
        "csv2ofx-payoneer.csv",
        "hledger-monefy-app.csv",
        "reckon-chase-headerless.csv",
        "reckon-nationwide-headerless.csv",
    ]
    assert len(EXPECTED) - len(confirmed) == 35

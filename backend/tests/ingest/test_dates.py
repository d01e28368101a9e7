"""Date shapes and the file-wide decision of their format."""

from datetime import datetime

import pytest

from spending_api.ingest.dates import (
    DateEvidence,
    DateHint,
    check_date_format,
    currency_hint,
    parse_time_of_day,
    strptime_format,
)


def _evidence(*values):
    evidence = DateEvidence()
    for value in values:
        evidence.add(value)
    return evidence


def _decide(*values, hints=()):
    return _evidence(*values).decide(hints)


@pytest.mark.parametrize(
    ("value", "expected", "has_time"),
    [
        ("2025-03-04", datetime(2025, 3, 4), False),
        ("2017-04-25T03:15:53", datetime(2017, 4, 25, 3, 15, 53), True),
        ("2025/03/04", datetime(2025, 3, 4), False),
        ("20250304", datetime(2025, 3, 4), False),
        ("20091224120000[0:GMT]", datetime(2009, 12, 24, 12), True),
        ("12-Dec-2019", datetime(2019, 12, 12), False),
        ("01 Jan 01", datetime(2001, 1, 1), False),
        ("3 janv. 2025", datetime(2025, 1, 3), False),
        ("15 März 2025", datetime(2025, 3, 15), False),
        ("2 maggio 2025", datetime(2025, 5, 2), False),
        ("Feb 7, 2025", datetime(2025, 2, 7), False),
        ("03.04.18", datetime(2018, 4, 3), False),
        ("24-08-2020 13:43:54.496", datetime(2020, 8, 24, 13, 43, 54, 496000), True),
        ("30/12/2023 23:38:11", datetime(2023, 12, 30, 23, 38, 11), True),
    ],
)
def test_each_shape_reads_alone(value, expected, has_time):
    date_format, undecided = _decide(value, "28.12.2025" if "." in value[:3] else value)

    assert date_format.parse(value) == (expected, has_time)


def test_day_month_order_comes_from_the_whole_column():
    us, undecided = _decide("6/12/15", "6/13/15")
    assert us.name == "MM/DD/YYYY" and undecided is None
    assert us.parse("6/12/15")[0] == datetime(2015, 6, 12)
    eu, undecided = _decide("6/1/2024 17:42", "30/12/2023 23:38:11")
    assert eu.name == "DD/MM/YYYY" and undecided is None
    assert eu.parse("6/1/2024 17:42")[0] == datetime(2024, 1, 6, 17, 42)


def test_ambiguous_order_is_a_guess_listed_for_the_user():
    guess, undecided = _decide("01/02/2025", "03/04/2025")

    assert guess.parse("01/02/2025")[0] == datetime(2025, 2, 1)
    assert "date_format" in undecided


def test_dotted_dates_are_day_first_and_unreadable_columns_say_what_to_do():
    dotted, undecided = _decide("01.02.2025")
    assert dotted.name == "DD.MM.YYYY" and undecided is None
    none, message = _decide("yesterday", "last week")
    assert none is None and "date_format" in message
    none, message = _decide("13/14/2025", "14/13/2025")
    assert none is None and "neither" in message


def test_pending_words_are_not_dates_and_not_counted():
    evidence = DateEvidence()
    evidence.add("Pending")
    evidence.add("12-Dec-2019")

    assert evidence.counts == {"dMy": 1} and evidence.others == 0


def test_twelve_hour_times_and_the_users_own_pattern():
    assert parse_time_of_day("06:50 PM") == (18, 50, 0, 0)
    assert parse_time_of_day("12:05 am") == (0, 5, 0, 0)
    assert parse_time_of_day("03:46:20") == (3, 46, 20, 0)
    own = strptime_format("%d/%m/%Y")
    assert own.parse("05/03/2021 12:31:46") == (datetime(2021, 3, 5, 12, 31, 46), True)
    with pytest.raises(ValueError):
        own.parse("2021-03-05")


def test_a_pattern_that_cannot_read_its_own_dates_is_refused():
    check_date_format("%d.%m.%Y")
    with pytest.raises(ValueError, match="strftime pattern"):
        check_date_format("%H:%M")


# Dates a bank lists newest first, every day <= 12. Read day first they run down without a
# break (12 Mar, 5 Mar, 10 Feb, 3 Feb, 11 Jan, 2 Jan); read month first they jump back and
# forth (Dec 3, May 3, Oct 2, Mar 2, Nov 1, Feb 1).
SORTED_DAY_FIRST = (
    "12/03/2024",
    "05/03/2024",
    "10/02/2024",
    "03/02/2024",
    "11/01/2024",
    "02/01/2024",
)
# Oldest first, month first: Jan 5, Jan 10, Feb 3, Feb 8, Mar 1, Mar 6 (day first:
# 1 May, 1 Oct, 2 Mar, 2 Aug, 3 Jan, 3 Jun).
SORTED_MONTH_FIRST = ("01/05/2024", "01/10/2024", "02/03/2024", "02/08/2024", "03/01/2024")


def test_the_reading_under_which_the_rows_are_in_date_order_decides():
    day_first, undecided = _decide(*SORTED_DAY_FIRST)
    assert day_first.name == "DD/MM/YYYY" and undecided is None
    month_first, undecided = _decide(*SORTED_MONTH_FIRST, "03/06/2024")
    assert month_first.name == "MM/DD/YYYY" and undecided is None


def test_order_is_no_evidence_when_both_readings_are_ordered_or_too_short():
    _, undecided = _decide("01/02/2025", "03/04/2025", "05/06/2025")  # both run up
    assert "date_format" in undecided
    _, undecided = _decide("02/01/2024", "01/03/2024", "05/02/2024")  # one break only
    assert "date_format" in undecided
    runs = _evidence(*SORTED_DAY_FIRST).runs
    assert (runs["dmy"].ups, runs["dmy"].downs) == (0, 5)
    assert runs["mdy"].disorder == 2


def test_a_strong_hint_decides_and_a_weak_one_only_picks_the_reading_to_confirm():
    comma = DateHint("dmy", "the amounts are written with a decimal comma")
    usd = DateHint("mdy", "the amounts are in USD", strong=False)

    decided, undecided = _decide("01/02/2025", "01/02/2025", hints=(comma,))
    assert decided.name == "DD/MM/YYYY" and undecided is None
    guess, undecided = _decide("01/02/2025", hints=(usd,))
    assert guess.parse("01/02/2025")[0] == datetime(2025, 1, 2)
    assert "because the amounts are in USD" in undecided and "date_format=%d/%m/%Y" in undecided
    decided, undecided = _decide("01/02/2025", hints=(usd, comma))  # the strong one wins
    assert decided.name == "DD/MM/YYYY" and undecided is None
    # The values still come first: a day above 12 is proof, whatever the hints say.
    decided, _ = _decide("01/02/2025", "01/13/2025", hints=(comma,))
    assert decided.name == "MM/DD/YYYY"


def test_conflicting_strong_hints_leave_the_default_guess_listed():
    hints = (DateHint("dmy", "a"), DateHint("mdy", "b"))
    guess, undecided = _decide("01/02/2025", hints=hints)

    assert guess.name == "DD/MM/YYYY" and "date_format=%m/%d/%Y" in undecided


@pytest.mark.parametrize(
    ("codes", "expected"),
    [({"INR"}, ("dmy", True)), ({"EUR"}, ("dmy", True)), ({"USD"}, ("mdy", False))],
)
def test_the_currency_of_the_amounts_hints_the_order(codes, expected):
    hint = currency_hint(codes)
    assert (hint.order, hint.strong) == expected


def test_no_currency_hint_from_several_or_unknown_currencies():
    assert currency_hint({"EUR", "USD"}) is None
    assert currency_hint({"CAD"}) is None
    assert currency_hint(set()) is None


def test_another_date_column_written_the_same_way_settles_the_order():
    evidence = _evidence("01/02/2025", "03/02/2025")
    evidence.bounds_from(_evidence("02/02/2025", "13/02/2025"))  # a value date: day 13
    decided, undecided = evidence.decide()
    assert decided.name == "DD/MM/YYYY" and undecided is None

    other_shape = _evidence("01/02/2025")
    other_shape.bounds_from(_evidence("2025-02-13"))
    assert other_shape.decide()[1] is not None

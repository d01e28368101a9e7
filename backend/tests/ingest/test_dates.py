"""Date shapes and the file-wide decision of their format."""

from datetime import datetime

import pytest

from spending_api.ingest.dates import (
    DateEvidence,
    check_date_format,
    parse_time_of_day,
    strptime_format,
)


def _decide(*values):
    evidence = DateEvidence()
    for value in values:
        evidence.add(value)
    return evidence.decide()


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

"""The charts' and cards' data without a browser: slices, refunds, bars, axis and KPI texts."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import httpx

from spending_ui.api import ApiClient, CategoryTotal, Metrics, PeriodTotal
from spending_ui.state import AuthState, Filters
from spending_ui.store import DashboardStore
from spending_ui.views.charts import (
    MAX_SLICES,
    OTHER,
    donut_data,
    donut_notes_html,
    timeline_data,
    timeline_range,
    timeline_ticks,
)
from spending_ui.views.kpis import kpi_html

DAY_MS = 86_400_000


def metrics_of(totals: dict[str, str], periods=()) -> Metrics:
    total = sum((Decimal(v) for v in totals.values()), Decimal(0))
    ranked = sorted(totals.items(), key=lambda item: (-Decimal(item[1]), item[0]))
    return Metrics(
        total_spend=total,
        transaction_count=len(totals),
        average_monthly_spend=total,
        average_transaction=total,
        first_transaction=date(2026, 3, 2),
        last_transaction=date(2026, 3, 8),
        top_categories=[
            CategoryTotal(name, Decimal(value), 1, Decimal(value) / total if total else 0)
            for name, value in ranked
        ],
        spend_over_time=[PeriodTotal(day, Decimal(value), 1) for day, value in periods],
    )


def store_showing(metrics: Metrics, **filters) -> DashboardStore:
    auth = AuthState(ApiClient("http://api.test", transport=httpx.MockTransport(lambda r: None)))
    store = DashboardStore(auth, filters=Filters(today=date(2026, 3, 31), **filters))
    store.param.update(metrics=metrics, categories=[c.category for c in metrics.top_categories])
    return store


TWELVE = {f"Category {i:02d}": f"{(i + 1) * 10}.00" for i in range(11)} | {"Rent": "1000.00"}


def test_the_donut_draws_the_top_categories_and_other_at_their_true_shares():
    store = store_showing(metrics_of(TWELVE))
    data = donut_data(store)
    spent = sum(Decimal(v) for v in TWELVE.values())
    assert len(data["category"]) == MAX_SLICES and data["category"][-1] == OTHER
    assert data["category"][0] == "Rent"
    ranked = sorted(TWELVE.items(), key=lambda item: -Decimal(item[1]))
    shown = ranked[: MAX_SLICES - 1]
    other = sum(Decimal(v) for _, v in ranked[MAX_SLICES - 1 :])
    assert data["total"] == [float(v) for _, v in shown] + [float(other)]
    # Every slice at its share of everything spent; together the whole ring.
    for total, start, end in zip(data["total"], data["start_angle"], data["end_angle"]):
        assert math.isclose((end - start) / (2 * math.pi), total / float(spent))
    assert math.isclose(data["end_angle"][-1], 2 * math.pi)
    assert data["share_text"][0] == f"{Decimal(1000) / spent * 100:.1f}%"
    # "Other", once clicked, lists what it holds.
    assert "Category 00" not in donut_notes_html(store, show_other=False)
    notes = donut_notes_html(store, show_other=True)
    assert all(name in notes for name, _ in ranked[MAX_SLICES - 1 :])


def test_a_refund_week_draws_only_spending_and_lists_the_refunds():
    week = {"Groceries": "60.00", "Transport": "20.00", "Dining out": "-40.00"}
    store = store_showing(metrics_of(week))
    data = donut_data(store)
    assert data["category"] == ["Groceries", "Transport"]
    assert all(end > start for start, end in zip(data["start_angle"], data["end_angle"]))
    assert data["share"] == [0.75, 0.25]
    notes = donut_notes_html(store, show_other=False)
    assert "Dining out" in notes and "40.00 in" in notes
    card = kpi_html("top_category", store.metrics, None, store.colours)
    assert "data-value='Groceries'" in card and "75% of spend" in card and "-40" not in card
    only_refunds = store_showing(metrics_of({"Dining out": "-40.00"}))
    assert donut_data(only_refunds)["category"] == []
    assert "No spending" in kpi_html("top_category", only_refunds.metrics, None, {})


def test_bars_span_their_period_and_the_axis_is_the_selected_period():
    periods = [(date(2026, 2, 1), "10"), (date(2026, 3, 1), "-5")]
    store = store_showing(metrics_of({"Food": "5"}, periods), preset="this_year")
    data = timeline_data(store)
    feb, mar = datetime(2026, 2, 1).timestamp(), datetime(2026, 3, 1).timestamp()
    epoch_offset = datetime(1970, 1, 1).timestamp()
    feb_ms, mar_ms = (feb - epoch_offset) * 1000, (mar - epoch_offset) * 1000
    assert data["centre"][0] == feb_ms + 14 * DAY_MS  # February: 28 days, centred
    assert math.isclose(data["width"][0], 28 * DAY_MS * 0.85)
    assert math.isclose(data["width"][1], 31 * DAY_MS * 0.85)
    assert data["centre"][1] == mar_ms + 15.5 * DAY_MS
    # A refund month is a bar below the axis, in its own colour.
    assert data["total"][1] == -5.0 and data["colour"][1] != data["colour"][0]
    # The range is this year so far in whole months, not first to last match.
    start, end = timeline_range(store)
    jan = (datetime(2026, 1, 1).timestamp() - epoch_offset) * 1000
    apr = (datetime(2026, 4, 1).timestamp() - epoch_offset) * 1000
    assert (start, end) == (jan, apr)


def test_one_matching_period_still_spans_the_selected_period():
    store = store_showing(
        metrics_of({"Food": "5"}, [(date(2026, 3, 2), "5")]),
        start=date(2026, 3, 2),
        end=date(2026, 3, 8),
        preset="custom",
        granularity="day",
    )
    start, end = timeline_range(store)
    assert end - start == 7 * DAY_MS
    assert timeline_data(store)["width"] == [DAY_MS * 0.85]


def test_date_labels_are_few_enough_not_to_overlap():
    data = {"centre": list(range(31))}
    assert len(timeline_ticks(data, compact=False)) <= 6
    assert len(timeline_ticks(data, compact=True)) <= 3
    assert timeline_ticks({"centre": [1.0]}, compact=True) == [1.0]


def test_new_spending_is_not_styled_as_a_rise():
    now = metrics_of({"Food": "5"})
    before = metrics_of({})
    card = kpi_html("total_spend", now, before, {})
    assert "New: nothing in the previous period" in card
    assert "kpi-delta up" not in card


def test_the_table_shows_no_fake_time_and_money_in_as_such():
    from spending_ui.views.table import amount_html, when_text

    assert when_text(datetime(2026, 3, 1)) == "01 Mar 2026"
    assert when_text(datetime(2026, 3, 1, 9, 5)) == "01 Mar 2026 <span class='time'>09:05</span>"
    assert amount_html(Decimal("-40.00")) == "<span class='money-in'>+40.00 in</span>"
    assert amount_html(Decimal("1234.50")) == "1,234.50"


def test_import_messages_name_lines_without_python_quoting_or_zero_counts():
    from spending_ui.api import ImportRejected, RowError
    from spending_ui.views.sidebar import rejection_html

    rejected = ImportRejected(
        "Some rows could not be read.",
        error_count=2,
        errors=[
            RowError(line=3, column="amount", value="12,3,4", reason="not an amount"),
            RowError(line=None, column=None, value=None, reason="no date column"),
        ],
    )
    html = rejection_html(rejected)
    assert "Line 3, column amount: not an amount (“12,3,4”)" in html
    assert "The file: no date column" in html
    assert "'12,3,4'" not in html and "Line ?" not in html and html.count("(2 problems)") == 1
    whole_file = rejection_html(ImportRejected("The file is empty.", error_count=0, errors=[]))
    assert "(0 problems)" not in whole_file and "<ul>" not in whole_file


def test_the_value_axis_holds_zero_and_every_bar():
    from spending_ui.views.charts import value_range

    assert value_range({"total": []}) == (0.0, 1.0)
    low, high = value_range({"total": [10.0, -5.0]})
    assert low < -5.0 and high > 10.0
    assert value_range({"total": [3.0]})[0] == 0.0

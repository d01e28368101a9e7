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


def test_the_value_axis_holds_zero_and_every_bar():
    from spending_ui.views.charts import value_range

    assert value_range({"total": []}) == (0.0, 1.0)
    low, high = value_range({"total": [10.0, -5.0]})
    assert low < -5.0 and high > 10.0
    assert value_range({"total": [3.0]})[0] == 0.0


# -- income, net savings, savings rate; transfers never in the spending charts (#13) --------


def with_income(metrics: Metrics, income: str | None, rate: str | None) -> Metrics:
    from dataclasses import replace

    total_income = None if income is None else Decimal(income)
    return replace(
        metrics,
        total_income=total_income,
        net_savings=None if income is None else total_income - metrics.total_spend,
        savings_rate=None if rate is None else Decimal(rate),
        income_categories=[CategoryTotal("Salary", total_income or Decimal(0), 1, Decimal(1))],
    )


def test_income_net_savings_and_savings_rate_cards_show_the_apis_figures():
    now = with_income(metrics_of({"Rent": "1000.00", "Food": "250.00"}), "2500.00", "0.5")
    before = with_income(metrics_of({"Rent": "1000.00"}), "2000.00", "0.5")
    income = kpi_html("total_income", now, before, {})
    assert "data-value='2500.00'" in income and "2,500.00" in income
    assert "▲ 25.0% vs previous period" in income and "more-is-better" in income
    savings = kpi_html("net_savings", now, before, {})
    assert "data-value='1250.00'" in savings and "▲ 250.00 vs previous period" in savings
    rate = kpi_html("savings_rate", now, before, {})
    assert "data-value='0.5'" in rate and "50.0%" in rate and "No change" in rate
    lower = with_income(metrics_of({"Rent": "1000.00"}), "2000.00", "0.4567")
    assert "▼ 4.3 pts vs previous period" in kpi_html("savings_rate", lower, before, {})


def test_no_income_is_a_dash_not_a_zero_rate():
    spent = with_income(metrics_of({"Rent": "1000.00"}), "0.00", None)
    rate = kpi_html("savings_rate", spent, None, {})
    assert "<div class='kpi-value'>—</div>" in rate and "No income in this period" in rate
    assert "data-value=''" in rate
    savings = kpi_html("net_savings", spent, None, {})
    assert "data-value='-1000.00'" in savings and "-1,000.00" in savings
    # Income now, none before: the rate has nothing to compare with.
    now = with_income(metrics_of({"Rent": "500.00"}), "1000.00", "0.5")
    assert "No income in the previous period" in kpi_html("savings_rate", now, spent, {})
    # An API that does not report income at all: dashes, not invented zeros.
    old = metrics_of({"Rent": "1000.00"})
    for key in ("total_income", "net_savings", "savings_rate"):
        assert "<div class='kpi-value'>—</div>" in kpi_html(key, old, None, {})


def test_income_and_transfers_never_reach_the_donut_and_income_is_its_own_line():
    # /metrics lists spending in top_categories; income categories (and transfers, counted in
    # nothing) must not appear as slices even though the data holds them.
    metrics = with_income(
        metrics_of(
            {"Groceries": "60.00", "Rent": "40.00"},
            [(date(2026, 3, 1), "100.00")],
        ),
        "2500.00",
        "0.96",
    )
    from dataclasses import replace

    metrics = replace(
        metrics,
        spend_over_time=[PeriodTotal(date(2026, 3, 1), Decimal("100.00"), 2, Decimal(2500))],
    )
    store = store_showing(metrics, preset="this_month")
    store.categories = ["Groceries", "Rent", "Salary", "Transfer"]
    data = donut_data(store)
    assert data["category"] == ["Groceries", "Rent"] and sum(data["share"]) == 1.0
    bars = timeline_data(store)
    assert bars["total"] == [100.0] and bars["income"] == [2500.0]
    assert bars["income_text"] == ["2,500.00"]
    from spending_ui.views.charts import has_income, value_range

    assert has_income(bars) and value_range(bars)[1] > 2500.0
    assert not has_income(
        timeline_data(store_showing(metrics_of({"Food": "5"}, [(date(2026, 3, 1), "5")])))
    )


def grouped_store(**filters) -> DashboardStore:
    """Food > (Bakery, Butcher > Deli), <b>Trip</b> and Rent alone; Deli net refunded."""
    from dataclasses import replace

    from spending_ui.api import CategoryCount

    totals = {
        "Food": "5.00",
        "Bakery": "20.00",
        "Butcher": "40.00",
        "Deli": "-15.00",
        "<b>Trip</b>": "30.00",
        "Rent": "100.00",
    }
    metrics = metrics_of(totals)
    spend = metrics.total_spend  # 180.00, by group: Rent 100, Food 50, <b>Trip</b> 30
    groups = [("Rent", "100.00", 1), ("Food", "50.00", 4), ("<b>Trip</b>", "30.00", 1)]
    metrics = replace(
        metrics,
        category_groups=[
            CategoryTotal(name, Decimal(total), count, Decimal(total) / spend)
            for name, total, count in groups
        ],
    )
    store = store_showing(metrics, **filters)
    ids = {"Food": 1, "Bakery": 2, "Butcher": 3, "Deli": 4, "<b>Trip</b>": 5, "Rent": 6}
    parents = {"Bakery": 1, "Butcher": 1, "Deli": 3}
    store.category_rows = [
        CategoryCount(name, 1, "spending", id, None, parents.get(name)) for name, id in ids.items()
    ]
    return store


def test_by_group_the_donut_draws_the_groups_and_a_slice_narrows_to_the_whole_group():
    from spending_ui.views.charts import CategoryDonut

    store = grouped_store()
    donut = CategoryDonut(store=store)
    assert donut._by_group.visible  # the user has groups
    assert donut.source.data["category"][0] == "Rent" and "Deli" in donut_notes_html(store, False)
    store.filters.by_group = True  # the toggle: redrawn from category_groups
    data = donut.source.data
    assert data["category"] == ["Rent", "Food", "<b>Trip</b>"]
    assert data["total"] == [100.0, 50.0, 30.0]
    # Shares of everything the groups spent (Deli's refund already lowers Food's total).
    assert data["share"] == [100 / 180, 50 / 180, 30 / 180]
    assert data["name"][2] == "<b>Trip</b>"  # drawn as text by Bokeh, never as HTML
    assert "Deli" not in donut_notes_html(store, show_other=False)
    donut.source.selected.indices = [1]  # a click on Food
    assert sorted(store.filters.categories) == ["Bakery", "Butcher", "Deli", "Food"]
    store.filters.by_group = False
    donut.source.selected.indices = [0]
    assert store.filters.categories == ["Rent"]


def test_the_group_toggle_is_hidden_without_groups_and_negative_groups_are_listed():
    from dataclasses import replace

    from spending_ui.views.charts import CategoryDonut

    store = store_showing(metrics_of({"Food": "5"}))
    assert not CategoryDonut(store=store)._by_group.visible
    store = grouped_store(by_group=True)
    store.metrics = replace(
        store.metrics,
        category_groups=[
            CategoryTotal("Rent", Decimal("100.00"), 1, Decimal(1)),
            CategoryTotal("<i>Food</i>", Decimal("-7.50"), 2, Decimal(0)),
        ],
    )
    assert donut_data(store)["category"] == ["Rent"]
    notes = donut_notes_html(store, show_other=False)
    assert "&lt;i&gt;Food&lt;/i&gt;" in notes and "<i>" not in notes and "7.50 in" in notes

"""The dashboard's data store: fetches /metrics, /transactions and /categories for the filters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from functools import partial

import panel as pn
import param

from spending_ui.api import (
    Account,
    ApiError,
    CategoryCount,
    InvalidRequest,
    Metrics,
    Rule,
    RuleProposal,
    TransactionPage,
)
from spending_ui.state import AuthState, Filters
from spending_ui.theme import category_colours

logger = logging.getLogger(__name__)

DEFAULT_SORT = "-timestamp"
SORTS = {
    "-timestamp": "Newest first",
    "timestamp": "Oldest first",
    "-amount": "Largest amount",
    "amount": "Smallest amount",
    "description": "Description A–Z",
    "-description": "Description Z–A",
    "category": "Category A–Z",
    "-category": "Category Z–A",
}
# The table's columns the API can order by: the sort key of a first click, then of the next
# (dates and amounts start with the newest/largest, text with A–Z).
SORT_COLUMNS = {
    "date": ("-timestamp", "timestamp"),
    "description": ("description", "-description"),
    "category": ("category", "-category"),
    "amount": ("-amount", "amount"),
}
FILTER_PARAMS = ["start", "end", "categories", "accounts", "min_amount", "max_amount", "q"]
# Spinners appear only when an update takes longer than this: a fast one would flash
# them, and each view's spinner is a round of browser patches that delays the data.
LOADING_DELAY_SECONDS = 0.3
REVIEW_SIZE = 10  # the review queue shows this many of its rows per page, the largest first


class DashboardStore(param.Parameterized):
    """Results for the current filters; every number comes from the API, none is computed here."""

    filters = param.ClassSelector(class_=Filters)
    categories = param.List(default=[], item_type=str, doc="All the user's categories")
    category_rows = param.List(
        default=[], item_type=CategoryCount, doc="The same, with kind, colour, group and count"
    )
    accounts = param.List(default=[], item_type=Account, doc="All the user's accounts")
    has_transactions = param.Boolean(
        default=True, doc="Any at all, whatever the filters (a new user's categories have none)"
    )
    metrics = param.ClassSelector(class_=Metrics, default=None, allow_None=True)
    previous = param.ClassSelector(class_=Metrics, default=None, allow_None=True)
    page = param.ClassSelector(class_=TransactionPage, default=None, allow_None=True)
    review = param.ClassSelector(
        class_=TransactionPage, default=None, allow_None=True, doc="The review queue's page"
    )
    review_index = param.Integer(default=0, bounds=(0, None), doc="The review queue's page")
    rules = param.List(default=[], item_type=Rule, doc="The user's rules, in order")
    proposals = param.List(default=[], item_type=RuleProposal, doc="Rules offered, not saved")
    sort = param.Selector(default="-timestamp", objects=list(SORTS))
    page_index = param.Integer(default=0, bounds=(0, None))
    page_size = param.Integer(default=25, bounds=(1, 1000))
    loading = param.Boolean(default=False)
    table_loading = param.Boolean(default=False)
    error = param.String(default="")

    def __init__(self, auth: AuthState, **params):
        params.setdefault("filters", Filters())
        super().__init__(**params)
        self.auth = auth
        self._quiet = False
        self._generation = 0
        self._chart_generation = 0
        self._table_generation = 0
        self._review_generation = 0

    @property
    def api(self):
        return self.auth.api

    @property
    def colours(self) -> dict[str, str]:
        chosen = {c.category: c.colour for c in self.category_rows if c.colour}
        return category_colours(self.categories, chosen=chosen)

    def group_members(self, group: str) -> list[str]:
        """The group's name and every category below it, at any depth (from category_rows;
        a loop, which the API refuses, would end the walk)."""
        children: dict[int | None, list] = {}
        for row in self.category_rows:
            children.setdefault(row.parent_id, []).append(row)
        top = [row for row in self.category_rows if row.category == group]
        names, seen, todo = [group], set(), list(top)
        while todo:
            row = todo.pop()
            if row.id is None or row.id in seen:
                continue
            seen.add(row.id)
            for child in children.get(row.id, []):
                names.append(child.category)
                todo.append(child)
        return list(dict.fromkeys(names))

    @property
    def page_count(self) -> int:
        total = self.page.total if self.page else 0
        return max(1, -(-total // self.page_size))

    @property
    def review_page_count(self) -> int:
        total = self.review.total if self.review else 0
        return max(1, -(-total // REVIEW_SIZE))

    async def _review_page(self, params, index: int) -> tuple[TransactionPage, int]:
        """The review queue's page `index`, or its last page when the queue has shrunk below
        it (the last row of the last page accepted): (the page, its index)."""
        review = await self.api.review_queue(params, limit=REVIEW_SIZE, offset=index * REVIEW_SIZE)
        if index > 0 and not review.items and review.total > 0:
            index = (review.total - 1) // REVIEW_SIZE
            review = await self.api.review_queue(
                params, limit=REVIEW_SIZE, offset=index * REVIEW_SIZE
            )
        return review, index

    def _loading_later(self, *names: str) -> asyncio.TimerHandle:
        """Turn the `names` flags on after LOADING_DELAY_SECONDS; cancel it when done."""

        def show() -> None:
            with pn.io.hold():
                self.param.update(**dict.fromkeys(names, True))

        return asyncio.get_running_loop().call_later(LOADING_DELAY_SECONDS, show)

    async def _call(self, request):
        """Await one API call; errors become state (banner, logout, message), never a traceback."""
        try:
            return await request
        except ApiError as exc:
            self.error = self.auth.handle(exc)
            raise

    async def changed(self) -> None:
        """After the user changed data (an edit, a rule, an accepted suggestion): every view
        at once, on the page the user is on, in one refresh."""
        await self.refresh(keep_page=True, with_rules=True)

    async def refresh(self, *, keep_page: bool = False, with_rules: bool = False) -> None:
        """Everything for the current filters: KPIs (+ previous period), charts, first page
        (or the current page, `keep_page`, for a restored view), the review queue; and the
        rules and offered rules (`with_rules`: they change with the data, not the filters).

        All requests run at once, and all results land in one held update, so the browser
        gets one batch of changes instead of a trickle of patches.
        """
        # A full refresh supersedes every request in flight; a later chart-only or table-only
        # request supersedes just its own part of it, so no gesture leaves a view half-updated.
        self._generation += 1
        self._chart_generation += 1
        self._table_generation += 1
        generation = self._generation
        chart_generation, table_generation = self._chart_generation, self._table_generation
        filters = self.filters
        params = filters.to_params()
        previous_params = filters.previous_params()
        spinners = self._loading_later("loading", "table_loading")
        try:
            requests = [
                self.api.categories(),
                self.api.metrics(params, filters.granularity),
                self.api.metrics(previous_params, "month") if previous_params else _none(),
                self.api.transactions(
                    params,
                    sort=self.sort,
                    limit=self.page_size,
                    offset=self.page_index * self.page_size if keep_page else 0,
                ),
                self._review_page(params, self.review_index if keep_page else 0),
                self.api.rules() if with_rules else _none(),
                self.api.rule_proposals() if with_rules else _none(),
            ]
            categories, metrics, previous, page, (review, review_index), rules, proposals = (
                await self._call(asyncio.gather(*requests))
            )
        except ApiError as exc:
            if generation == self._generation:
                updates = dict(loading=False, table_loading=False)
                if isinstance(exc, InvalidRequest):
                    # The old numbers do not belong to the filters now shown above them.
                    updates.update(metrics=None, previous=None, page=None, review=None)
                self.param.update(**updates)
            return
        finally:
            spinners.cancel()
        if generation != self._generation:
            return
        self._review_generation += 1  # this answer supersedes a review page in flight
        updates = dict(
            categories=[c.category for c in categories],
            category_rows=categories,
            has_transactions=any(c.count for c in categories),
            previous=previous,
            review=review,
            error="",
        )
        if with_rules:
            updates.update(rules=rules, proposals=proposals)
        if chart_generation == self._chart_generation:
            updates.update(metrics=metrics, loading=False)
        table_current = table_generation == self._table_generation
        if table_current:
            updates.update(page=page, table_loading=False)
        with pn.io.hold():
            if table_current and not keep_page:
                with param.parameterized.discard_events(self):
                    # Back to the first page without the watcher fetching it a second time.
                    self.page_index = 0
            with param.parameterized.discard_events(self):
                # The page fetched (the first after new filters, or the last one left).
                self.review_index = review_index
            self.param.update(**updates)

    async def refresh_chart(self) -> None:
        """Only the time series changed (the day/week/month switch)."""
        self._chart_generation += 1
        generation = self._chart_generation
        spinners = self._loading_later("loading")
        try:
            metrics = await self._call(
                self.api.metrics(self.filters.to_params(), self.filters.granularity)
            )
        except ApiError:
            if generation == self._chart_generation:
                self.loading = False
            return
        finally:
            spinners.cancel()
        if generation == self._chart_generation:
            self.param.update(metrics=metrics, error="", loading=False)

    async def refresh_table(self) -> None:
        self._table_generation += 1
        generation = self._table_generation
        spinners = self._loading_later("table_loading")
        try:
            page = await self._call(
                self.api.transactions(
                    self.filters.to_params(),
                    sort=self.sort,
                    limit=self.page_size,
                    offset=self.page_index * self.page_size,
                )
            )
        except ApiError:
            if generation == self._table_generation:
                self.table_loading = False
            return
        finally:
            spinners.cancel()
        if generation == self._table_generation:
            self.param.update(page=page, table_loading=False)

    async def refresh_review(self) -> None:
        """Only the review queue's page changed (its Next/Previous)."""
        self._review_generation += 1
        generation = self._review_generation
        try:
            review, index = await self._call(
                self._review_page(self.filters.to_params(), self.review_index)
            )
        except ApiError:
            return
        if generation == self._review_generation:
            with pn.io.hold():
                with param.parameterized.discard_events(self):
                    self.review_index = index
                self.param.update(review=review, error="")

    def review_step(self, step: int) -> None:
        """Next (+1) or Previous (-1) page of the review queue, within its pages."""
        index = min(max(0, self.review_index + step), self.review_page_count - 1)
        if index != self.review_index:
            self.review_index = index

    async def export_csv(self) -> bytes:
        return await self._call(self.api.export_csv(self.filters.to_params()))

    async def load_accounts(self) -> None:
        """The user's accounts (the account filter, the import dialog); they change only when
        the user adds one, so they are not fetched with every filter change."""
        try:
            accounts = await self.api.accounts()
        except ApiError as exc:
            # An expired session or a lost server is handled as everywhere; otherwise the
            # dashboard works on without the account list.
            logger.warning("accounts not loaded: %s", self.auth.handle(exc))
            return
        self.accounts = accounts
        known = {account.id for account in accounts}
        if any(a not in known for a in self.filters.accounts):
            # A bookmark of an account since deleted (or another user's): not a silent blank.
            self.filters.accounts = [a for a in self.filters.accounts if a in known]

    def account_name(self, account_id: int) -> str:
        for account in self.accounts:
            if account.id == account_id:
                return account.name
        return f"Account {account_id}"

    def sort_by(self, column: str) -> None:
        """A click on a column's header: by that column (newest, largest or A–Z first), then
        reversed."""
        if column not in SORT_COLUMNS:
            return
        first, second = SORT_COLUMNS[column]
        self.sort = second if self.sort == first else first

    # -- the URL and the session ----------------------------------------------------------

    def apply_query(self, query: Mapping[str, Sequence[str]]) -> None:
        """Show the view of parsed URL query items (a bookmark, Back/Forward): filters, order
        and page in one change, fetched by one refresh (when logged in)."""
        sort = (query.get("sort") or [DEFAULT_SORT])[0]
        try:
            page_index = max(0, int((query.get("page") or ["1"])[0]) - 1)
        except ValueError:
            page_index = 0
        self._quiet = True  # the watchers below stay still: one refresh at the end
        try:
            self.filters.apply_query(query)
            self.param.update(sort=sort if sort in SORTS else DEFAULT_SORT, page_index=page_index)
        finally:
            self._quiet = False
        self._start(self.refresh, keep_page=True)

    def clear_view(self) -> None:
        """Forget this session's view (a logout): the next user starts from the defaults."""
        self._quiet = True
        try:
            self.filters.reset()
            self.filters.param.update(granularity="month", by_group=False)
            self.param.update(
                sort=DEFAULT_SORT,
                page_index=0,
                review_index=0,
                metrics=None,
                previous=None,
                page=None,
                review=None,
                rules=[],
                proposals=[],
                categories=[],
                category_rows=[],
                accounts=[],
                error="",
            )
        finally:
            self._quiet = False

    # -- what triggers what ---------------------------------------------------------------
    # The watchers decide at once (synchronously) what one gesture needs, then start exactly
    # one request for it; nothing is fetched while logged out or while a view is restored.

    def _start(self, refresh, **options) -> None:
        if self.auth.status == "logged_in":
            pn.state.execute(partial(refresh, **options))

    def watch_filters(self) -> None:
        """Refresh whenever the filters change (call once per session, in the app)."""
        self.filters.param.watch(self._filters_changed, [*FILTER_PARAMS, "granularity"])

    def _first_page(self) -> None:
        """Back to page 1 (seen by the URL and the pager) without fetching it on its own."""
        quiet, self._quiet = self._quiet, True
        try:
            self.page_index = 0
        finally:
            self._quiet = quiet

    def _filters_changed(self, *events) -> None:
        if self._quiet:
            return
        if all(event.name == "granularity" for event in events):
            self._start(self.refresh_chart)
        else:
            self._first_page()
            self._start(self.refresh)

    @param.depends("sort", watch=True)
    def _sort_changed(self) -> None:
        if self._quiet:
            return
        # A new order starts at its first page, fetched once.
        self._first_page()
        self._start(self.refresh_table)

    @param.depends("page_index", watch=True)
    def _page_changed(self) -> None:
        if not self._quiet:
            self._start(self.refresh_table)

    @param.depends("review_index", watch=True)
    def _review_page_changed(self) -> None:
        if not self._quiet:
            self._start(self.refresh_review)


async def _none() -> None:
    return None

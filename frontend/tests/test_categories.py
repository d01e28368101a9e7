"""Managing categories from the dashboard (#14), against the real API (the backend app in this
process, on a real PostgreSQL database): what CategoryState sends for each gesture, that each
change ends in one refresh of every view, that the figures then shown are what the seeded rows
add up to, and that refusals read as sentences."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from spending_ui.api import ApiClient
from spending_ui.categories import NONE, REFUSALS, CategoryState
from spending_ui.state import AuthState, Filters
from spending_ui.store import DashboardStore
from spending_ui.views.categories import CategoriesPanel, categories_html, category_choices

pytestmark = [pytest.mark.postgres]

PASSWORD = "categories-password-1"
TODAY = date.today()
HOSTILE = "<img src=x onerror=alert(1)>Snacks"
# (days ago, amount, category): the figures the tests check are sums over these.
ROWS = (
    (1, "3.20", "Coffee"),
    (2, "4.10", "Coffee"),
    (4, "2.95", "Coffee"),
    (3, "41.50", "Dining out"),
    (6, "18.25", "Dining out"),
    (5, "60.00", "Groceries"),
)


def total(*categories: str) -> Decimal:
    return sum((Decimal(a) for _, a, c in ROWS if c in categories), Decimal("0.00"))


def count(*categories: str) -> int:
    return sum(1 for *_, c in ROWS if c in categories)


class Recording(httpx.AsyncBaseTransport):
    """The app's own answers, with (method, path) of every request noted."""

    def __init__(self, app):
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    def reads(self) -> list[str]:
        return sorted(p for m, p in self.requests if m == "GET")

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.requests if m != "GET"]


@pytest.fixture
def backend(live_app) -> tuple:
    """The API app (no server: requests go straight to it) and its database."""
    return live_app, live_app.state.database


@pytest.fixture
def user(backend) -> str:
    """A new user (the default categories) with ROWS; its name."""
    from argon2 import PasswordHasher, profiles

    from spending_api.auth.repository import create_user
    from spending_api.transactions.repository import NewTransaction, insert_transactions

    _, database = backend
    name = f"cats-{uuid.uuid4().hex[:8]}"
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    noon = datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=12)
    with database.session() as session:
        created = create_user(session, username=name, password_hash=hasher.hash(PASSWORD))
        insert_transactions(
            session,
            user_id=created.id,
            rows=[
                NewTransaction(noon - timedelta(days=d), Decimal(a), c, f"{c} {i}", i)
                for i, (d, a, c) in enumerate(ROWS)
            ],
        )
        session.commit()
    return name


async def logged_in(backend, username: str) -> tuple[CategoryState, Recording]:
    app, _ = backend
    transport = Recording(app)
    auth = AuthState(ApiClient("http://api.test", transport=transport))
    assert await auth.login(username, PASSWORD), auth.message
    store = DashboardStore(auth, filters=Filters(today=TODAY, preset="last_30_days"))
    await store.refresh(with_rules=True)
    transport.requests.clear()
    return CategoryState(store=store), transport


def row(state: CategoryState, name: str):
    found = [item for item in state.store.category_rows if item.category == name]
    return found[0] if found else None


def test_create_rename_recolour_and_merge_each_refresh_every_view_once(backend, user, one_refresh):
    async def scenario():
        state, transport = await logged_in(backend, user)
        store = state.store
        assert {c: row(state, c).count for c in ("Coffee", "Dining out", "Groceries")} == {
            "Coffee": count("Coffee"),
            "Dining out": count("Dining out"),
            "Groceries": count("Groceries"),
        }
        dining = row(state, "Dining out")

        # A new category, grouped under Dining out, with a colour of its own.
        state.param.update(
            new_name=f"  {HOSTILE} ",
            new_colour="#AABBCC",
            new_own_colour=True,
            new_parent=dining.id,
        )
        assert await state.create()
        assert transport.writes() == [("POST", "/categories")]
        assert transport.reads() == one_refresh
        made = row(state, HOSTILE)
        assert (made.kind, made.colour, made.parent_id, made.count) == (
            "spending",
            "#aabbcc",
            dining.id,
            0,
        )
        assert HOSTILE in store.categories  # every category picker offers it
        assert store.colours[HOSTILE] == "#aabbcc"
        assert state.message == f"Category “{HOSTILE}” created."
        assert (state.new_name, state.new_own_colour, state.new_parent) == ("", False, NONE)

        # Renamed: every transaction follows, the KPIs and the donut with them.
        coffee = row(state, "Coffee")
        transport.requests.clear()
        state.chosen = coffee.id
        assert (state.edit_name, state.edit_kind, state.edit_parent) == ("Coffee", "spending", NONE)
        # The picker starts at the palette colour Coffee is drawn in; its own from now on.
        assert (state.edit_colour, state.edit_own_colour) == (store.colours["Coffee"], False)
        state.param.update(edit_name="Café", edit_colour="#112233", edit_own_colour=True)
        assert await state.save()
        assert transport.writes() == [("PATCH", f"/categories/{coffee.id}")]
        assert transport.reads() == one_refresh
        assert row(state, "Coffee") is None and "Coffee" not in store.categories
        cafe = row(state, "Café")
        assert (cafe.id, cafe.count, cafe.colour) == (coffee.id, count("Coffee"), "#112233")
        assert store.metrics.category_total("Café") == total("Coffee")
        assert store.metrics.category_total("Coffee") == 0
        assert state.message == "“Coffee” renamed to “Café”: 3 transactions follow."
        # Back to the palette's colour: its own is cleared.
        state.edit_own_colour = False
        assert await state.save()
        assert row(state, "Café").colour is None and store.colours["Café"] != "#112233"

        # Merged into Dining out: asked first (how many move), then done.
        transport.requests.clear()
        state.target = dining.id
        state.ask("merge")
        assert transport.requests == []
        assert state.question() == "Merge “Café” into “Dining out”: 3 transactions move to it."
        assert await state.confirm()
        assert transport.writes() == [("POST", f"/categories/{coffee.id}/merge")]
        assert transport.reads() == one_refresh
        assert row(state, "Café") is None and "Café" not in store.categories
        assert row(state, "Dining out").count == count("Coffee", "Dining out")
        assert store.metrics.category_total("Dining out") == total("Coffee", "Dining out")
        assert store.metrics.total_spend == total("Coffee", "Dining out", "Groceries")
        assert (state.chosen, state.target, state.pending) == (NONE, NONE, None)

    asyncio.run(scenario())


def test_delete_needs_a_target_and_moves_the_transactions_to_it(backend, user):
    async def scenario():
        state, transport = await logged_in(backend, user)
        coffee, groceries = row(state, "Coffee"), row(state, "Groceries")
        state.chosen = coffee.id
        state.ask("delete")
        assert state.pending is None
        assert state.message == "Choose the category its transactions move to."
        state.target = coffee.id  # not offered by the picker, refused here too
        state.ask("delete")
        assert state.pending is None and state.message == REFUSALS["category_merge_into_itself"]
        state.target = groceries.id
        state.ask("delete")
        assert state.question() == "Delete “Coffee”: 3 transactions move to “Groceries”."
        state.cancel()
        assert state.pending is None and not await state.confirm()
        assert transport.writes() == []

        state.ask("delete")
        state.busy = True  # a change on its way: a second click does nothing
        assert not await state.confirm() and transport.writes() == []
        state.busy = False
        assert await state.confirm()
        assert transport.writes() == [("DELETE", f"/categories/{coffee.id}")]
        assert row(state, "Coffee") is None
        assert row(state, "Groceries").count == count("Coffee", "Groceries")
        assert state.store.metrics.category_total("Groceries") == total("Coffee", "Groceries")
        assert state.message == "“Coffee” deleted: 3 transactions moved to “Groceries”."

    asyncio.run(scenario())


def test_refusals_read_as_sentences_and_change_nothing(backend, user, one_refresh):
    async def scenario():
        state, transport = await logged_in(backend, user)
        store = state.store
        before = list(store.category_rows)

        state.param.update(new_name="Dining out")
        assert not await state.create()
        assert state.message == REFUSALS["category_name_taken"]

        state.param.update(new_name="Tea", new_colour="red", new_own_colour=True)
        assert not await state.create()
        assert state.message == "“red” is not a colour: pick one like #4e79a7."
        state.param.update(new_name=" ", new_own_colour=False)
        assert not await state.create()
        assert state.message == "Type the new category's name."

        state.chosen = row(state, "Uncategorized").id
        state.edit_name = "Unsorted"
        assert not await state.save()
        assert state.message == REFUSALS["category_required"]

        # A group under its own subgroup.
        dining, coffee = row(state, "Dining out"), row(state, "Coffee")
        state.chosen = coffee.id
        state.param.update(edit_parent=dining.id, edit_kind="transfer")
        assert await state.save()
        assert (row(state, "Coffee").kind, row(state, "Coffee").parent_id) == (
            "transfer",
            dining.id,
        )
        # A transfer is no spending: the KPIs leave it out at once.
        assert store.metrics.total_spend == total("Dining out", "Groceries")
        state.chosen = dining.id
        state.edit_parent = coffee.id
        assert not await state.save()
        assert state.message == REFUSALS["category_parent_cycle"]

        # Gone meanwhile (another tab): said, and the list comes back as it is now.
        app, _ = backend
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as other:
            token = (
                await other.post("/login", json={"username": user, "password": PASSWORD})
            ).json()["access_token"]
            gone = await other.delete(
                f"/categories/{row(state, 'Groceries').id}",
                params={"move_to": dining.id},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert gone.status_code == 204
        state.chosen = row(state, "Groceries").id
        state.edit_kind = "income"
        transport.requests.clear()
        assert not await state.save()
        assert state.message == REFUSALS["category_not_found"]
        assert transport.reads() == one_refresh
        assert row(state, "Groceries") is None and state.chosen == NONE

        names = {item.category for item in store.category_rows}
        assert names == {item.category for item in before} - {"Groceries"}
        assert row(state, "Coffee").parent_id == dining.id
        assert row(state, "Dining out").parent_id is None

    asyncio.run(scenario())


def test_the_list_and_the_pickers_show_names_as_text(backend, user):
    async def scenario():
        state, _ = await logged_in(backend, user)
        state.param.update(new_name=HOSTILE, new_parent=row(state, "Dining out").id)
        assert await state.create()
        return state

    state = asyncio.run(scenario())
    rows = state.store.category_rows
    html = categories_html(rows, state.store.colours)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;Snacks" in html
    made = row(state, HOSTILE)
    assert f"data-id='{made.id}' data-count='0' data-kind='spending'" in html
    # Bokeh draws Select options as text: the label is the name, shortened, not escaped.
    options = category_choices(rows, blank="Choose…", leave_out=made.id)
    assert options["Choose…"] == NONE and made.id not in options.values()
    assert options["Dining out"] == row(state, "Dining out").id
    # The whole panel renders (every binding resolves) for this state.
    CategoriesPanel(state=state).__panel__().get_root()

    # A logout empties the list: the next user starts with empty forms.
    state.param.update(chosen=made.id, target=row(state, "Dining out").id, new_name="Tea")
    state.store.clear_view()
    assert (state.chosen, state.target, state.new_name, state.message) == (NONE, NONE, "", "")


def test_a_chosen_colour_wins_and_anything_else_keeps_the_palettes():
    from spending_ui.theme import PALETTE, category_colours

    chosen = {"A": "#112233", "B": "red;background:url(x)", "C": None}
    assert category_colours(["C", "B", "A"], chosen=chosen) == {
        "A": "#112233",
        "B": PALETTE[1],
        "C": PALETTE[2],
    }

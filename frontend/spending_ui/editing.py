"""Correcting the data: the state of the edit form, the selection and its bulk change, the
new-transaction form and the review queue's actions. The widgets are in views/editing.py
(the rules have their own state, rules.py).

Every successful change ends in one `DashboardStore.changed()`: KPIs, charts, table, review
queue and rules all come back in one refresh, never one view at a time.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from decimal import Decimal

import param

from spending_ui.api import ApiError, BulkResult, Transaction
from spending_ui.state import parse_amount
from spending_ui.store import DashboardStore

logger = logging.getLogger(__name__)

DIRECTIONS = {"out": "Money out (spending)", "in": "Money in (income, refund)"}
NOTES_CHARS = 1000
TEXT_CHARS = 500


def parse_time(text: str) -> time:
    """ "14:30" or "" (midnight); ValueError with a sentence to show otherwise."""
    text = text.strip()
    if not text:
        return time.min
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text[:10]}” is not a time: type it like 14:30") from None


class ChangeState(param.Parameterized):
    """A state that writes through the API: a message for what the last write did, and
    every view refreshed once after it."""

    store = param.ClassSelector(class_=DashboardStore)
    message = param.String(default="", doc="What the last change did, or why it failed")
    busy = param.Boolean(default=False)

    async def _change(self, request, done) -> bool:
        """Run one write; on success refresh every view once and say `done` (a text, or a
        function of the write's answer)."""
        self.busy = True
        try:
            answer = await request
        except ApiError as exc:
            self.message = self.store.auth.handle(exc)
            return False
        finally:
            self.busy = False
        self.message = done(answer) if callable(done) else done
        await self.store.changed()
        return True


class EditState(ChangeState):
    # One transaction's edit form.
    editing = param.ClassSelector(class_=Transaction, default=None, allow_None=True)
    edit_category = param.String(default="", allow_None=True)  # None: a Select with no options
    edit_description = param.String(default="")
    edit_notes = param.String(default="")
    confirm_delete = param.Boolean(default=False, doc="Delete was pressed once: again deletes")

    # Rows ticked in the table, and their recategorization (checked by a dry run first).
    selected = param.List(default=[], item_type=int)
    bulk_category = param.String(default="", allow_None=True)  # None: a Select with no options
    bulk_check = param.ClassSelector(class_=BulkResult, default=None, allow_None=True)

    # The new-transaction form.
    adding = param.Boolean(default=False, doc="The form is shown")
    new_account_id = param.Integer(default=None, allow_None=True)
    new_date = param.CalendarDate(default=None, allow_None=True)
    new_time = param.String(default="")
    new_amount = param.String(default="")
    new_direction = param.Selector(default="out", objects=list(DIRECTIONS))
    new_description = param.String(default="")
    new_category = param.String(default="", allow_None=True)  # None: a Select with no options
    new_notes = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        # A check answers for one selection and one category: any change makes it stale.
        self.param.watch(
            lambda *_: setattr(self, "bulk_check", None), ["selected", "bulk_category"]
        )

    # -- shared ---------------------------------------------------------------------------

    def _shown(self, transaction_id: int) -> Transaction | None:
        """The transaction as the table or the review queue shows it now."""
        for page in (self.store.page, self.store.review):
            for item in page.items if page else ():
                if item.id == transaction_id:
                    return item
        return None

    def reset(self) -> None:
        """Forget everything (a logout)."""
        self.param.update(
            message="",
            editing=None,
            selected=[],
            bulk_category="",
            bulk_check=None,
            adding=False,
        )

    async def act(self, action: str, target: int) -> None:
        """A click on a row's button (the table, the review queue)."""
        if action == "edit":
            self.start_edit(target)
        elif action == "accept":
            await self.accept(target)

    # -- one transaction ------------------------------------------------------------------

    def start_edit(self, transaction_id: int) -> None:
        item = self._shown(transaction_id)
        if item is None:
            return
        self.param.update(
            editing=item,
            edit_category=item.category,
            edit_description=item.description or "",
            edit_notes=item.notes or "",
            confirm_delete=False,
            message="",
        )

    def cancel_edit(self) -> None:
        self.param.update(editing=None, confirm_delete=False)

    async def save_edit(self) -> bool:
        item = self.editing
        if item is None:
            return False
        changes: dict = {}
        if self.edit_category and self.edit_category != item.category:
            changes["category"] = self.edit_category
        description = self.edit_description.strip()[:TEXT_CHARS]
        if description != (item.description or ""):
            changes["description"] = description or None
        notes = self.edit_notes.strip()[:NOTES_CHARS]
        if notes != (item.notes or ""):
            changes["notes"] = notes or None
        if not changes:
            self.editing = None
            return True
        saved = await self._change(
            self.store.api.update_transaction(item.id, **changes), "Transaction saved."
        )
        if saved:
            self.editing = None
        return saved

    async def delete_edited(self) -> bool:
        item = self.editing
        if item is None:
            return False
        if not self.confirm_delete:
            # A deletion cannot be undone (an imported row stays deleted): a second press.
            self.param.update(
                confirm_delete=True, message="Press Delete again to delete this transaction."
            )
            return False
        deleted = await self._change(
            self.store.api.delete_transaction(item.id), "Transaction deleted."
        )
        if deleted:
            self.param.update(
                editing=None,
                confirm_delete=False,
                selected=[i for i in self.selected if i != item.id],
            )
        return deleted

    # -- the selection --------------------------------------------------------------------

    def set_page_selection(self, *, checked: list[int], shown: list[int]) -> None:
        """The ticks of the rows on screen (`shown`), as the page reports them: rows ticked
        on other pages stay selected."""
        elsewhere = [i for i in self.selected if i not in set(shown)]
        chosen = [*elsewhere, *dict.fromkeys(i for i in checked if i in set(shown))]
        if chosen != self.selected:
            self.selected = chosen

    def clear_selection(self) -> None:
        self.param.update(selected=[], bulk_check=None)

    async def check_bulk(self) -> None:
        """The dry run: how many of the selected rows would change, and their total."""
        if not self.selected or not self.bulk_category:
            self.message = "Tick some transactions and choose a category first."
            return
        try:
            check = await self.store.api.bulk_update(
                ids=self.selected, change={"category": self.bulk_category}, dry_run=True
            )
        except ApiError as exc:
            self.message = self.store.auth.handle(exc)
            return
        self.bulk_check = check

    async def confirm_bulk(self) -> bool:
        if self.bulk_check is None:
            return False
        count = len(self.selected)
        done = await self._change(
            self.store.api.bulk_update(
                ids=self.selected, change={"category": self.bulk_category}, dry_run=False
            ),
            f"{count} transaction{'s' if count != 1 else ''} moved to {self.bulk_category}.",
        )
        if done:
            self.clear_selection()
        return done

    # -- a new transaction ----------------------------------------------------------------

    def open_add(self) -> None:
        accounts = self.store.accounts
        self.param.update(
            adding=True,
            new_account_id=self.new_account_id or (accounts[0].id if accounts else None),
            new_date=self.new_date or date.today(),
            message="",
        )

    async def add_transaction(self) -> bool:
        try:
            amount = parse_amount(self.new_amount)
            moment = datetime.combine(self.new_date or date.today(), parse_time(self.new_time))
        except ValueError as exc:
            self.message = str(exc)
            return False
        if amount is None or amount == 0:
            self.message = "Type the amount, like 12.50."
            return False
        if self.new_account_id is None:
            self.message = "Choose the account."
            return False
        value = abs(Decimal(str(amount))).quantize(Decimal("0.01"))
        added = await self._change(
            self.store.api.create_transaction(
                account_id=self.new_account_id,
                timestamp=moment,
                amount=value if self.new_direction == "out" else -value,
                description=self.new_description.strip()[:TEXT_CHARS] or None,
                category=self.new_category or None,
                notes=self.new_notes.strip()[:NOTES_CHARS] or None,
            ),
            "Transaction added.",
        )
        if added:
            self.param.update(
                adding=False, new_amount="", new_description="", new_notes="", new_time=""
            )
        return added

    # -- the review queue -----------------------------------------------------------------

    async def accept(self, transaction_id: int) -> bool:
        return await self._change(
            self.store.api.accept_suggestion(transaction_id), "Suggestion accepted."
        )

    async def recategorize(self, transaction_id: int, category: str) -> bool:
        return await self._change(
            self.store.api.update_transaction(transaction_id, category=category),
            f"Moved to {category}.",
        )

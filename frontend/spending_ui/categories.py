"""Managing the categories: the state of the "Categories" panel (views/categories.py).

The list is the store's (`DashboardStore.category_rows`, from GET /categories). A new
category, a change (name, kind, colour, group) and a merge or a delete each end in one
`DashboardStore.changed()`, as every correction does (editing.py): KPIs, charts, table,
pickers and this list come back in one refresh.
"""

from __future__ import annotations

import logging
import re

import param

from spending_ui.api import CATEGORY_KINDS, ApiError, CategoryCount
from spending_ui.store import DashboardStore
from spending_ui.theme import PALETTE

logger = logging.getLogger(__name__)

NAME_CHARS = 100  # the API's limit for a name
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# The API's `detail` codes of /categories (spending_api.errors), as sentences; any other
# detail is shown as the API said it.
REFUSALS = {
    "category_name_taken": "You have a category of that name already: merge into it instead.",
    "category_required": (
        "“Uncategorized” and “Uncategorized income” are where unclassified money goes: "
        "they keep their name and kind and cannot be deleted."
    ),
    "category_parent_cycle": (
        "A category cannot be grouped under itself or under one of its own subgroups."
    ),
    "category_merge_into_itself": "Choose another category to move the transactions to.",
    "category_in_use": "It has transactions: choose the category they move to.",
    "category_not_found": "That category no longer exists (changed elsewhere?): list refreshed.",
    "parent_category_not_found": "The group chosen no longer exists: list refreshed.",
    "target_category_not_found": "The category to move to no longer exists: list refreshed.",
}
# Refusals that mean the list shown is out of date.
_STALE = {"category_not_found", "parent_category_not_found", "target_category_not_found"}
ACTIONS = {"merge": "Merge", "delete": "Delete"}
NONE = 0  # no category chosen (ids start at 1); a Select shows it, unlike None


def plural(count: int, word: str = "transaction") -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


class CategoryState(param.Parameterized):
    store = param.ClassSelector(class_=DashboardStore)
    message = param.String(default="", doc="What the last change did, or why it failed")
    busy = param.Boolean(default=False)

    # The new-category form.
    new_name = param.String(default="")
    new_kind = param.Selector(default="spending", objects=list(CATEGORY_KINDS))
    # A colour of its own (the picker's, #rrggbb) only when own_colour; else the palette's.
    new_colour = param.Color(default=PALETTE[0], doc="#rrggbb")
    new_own_colour = param.Boolean(default=False, doc="The picker's colour, not the palette's")
    new_parent = param.Integer(
        default=NONE, bounds=(0, None), doc="The category it is grouped under"
    )

    # The chosen category's form: its fields as the user edits them.
    chosen = param.Integer(
        default=NONE, bounds=(0, None), doc="Rename it, change it, merge or delete it"
    )
    edit_name = param.String(default="")
    edit_kind = param.Selector(default="spending", objects=list(CATEGORY_KINDS))
    edit_colour = param.Color(default=PALETTE[0], doc="#rrggbb; shown: its colour now")
    edit_own_colour = param.Boolean(default=False)
    edit_parent = param.Integer(default=NONE, bounds=(0, None))

    # Merge or delete the chosen one: where its transactions go, asked once, then confirmed.
    target = param.Integer(
        default=NONE,
        bounds=(0, None),
        doc="Merge or Delete moves every transaction of the chosen category here",
    )
    pending = param.Selector(default=None, objects=[None, *ACTIONS], allow_None=True)

    def __init__(self, **params):
        super().__init__(**params)
        # A question answers for one category and one target: any change makes it stale.
        self.param.watch(lambda *_: setattr(self, "pending", None), ["chosen", "target"])

    # -- what is shown ----------------------------------------------------------------------

    def row(self, category_id: int) -> CategoryCount | None:
        for item in self.store.category_rows:
            if item.id == category_id:
                return item
        return None

    @param.depends("pending", "chosen", "target", "store.category_rows")
    def question(self) -> str:
        """The confirmation asked before a merge or a delete: what moves where."""
        source, target = self.row(self.chosen), self.row(self.target)
        if self.pending is None or source is None or target is None:
            return ""
        moves = f"{plural(source.count)} move{'s' if source.count == 1 else ''}"
        if self.pending == "merge":
            return f"Merge “{source.category}” into “{target.category}”: {moves} to it."
        return f"Delete “{source.category}”: {moves} to “{target.category}”."

    # -- shared -----------------------------------------------------------------------------

    async def _change(self, request, done: str) -> bool:
        """Run one write; on success refresh every view once and say `done`. Busy until the
        views are refreshed: no click acts on what the screen no longer shows."""
        self.busy = True
        try:
            try:
                await request
            except ApiError as exc:
                detail = exc.detail if isinstance(exc.detail, str) else None
                message = self.store.auth.handle(exc)
                self.message = REFUSALS.get(detail, message)
                if detail in _STALE:
                    await self.store.changed()
                return False
            self.message = done
            await self.store.changed()
            return True
        finally:
            self.busy = False

    @staticmethod
    def _colour(text: str, own: bool) -> str | None:
        """'#rrggbb' when the category has its own colour, None for the palette's;
        ValueError with a sentence to show otherwise."""
        if not own:
            return None
        text = (text or "").strip()
        if not COLOUR.fullmatch(text):
            raise ValueError(f"“{text[:10]}” is not a colour: pick one like #4e79a7.")
        return text.lower()

    def reset(self) -> None:
        """Forget everything (a logout)."""
        self.param.update(
            message="",
            new_name="",
            new_kind="spending",
            new_colour=PALETTE[0],
            new_own_colour=False,
            new_parent=NONE,
            chosen=NONE,
            target=NONE,
            pending=None,
        )

    @param.depends("store.category_rows", watch=True)
    def _rows_changed(self) -> None:
        """A new list (a change, another tab's, a logout): forget ids that are gone."""
        if not self.store.category_rows:
            self.reset()
            return
        known = {item.id for item in self.store.category_rows}
        updates = {
            name: NONE
            for name in ("chosen", "target", "new_parent", "edit_parent")
            if getattr(self, name) not in known | {NONE}
        }
        if updates:
            self.param.update(**updates)

    # -- a new category ---------------------------------------------------------------------

    async def create(self) -> bool:
        if self.busy:  # a second click while the first is on its way
            return False
        name = self.new_name.strip()
        if not name:
            self.message = "Type the new category's name."
            return False
        try:
            colour = self._colour(self.new_colour, self.new_own_colour)
        except ValueError as exc:
            self.message = str(exc)
            return False
        created = await self._change(
            self.store.api.create_category(
                name=name[:NAME_CHARS],
                kind=self.new_kind,
                colour=colour,
                parent_id=self.new_parent or None,
            ),
            f"Category “{name[:NAME_CHARS]}” created.",
        )
        if created:
            self.param.update(
                new_name="", new_colour=PALETTE[0], new_own_colour=False, new_parent=NONE
            )
        return created

    # -- the chosen category ----------------------------------------------------------------

    @param.depends("chosen", watch=True)
    def _fill(self) -> None:
        """The form shows the chosen category as it is."""
        item = self.row(self.chosen)
        if item is None:
            return
        self.param.update(
            edit_name=item.category,
            edit_kind=item.kind if item.kind in CATEGORY_KINDS else "spending",
            # The picker starts at the colour it is drawn in now, the palette's or its own.
            edit_colour=item.colour or self.store.colours.get(item.category, PALETTE[0]),
            edit_own_colour=item.colour is not None,
            edit_parent=item.parent_id or NONE,
            message="",
        )

    async def save(self) -> bool:
        """Send what changed: a new name moves every transaction (and rule) to it."""
        if self.busy:  # a second click while the first is on its way
            return False
        item = self.row(self.chosen)
        if item is None:
            self.message = "Choose the category to change first."
            return False
        try:
            colour = self._colour(self.edit_colour, self.edit_own_colour)
        except ValueError as exc:
            self.message = str(exc)
            return False
        name = self.edit_name.strip()[:NAME_CHARS]
        if not name:
            self.message = "A category needs a name."
            return False
        changes: dict = {}
        if name != item.category:
            changes["name"] = name
        if self.edit_kind != item.kind:
            changes["kind"] = self.edit_kind
        if colour != (item.colour or None):
            changes["colour"] = colour
        if (self.edit_parent or None) != item.parent_id:
            changes["parent_id"] = self.edit_parent or None
        if not changes:
            self.message = "Nothing changed."
            return True
        if "name" in changes:
            done = f"“{item.category}” renamed to “{name}”: {plural(item.count)} follow."
        else:
            done = f"Category “{name}” saved."
        return await self._change(self.store.api.update_category(item.id, **changes), done)

    def ask(self, action: str) -> None:
        """The first press of Merge or Delete: the question, not the change."""
        source, target = self.row(self.chosen), self.row(self.target)
        if source is None:
            self.message = "Choose the category first."
            return
        if target is None:
            self.message = "Choose the category its transactions move to."
            return
        if target.id == source.id:
            self.message = REFUSALS["category_merge_into_itself"]
            return
        self.param.update(pending=action, message="")

    def cancel(self) -> None:
        self.pending = None

    async def confirm(self) -> bool:
        """The second press: merge into the target (POST …/merge), or delete with the target
        taking the transactions (DELETE …?move_to=)."""
        if self.busy:  # a second click while the first is on its way
            return False
        source, target, action = self.row(self.chosen), self.row(self.target), self.pending
        if action is None or source is None or target is None:
            return False
        moved = plural(source.count)
        api = self.store.api
        if action == "merge":
            request = api.merge_category(source.id, into=target.id)
            done = f"“{source.category}” merged into “{target.category}”: {moved} moved."
        else:
            request = api.delete_category(source.id, move_to=target.id)
            done = f"“{source.category}” deleted: {moved} moved to “{target.category}”."
        changed = await self._change(request, done)
        self.pending = None
        if changed:
            self.param.update(chosen=NONE, target=NONE)
        return changed

"""The "Categories" card: the user's categories (kind, colour, group, transaction count), a
new one, and changing, merging or deleting one. Its state is CategoryState; the list is the
store's, refreshed with every view after each change."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import CATEGORY_KINDS
from spending_ui.categories import ACTIONS, NONE, CategoryState
from spending_ui.text import LABEL_CHARS, html_text, select_options
from spending_ui.views.editing import button
from spending_ui.views.on_demand import card_built_on_expand

WIDE = {"sizing_mode": "stretch_width"}
NO_GROUP = "No group"


def categories_html(rows, colours: dict[str, str]) -> str:
    """The list: swatch, name, kind, group and count of each category."""
    if not rows:
        return "<div class='muted'>Loading…</div>"
    names = {item.id: item.category for item in rows}
    lines = []
    for item in rows:
        group = names.get(item.parent_id)
        lines.append(
            f"<tr class='category-row' data-id='{item.id}' data-count='{item.count}' "
            f"data-kind='{item.kind if item.kind in CATEGORY_KINDS else ''}'>"
            f"<td><span class='swatch' style='background:{colours.get(item.category, '#888')}'>"
            f"</span>{html_text(item.category, LABEL_CHARS)}</td>"
            f"<td class='kind'>{CATEGORY_KINDS.get(item.kind, 'Spending')}</td>"
            f"<td class='group'>{html_text(group, LABEL_CHARS) if group else ''}</td>"
            f"<td class='amount'>{item.count:,}</td></tr>"
        )
    head = "".join(
        f"<th style='text-align:{side};padding:5px 8px'>{title}</th>"
        for title, side in (
            ("Category", "left"),
            ("Kind", "left"),
            ("Group", "left"),
            ("Transactions", "right"),
        )
    )
    return (
        f"<table class='review-table categories-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


def category_choices(rows, *, blank: str | None = None, leave_out: int = NONE) -> dict:
    """Options {label: id} of a Select, labelled as text.select_options labels names;
    `blank` first with the value NONE."""
    ids = {item.category: item.id for item in rows if item.id != leave_out}
    options: dict = {} if blank is None else {blank: NONE}
    options.update({label: ids[name] for label, name in select_options(ids).items()})
    return options


def _wrapping(*objects, **options) -> pn.FlexBox:
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="end", **WIDE, **options)


def _colour_widgets(colour, own, form: str) -> tuple:
    """ "Own colour" ticked: the picker's colour; otherwise the palette's (picker disabled)."""
    return (
        pn.widgets.Checkbox.from_param(
            own, label="Own colour", css_classes=[f"category-{form}-own-colour"], width=100
        ),
        pn.widgets.ColorPicker.from_param(
            colour,
            label="Colour",
            disabled=own.rx.not_(),
            css_classes=[f"category-{form}-colour"],
            width=70,
        ),
    )


class CategoriesPanel(Viewer):
    """The list, a new category, and the chosen one's changes, merge and delete."""

    state = param.ClassSelector(class_=CategoryState)

    def __init__(self, **params):
        super().__init__(**params)
        state, store = self.state, self.state.store
        kinds = {label: kind for kind, label in CATEGORY_KINDS.items()}
        rows = store.param.category_rows
        busy = {"disabled": state.param.busy}  # no second click while a change is on its way
        self._list = pn.pane.HTML(
            pn.bind(lambda r: categories_html(r, store.colours), rows),
            css_classes=["categories-list"],
            **WIDE,
        )
        self._message = pn.pane.HTML(
            pn.bind(
                lambda text: f"<div class='category-message' role='status'>{html_text(text)}</div>",
                state.param.message,
            ),
            visible=state.param.message.rx.bool(),
            **WIDE,
        )
        self._new = _wrapping(
            pn.widgets.TextInput.from_param(
                state.param.new_name, label="New category", css_classes=["category-new-name"]
            ),
            pn.widgets.Select.from_param(
                state.param.new_kind, label="Kind", options=kinds, width=120
            ),
            *_colour_widgets(state.param.new_colour, state.param.new_own_colour, "new"),
            pn.widgets.Select.from_param(
                state.param.new_parent,
                label="Group under",
                options=pn.bind(lambda r: category_choices(r, blank=NO_GROUP), rows),
                css_classes=["category-new-parent"],
            ),
            button("Create", "category-create", self._create, color="primary", **busy),
        )
        self._chosen = pn.widgets.Select.from_param(
            state.param.chosen,
            label="Change a category",
            options=pn.bind(lambda r: category_choices(r, blank="Choose…"), rows),
            css_classes=["category-chosen"],
        )
        chosen = state.param.chosen
        self._edit = pn.Column(
            _wrapping(
                pn.widgets.TextInput.from_param(
                    state.param.edit_name, label="Name", css_classes=["category-edit-name"]
                ),
                pn.widgets.Select.from_param(
                    state.param.edit_kind,
                    label="Kind",
                    options=kinds,
                    width=120,
                    css_classes=["category-edit-kind"],
                ),
                *_colour_widgets(state.param.edit_colour, state.param.edit_own_colour, "edit"),
                pn.widgets.Select.from_param(
                    state.param.edit_parent,
                    label="Group under",
                    options=pn.bind(
                        lambda r, c: category_choices(r, blank=NO_GROUP, leave_out=c), rows, chosen
                    ),
                    css_classes=["category-edit-parent"],
                ),
                button("Save", "category-save", self._save, color="primary", **busy),
            ),
            _wrapping(
                pn.widgets.Select.from_param(
                    state.param.target,
                    label="Move its transactions to",
                    options=pn.bind(
                        lambda r, c: category_choices(r, blank="Choose…", leave_out=c),
                        rows,
                        chosen,
                    ),
                    css_classes=["category-target"],
                ),
                *(
                    button(f"{label}…", f"category-{action}", self._asker(action))
                    for action, label in ACTIONS.items()
                ),
            ),
            _wrapping(
                pn.pane.HTML(
                    pn.bind(
                        lambda *_: f"<div class='category-question'>"
                        f"{html_text(state.question())}</div>",
                        state.param.pending,
                        state.param.target,
                        rows,
                    ),
                    **WIDE,
                ),
                button("Confirm", "category-confirm", self._confirm, color="danger", **busy),
                button("Cancel", "category-cancel", lambda _: state.cancel()),
                visible=state.param.pending.rx.is_not(None),
                css_classes=["category-confirmation"],
            ),
            visible=chosen.rx.bool(),
            css_classes=["category-edit"],
            **WIDE,
        )

    def _asker(self, action: str):
        return lambda _: self.state.ask(action)

    async def _create(self, _) -> None:
        await self.state.create()

    async def _save(self, _) -> None:
        await self.state.save()

    async def _confirm(self, _) -> None:
        await self.state.confirm()

    def __panel__(self):
        # The forms and their message first, the (long) list below them.
        return pn.Column(
            self._message,
            self._new,
            self._chosen,
            self._edit,
            self._list,
            **WIDE,
        )


def categories_card(state: CategoryState) -> pn.Card:
    """The panel in a collapsed card, beside the review queue and the rules; made when the
    card is first unfolded."""
    return card_built_on_expand(
        "Categories", lambda: CategoriesPanel(state=state), margin=8, css_classes=["categories"]
    )

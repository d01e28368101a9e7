"""The account filter: a multi-select of the user's accounts, bound to Filters.accounts (the
`account` query parameter, kept in the URL like the other filters)."""

from __future__ import annotations

from html import escape

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.store import DashboardStore
from spending_ui.text import LABEL_CHARS, plain


def account_choices(accounts, chosen=()) -> dict[str, int]:
    """{label: id} for the MultiChoice: labels escaped (choices.js inserts them as HTML),
    bidi-safe and shortened; a chosen id not (yet) in the list keeps an entry of its own."""
    options: dict[str, int] = {}
    for account in accounts:
        label = escape(f"{plain(account.name, LABEL_CHARS)} · {plain(account.currency)}")
        if label in options:  # two names that shorten alike
            label = f"{label} #{account.id}"
        options[label] = account.id
    known = set(options.values())
    for account_id in chosen:
        if account_id not in known:
            options[f"Account #{account_id}"] = account_id
    return options


class AccountFilter(Viewer):
    """Shown once there is a choice to make: two accounts or more, or accounts in the URL.
    (Until then the multi-select is not even made: one less widget for the browser to build
    at every login of a one-account user.)"""

    store = param.ClassSelector(class_=DashboardStore)

    def __init__(self, **params):
        super().__init__(**params)
        self._holder = pn.Column(sizing_mode="stretch_width", margin=(0, 0, 10, 0))
        self._choice: pn.widgets.MultiChoice | None = None
        self.store.param.watch(self._options, "accounts")
        self.store.filters.param.watch(self._options, "accounts")
        self._options()

    def _options(self, *_) -> None:
        store, filters = self.store, self.store.filters
        options = account_choices(store.accounts, filters.accounts)
        if self._choice is not None:
            self._choice.options = options
            return
        if len(options) < 2 and not filters.accounts:
            return
        self._choice = pn.widgets.MultiChoice.from_param(
            filters.param.accounts,
            options=options,
            label="Accounts",
            placeholder="All accounts",
            sizing_mode="stretch_width",
            css_classes=["account-filter"],
        )
        self._holder.objects = [self._choice]

    def __panel__(self):
        return self._holder

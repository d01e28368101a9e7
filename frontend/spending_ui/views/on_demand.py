"""Parts of the page made the first time they are shown: a folded card's body when it is
first unfolded, a form when it is first opened. Until then the session has no widgets for
them and the browser gets nothing to draw, so a dashboard that is only looked at loads
faster. Once made, a part stays: it shows and hides itself as it always did."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from panel.layout import ListLike
from panel.viewable import Viewable


def built_when(shown, build: Callable[[], Viewable], **layout) -> pn.Column:
    """An empty Column that holds `build()`'s object from the first time `shown` is true:
    a boolean Parameter (`state.param.adding`) or a reactive expression
    (`state.param.editing.rx.is_not(None)`)."""
    holder = pn.Column(**{"sizing_mode": "stretch_width", "margin": 0, **layout})
    _fill_when(shown, holder, build)
    return holder


def card_built_on_expand(title: str, build: Callable[[], Viewable], **card) -> pn.Card:
    """A folded pn.Card whose body is `build()`'s object, made when it is first unfolded."""
    folded = pn.Card(
        title=title,
        **{"collapsible": True, "collapsed": True, "sizing_mode": "stretch_width", **card},
    )
    _fill_when(folded.param.collapsed.rx.not_(), folded, build)
    return folded


def _fill_when(shown, layout: ListLike, build: Callable[[], Viewable]) -> None:
    def fill(now_shown: bool) -> None:
        if now_shown and not layout.objects:
            layout.objects = [build()]

    pn.bind(fill, shown, watch=True)()  # watched from now on, and filled now if shown already

"""Colours, number formats and the address of the stylesheet the dashboard adds to its template."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from panel.theme import Fast

from spending_ui.serve import STATIC_DIR, STATIC_ROUTE

ACCENT = "#2f6fdf"
REFUND_COLOUR = "#2a9d5c"  # money in: the colour of a fall in spending
# Tableau 10 then its lighter companions: distinct in light and dark themes.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#ff9d9a",
    "#86bcb6",
    "#f1ce63",
    "#d4a6c8",
    "#d7b5a6",
)


SYSTEM_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def use_system_fonts() -> None:
    """No web font: Panel's Fast design links Open Sans from Google Fonts on every page,
    an outside request (blocked by the CSP, two console errors). The system fonts need none."""
    Fast._resources = {**Fast._resources, "font": {}}


COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def category_colours(categories: list[str], chosen: dict[str, str] | None = None) -> dict[str, str]:
    """One colour per category: the one the user chose for it ('#rrggbb'), else one by its
    place in the user's sorted category list.

    The list comes from /categories (all of the user's categories), so a category keeps
    its colour whatever the filters, in every chart.
    """
    chosen = {name: c for name, c in (chosen or {}).items() if COLOUR.fullmatch(c or "")}
    return {
        name: chosen.get(name, PALETTE[i % len(PALETTE)])
        for i, name in enumerate(sorted(set(categories)))
    }


def money(value: Decimal | float | int) -> str:
    return f"{Decimal(value):,.2f}"


def percent_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """Relative change in percent, None when the previous value is zero."""
    if not previous:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous) * 100


def _stylesheet_url() -> str:
    """theme.css's address relative to the app's page (so it works under any --prefix),
    with its content's hash as ?v=: Tornado's static handler then lets browsers cache it
    for a year, and a changed file gets a new address."""
    digest = hashlib.sha256((STATIC_DIR / "theme.css").read_bytes()).hexdigest()[:12]
    return f"{STATIC_ROUTE}/theme.css?v={digest}"


# The dashboard's own CSS, static/theme.css, served once by `panel serve --static-dirs`
# (spending_ui.serve) and given to Panel as a URL (pn.config.css_files): the page links it,
# and every component's shadow root gets one shared ImportedStyleSheet model that links it.
# As raw CSS text, Panel copied all of it into every component's stylesheets, ~80 copies
# in the first Bokeh patch (docs/ARCHITECTURE.md, first load).
STYLESHEET = _stylesheet_url()

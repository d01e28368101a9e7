"""Colours, number formats and the small amount of CSS the dashboard adds to its template."""

from __future__ import annotations

import re
from decimal import Decimal

from panel.theme import Fast

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


CSS = """
.kpi { padding: 14px 18px; border-radius: 10px; min-height: 104px;
  background: var(--panel-surface-color, var(--background-color, #fff));
  border: 1px solid rgba(128,128,128,.22); box-sizing: border-box; }
.kpi-label { font-size: 13px; opacity: .75; text-transform: uppercase; letter-spacing: .04em; }
.kpi-value { font-size: 28px; font-weight: 650; margin: 6px 0 4px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.kpi-delta { font-size: 13px; }
.kpi-delta.up { color: #d1495b; } .kpi-delta.down { color: #2a9d5c; }
.kpi-delta.flat, .kpi-delta.none, .kpi-delta.new { opacity: .7; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  margin-right: 8px; vertical-align: middle; }
table.tx { width: 100%; border-collapse: collapse; font-size: 14px; }
table.tx th { text-align: left; font-weight: 600; padding: 8px 10px; opacity: .8;
  border-bottom: 1px solid rgba(128,128,128,.35); }
table.tx td { padding: 7px 10px; border-bottom: 1px solid rgba(128,128,128,.15); }
table.tx td.amount, table.tx th.amount { text-align: right; font-variant-numeric: tabular-nums; }
table.tx td.when, table.tx th.when { white-space: nowrap; }
table.tx th button.sort { font: inherit; color: inherit; background: none; border: 0;
  padding: 0; cursor: pointer; text-align: inherit; }
table.tx th button.sort:hover, table.tx th button.sort:focus-visible { text-decoration: underline; }
table.tx td.when .time { opacity: .6; font-size: 12px; }
table.tx td.why { font-size: 12px; opacity: .75; }
table.tx td.row-actions { white-space: nowrap; }
table.tx td.edits { cursor: pointer; }
table.tx button.row-edit { font: inherit; font-size: 12px; margin-left: 6px; cursor: pointer; }
table.review-table { width: 100%; border-collapse: collapse; font-size: 13px; }
table.review-table td { padding: 5px 8px; border-bottom: 1px solid rgba(128,128,128,.15); }
table.review-table td.amount { text-align: right; font-variant-numeric: tabular-nums; }
table.review-table td.when, table.review-table td.row-actions { white-space: nowrap; }
.tx-total { text-align: right; font-size: 14px; padding: 4px 0; }
@media (max-width: 600px) {
  table.tx { font-size: 12px; }
  table.tx td, table.tx th { padding: 6px 4px; }
  table.tx td.when .time { display: none; }
  /* On a phone the table keeps to the screen's width: no "why" (the review queue has the
     suggestions) and no tick boxes; a tap on the description opens the edit form. */
  table.tx td.why, table.tx th.why { display: none; }
  table.tx td.row-actions, table.tx th.row-actions { display: none; }
  table.review-table td.when { display: none; }
  table.review-table td.row-actions { white-space: normal; }
}
table.tx tr:hover td { background: rgba(128,128,128,.08); }
.money-in { color: #2a9d5c; }
.donut-notes ul { margin: 4px 0 8px; padding-left: 18px; font-size: 13px; }
.donut-notes li { list-style: none; margin-left: -18px; }
.empty { text-align: center; padding: 36px 12px; opacity: .85; }
.empty h3 { margin: 0 0 6px; }
.first-run-files { text-align: left; max-width: 640px; margin: 12px auto 0; font-size: 14px; }
.login-title { text-align: center; margin: 0; }
.muted { opacity: .7; font-size: 13px; }
@media (max-width: 899px) {
  /* A narrow viewport (phone, tablet, narrow window): the menu lies over the page instead of
     squeezing it, and PageBridge closes it at the start and after each choice. */
  #content { position: relative; }
  #sidebar { position: absolute; top: 0; left: 0; z-index: 50; max-width: min(320px, 88vw);
    min-width: min(320px, 88vw); background: var(--background-color, #fff);
    box-shadow: 2px 0 14px rgba(0, 0, 0, .3); }
  #sidebar.hidden { box-shadow: none; min-width: 0; max-width: 0; }
}
@media (max-width: 600px) {
  /* The template's header: title, log out, theme switch and busy spinner in one line. */
  #header .app-header .title { font-size: 20px; }
  #header .pn-busy-container { display: none; }
}
"""

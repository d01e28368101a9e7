"""How every user string (categories, descriptions, names) is shown: escaped, bidi-safe, bounded.

Views never put a user string into HTML or a widget label themselves; they call one of these.
`plain` is for places that draw text as text (a Bokeh legend on canvas, a tooltip field that
Bokeh escapes); `html_text` for HTML panes; `choice_options` for the multi-select, whose
choices.js renders option labels as HTML.
"""

from __future__ import annotations

import re
from html import escape

# Explicit embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the
# text around them, so "invoice\u202egpj.exe" would read as "invoiceexe.jpg". Shown text
# drops them and HTML isolates each string in <bdi>; the stored value is left as it is.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
ELLIPSIS = "…"
LABEL_CHARS = 32  # categories in the legend, the table, the KPI card and the multi-select
DESCRIPTION_CHARS = 80


def plain(value: object, limit: int | None = None) -> str:
    """`value` as display text: no bidi controls, at most `limit` characters (with "…")."""
    text = BIDI_CONTROLS.sub("", "" if value is None else str(value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def html_text(value: object, limit: int | None = None) -> str:
    """`value` as HTML: escaped, isolated in <bdi>, shortened with the full text as a title."""
    full, shown = plain(value), plain(value, limit)
    title = f' title="{escape(full, quote=True)}"' if shown != full else ""
    return f"<bdi{title}>{escape(shown)}</bdi>"


def choice_options(values, limit: int = LABEL_CHARS) -> dict[str, str]:
    """Options {label: value} for a MultiChoice: labels escaped (choices.js inserts them as
    HTML), bidi-safe and shortened; values unchanged, so filters keep the exact string."""
    options: dict[str, str] = {}
    for value in values:
        label = escape(plain(value, limit))
        if label in options:  # two long names that shorten alike: show the second in full
            label = escape(plain(value))
        options[label] = value
    return options


def select_options(values, limit: int = LABEL_CHARS) -> dict[str, str]:
    """Options {label: value} for a Select (Bokeh draws them as text: bidi-safe and shortened,
    not escaped); values unchanged."""
    options: dict[str, str] = {}
    for value in values:
        label = plain(value, limit)
        if label in options:
            label = plain(value)
        options[label] = value
    return options

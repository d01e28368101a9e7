"""Every user string is shown escaped, without bidi overrides, and bounded (spending_ui.text)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from spending_ui import text

PAYLOADS = [
    "<img src=x onerror=window.__xss=1>",
    "\"'><script>window.__xss=1</script>",
    "[click](javascript:alert(1)) https://evil.example.org",
    "Groceries &amp; more",
]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.attrs = [], "", {}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.update(attrs)

    def handle_data(self, data):
        self.text += data


def parse(html: str) -> _Collect:
    collected = _Collect()
    collected.feed(html)
    collected.close()
    return collected


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_shows_markup_as_text(payload):
    parsed = parse(text.html_text(payload))
    assert parsed.tags == ["bdi"]  # the only element is the isolate; nothing of the payload
    assert parsed.text == payload


def test_long_text_is_shortened_with_the_full_text_as_title():
    name = "Subscriptions and memberships for the whole family " * 4
    parsed = parse(text.html_text(name, 32))
    assert len(parsed.text) == 32 and parsed.text.endswith("…")
    assert parsed.attrs["title"] == name
    assert "title" not in text.html_text("Short", 32)


def test_a_long_title_with_quotes_stays_one_attribute():
    name = 'x" onmouseover="window.__xss=1' + "y" * 40
    parsed = parse(text.html_text(name, 10))
    assert parsed.tags == ["bdi"] and set(parsed.attrs) == {"title"}
    assert parsed.attrs["title"] == name


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2069"])
def test_bidi_controls_are_dropped_from_what_is_shown(control):
    spoof = f"invoice{control}fdp.exe"
    assert text.plain(spoof) == "invoicefdp.exe"
    assert control not in text.html_text(spoof)


def test_rtl_text_itself_is_kept():
    assert text.plain("מכולת") == "מכולת"
    assert text.html_text("מכולת") == "<bdi>מכולת</bdi>"


def test_choice_options_escape_labels_and_keep_values():
    values = [*PAYLOADS, "A" * 100, "A" * 99 + "B", "Rent\u202e"]
    options = text.choice_options(values)
    assert list(options.values()) == values  # filters get the exact stored strings
    for label, value in options.items():
        assert "<" not in label and ">" not in label
        assert "\u202e" not in label
    long_labels = [label for label, value in options.items() if value.startswith("A" * 90)]
    assert long_labels[0] == "A" * 31 + "…"  # the second one shortens alike: shown in full
    assert long_labels[1] == "A" * 99 + "B"


def test_plain_text_of_nothing_is_empty():
    assert text.plain(None) == "" and text.html_text(None) == "<bdi></bdi>"

"""The entry point: format sniffing, inputs of every kind, option checks."""

import io
from pathlib import Path

import pytest

from spending_api.ingest import ParseFailed, ParseOptions, parse
from spending_api.ingest.parser import sniff_format

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("checking-ofx1.ofx", "ofx"),
        ("card-ofx2.qfx", "ofx"),
        ("bank-dayfirst.qif", "qif"),
        ("statement.camt053.xml", "camt053"),
        ("marker-af-bij.csv", "csv"),
    ],
)
def test_formats_are_told_by_content(name, expected):
    head = (DATA / name).read_text(encoding="utf-8", errors="replace")[:4000]
    assert sniff_format(head, None) == expected
    assert parse((DATA / name).read_bytes()).detection.format == expected


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def seekable(self):
        return False

    def readinto(self, buffer):
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_bytes_seekable_and_unseekable_streams_read_alike():
    content = (DATA / "month-names-fr.csv").read_bytes()

    results = [
        [row.amount for row in parse(source).rows()]
        for source in (content, io.BytesIO(content), _Unseekable(content))
    ]

    assert results[0] == results[1] == results[2] and len(results[0]) == 3


def test_a_bad_date_format_option_is_refused_before_reading():
    with pytest.raises(ParseFailed, match="strftime pattern"):
        parse(b"date,amount\n2025-01-01,1.00\n", options=ParseOptions(date_format="%H"))

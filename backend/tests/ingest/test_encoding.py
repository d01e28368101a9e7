"""Encoding detection: BOMs, UTF-16 without BOM, Windows-1252, binary, late surprises."""

import codecs
import io

import pytest

from spending_api.ingest.encoding import (
    HEAD_BYTES,
    confirm_encoding,
    detect_encoding,
    open_text,
    read_head,
)
from spending_api.ingest.model import ParseFailed

TEXT = "Datum;Empfänger;Betrag\n01.02.2025;Bäckerei Größe;-3,20\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_detects_what_banks_write(data, expected):
    encoding = detect_encoding(data)

    assert encoding == expected
    assert data.decode(encoding).lstrip("\ufeff") == TEXT


def test_a_declared_encoding_wins_and_an_unknown_one_is_refused():
    assert detect_encoding(TEXT.encode("cp1252"), "latin-1") == "iso8859-1"
    with pytest.raises(ParseFailed, match="Unknown encoding 'klingon'"):
        detect_encoding(b"x", "klingon")


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"  \n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary")],
)
def test_refuses_what_is_not_text(data, message):
    with pytest.raises(ParseFailed, match=message):
        detect_encoding(data)


def test_utf8_head_with_a_cp1252_tail_is_read_as_cp1252():
    data = b"date,amount,description\n" + b"2025-01-02,1.00,Bakery\n" * 4000
    data += "2025-01-03,2.00,Café\n".encode("cp1252")
    assert len(data) > HEAD_BYTES
    stream = io.BytesIO(data)

    encoding = confirm_encoding(stream, detect_encoding(data[:HEAD_BYTES]), declared=False)

    assert encoding == "cp1252"
    assert open_text(stream, encoding).read().endswith("Café\n")


def test_a_declared_encoding_that_breaks_names_the_line():
    stream = io.BytesIO(b"a\nb\n\xff\n")

    with pytest.raises(ParseFailed, match=r"not valid utf-8 text \(line 3\)"):
        confirm_encoding(stream, "utf-8", declared=True)


def test_the_head_ends_on_a_whole_line_and_keeps_cr_only_endings():
    long = b"x" * (HEAD_BYTES - 5) + b"\rsecond line\r"
    head, complete = read_head(io.BytesIO(long), "utf-8")

    assert not complete
    assert head == "x" * (HEAD_BYTES - 5)
    text, complete = read_head(io.BytesIO(b"a,b\rc,d\r"), "utf-8")
    assert complete and text.split("\r") == ["a,b", "c,d", ""]

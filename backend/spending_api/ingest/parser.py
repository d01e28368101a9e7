"""The entry point: which format a file is in, then the reader for that format."""

import hashlib
import io
import re
import shutil
import tempfile
from typing import BinaryIO

from spending_api.ingest import camt, ofx, qif
from spending_api.ingest.csvfile import read_csv
from spending_api.ingest.dates import check_date_format
from spending_api.ingest.encoding import confirm_encoding, detect_encoding, read_head
from spending_api.ingest.layout import find_layout
from spending_api.ingest.model import FileFormat, ParsedFile, ParseFailed, ParseOptions

SPOOL_BYTES = 8 * 1024 * 1024
_QIF_START = re.compile(r"^\s*!(?:Type|Account|Option|Clear)", re.IGNORECASE)


def seekable(data: bytes | BinaryIO) -> BinaryIO:
    """The data as a stream that can be read more than once (spooled when it cannot)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(data))
    if data.seekable():
        return data
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    shutil.copyfileobj(data, spooled)
    spooled.seek(0)
    return spooled


def sniff_format(head: str, filename: str | None) -> FileFormat:
    start = head.lstrip()[:2000]
    upper = start.upper()
    if upper.startswith("OFXHEADER") or "<OFX>" in upper or "<OFX " in upper:
        return "ofx"
    if start.startswith("<?xml") or start.startswith("<"):
        if "camt.053" in start or "<BkToCstmrStmt" in start:
            return "camt053"
        if "<OFX" in upper:
            return "ofx"
    if _QIF_START.match(start):
        return "qif"
    suffix = (filename or "").rsplit(".", 1)[-1].lower()
    if suffix in ("ofx", "qfx") and "<" in start:
        return "ofx"
    return "csv"


def _decoded_head(stream: BinaryIO, declared: str | None) -> tuple[str, str, bool]:
    stream.seek(0)
    encoding = detect_encoding(stream.read(64 * 1024), declared)
    encoding = confirm_encoding(stream, encoding, declared=bool(declared))
    head, complete = read_head(stream, encoding)
    return encoding, head, complete


def file_signature(data: bytes | BinaryIO, *, filename: str | None = None) -> str:
    """What identifies a bank's layout of file, whatever options it is later read with:
    the header (or, headerless, the column count and shape) as found with no options;
    OFX, QIF and CAMT files are one layout each. Import profiles are keyed by it."""
    stream = seekable(data)
    try:
        _, head, _ = _decoded_head(stream, None)
    except ParseFailed:
        return "unreadable"
    kind = sniff_format(head, filename)
    if kind != "csv":
        return kind
    try:
        layout, sample = find_layout(head, has_header=None)
    except ParseFailed:
        # No header or columns told apart: the first line's shape, digits blurred.
        first = next((line for line in head.splitlines() if line.strip()), "")
        text = "unread|" + re.sub(r"\d+", "9", first.strip().casefold())
        return hashlib.sha256(text.encode()).hexdigest()[:16]
    return layout.signature(sample)


def parse(
    data: bytes | BinaryIO, *, filename: str | None = None, options: ParseOptions | None = None
) -> ParsedFile:
    """Detect the file's format and layout; its rows stream from `ParsedFile.rows()`.

    Raises ParseFailed when the file cannot be read; `rows()` raises it after the last
    row when rows were invalid.
    """
    options = options or ParseOptions()
    if options.date_format:
        try:
            check_date_format(options.date_format)
        except ValueError as error:
            raise ParseFailed(str(error)) from None
    stream = seekable(data)
    encoding, head, complete = _decoded_head(stream, options.encoding)
    kind = sniff_format(head, filename)
    if kind == "ofx":
        return ofx.read_ofx(stream, encoding=encoding)
    if kind == "qif":
        return qif.read_qif(stream, encoding=encoding, options=options)
    if kind == "camt053":
        return camt.read_camt(stream)
    return read_csv(stream, encoding=encoding, head=head, complete=complete, options=options)

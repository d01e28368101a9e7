"""The entry point: which format a file is in, then the reader for that format."""

import io
import re
import shutil
import tempfile
from typing import BinaryIO

from spending_api.ingest import camt, ofx, qif
from spending_api.ingest.csvfile import read_csv
from spending_api.ingest.dates import check_date_format
from spending_api.ingest.encoding import confirm_encoding, detect_encoding, read_head
from spending_api.ingest.model import FileFormat, ParsedFile, ParseFailed, ParseOptions

SPOOL_BYTES = 8 * 1024 * 1024
_QIF_START = re.compile(r"^\s*!(?:Type|Account|Option|Clear)", re.IGNORECASE)


def _seekable(data: bytes | BinaryIO) -> BinaryIO:
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
    stream = _seekable(data)
    stream.seek(0)
    head_bytes = stream.read(64 * 1024)
    encoding = detect_encoding(head_bytes, options.encoding)
    encoding = confirm_encoding(stream, encoding, declared=bool(options.encoding))
    head, complete = read_head(stream, encoding)
    kind = sniff_format(head, filename)
    if kind == "ofx":
        return ofx.read_ofx(stream, encoding=encoding)
    if kind == "qif":
        return qif.read_qif(stream, encoding=encoding, options=options)
    if kind == "camt053":
        return camt.read_camt(stream)
    return read_csv(stream, encoding=encoding, head=head, complete=complete, options=options)

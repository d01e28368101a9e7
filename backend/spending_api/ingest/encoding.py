"""Which text encoding a bank's file is in, and the file as a stream of text lines."""

import codecs
import io
import logging
from typing import BinaryIO

from charset_normalizer import from_bytes

from spending_api.ingest.model import ParseFailed

logger = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
# The single-byte code pages of the languages the importer reads (EN/DE/NL/FR/ES/PT/IT);
# charset-normalizer chooses among them when the file is not UTF-8 or UTF-16.
SINGLE_BYTE_CANDIDATES = ["cp1252", "latin_1", "iso8859_15", "cp1250", "cp850", "mac_roman"]


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2 or 1
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _single_byte(sample: bytes) -> str:
    """The code page charset-normalizer finds; among those that read the sample equally
    well (same text, as little chaos), the Western one first."""
    results = list(from_bytes(sample, cp_isolation=SINGLE_BYTE_CANDIDATES))
    if not results:
        return "cp1252"
    least = min(match.chaos for match in results)
    equal = set()
    for match in results:
        if match.chaos <= least + 0.01:
            equal.update(match.could_be_from_charset)
    return next((name for name in SINGLE_BYTE_CANDIDATES if name in equal), results[0].encoding)


def detect_encoding(head: bytes, declared: str | None = None) -> str:
    """The encoding of a file that starts with `head`."""
    if declared:
        try:
            "a".encode(declared)  # refuses codecs that are not text encodings (base64, rot13)
            return codecs.lookup(declared).name
        except (LookupError, UnicodeError):
            raise ParseFailed(
                f"Unknown encoding {declared!r}; give a name such as utf-8, utf-16 or cp1252."
            ) from None
    if not head.strip():
        raise ParseFailed("The file is empty.")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        utf16 = _utf16_without_bom(head)
        if utf16:
            return utf16
        raise ParseFailed("The file is not a text file (it contains binary data).")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < HEAD_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        return _single_byte(head)


def confirm_encoding(stream: BinaryIO, encoding: str, declared: bool) -> str:
    """Decode the whole file once (fast, in chunks); a UTF-8 guess that breaks after the
    head falls back to the single-byte code page the broken part shows."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    while True:
        chunk = stream.read(CHUNK_BYTES)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            if declared or not encoding.startswith("utf-8"):
                stream.seek(0)
                line = stream.read(offset + error.start).count(b"\n") + 1
                raise ParseFailed(
                    f"The file is not valid {encoding} text (line {line}); "
                    "give the right encoding option (e.g. cp1252) or save the file as UTF-8."
                ) from None
            fallback = _single_byte(chunk[max(0, error.start - 2000) : error.start + 2000])
            logger.info("not UTF-8 after %d bytes; reading it as %s", offset, fallback)
            return fallback
        if not chunk:
            return encoding
        offset += len(chunk)


def open_text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    """The file from its start as text; any line ending (LF, CRLF, CR) ends a line."""
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")


def close_text(text: io.TextIOWrapper) -> None:
    try:
        text.detach()  # leave the caller's stream open
    except ValueError:
        pass


def read_head(stream: BinaryIO, encoding: str) -> tuple[str, bool]:
    """The first whole lines of the file as text, and whether that is all of it."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    complete = len(head) < HEAD_BYTES
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"), 0)
        text = text[:cut]
    return text, complete

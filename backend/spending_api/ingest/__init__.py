"""Read what banks export (CSV, OFX/QFX, QIF, CAMT.053) into one stream of parsed rows.

No database here: `parse` answers what it detected and yields `ParsedRow` values whose
`amount` is positive for money out of the account and negative for money in.
"""

from spending_api.ingest.model import (
    Detection,
    ParsedFile,
    ParsedRow,
    ParseFailed,
    ParseOptions,
    Problem,
    Skipped,
)
from spending_api.ingest.parser import file_signature, parse, seekable

__all__ = [
    "Detection",
    "ParsedFile",
    "ParsedRow",
    "ParseFailed",
    "ParseOptions",
    "Problem",
    "Skipped",
    "file_signature",
    "parse",
    "seekable",
]

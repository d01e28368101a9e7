"""Test data: the real bank exports in ../shared/realcsv, read by the project's importer.

The rows are read as the importer reads them, with no database; the options are tried
in turn because some files need a date format or a sign."""

import itertools
from pathlib import Path

from spending_api.categorize.ledger import CategorySource, LedgerRow
from spending_api.ingest import ParseFailed
from spending_api.transactions import importer

REALCSV = Path(__file__).resolve().parents[4] / "shared" / "realcsv"
SIGNS = (None, "spend_negative", "spend_positive")
DATE_FORMATS = (None, "%d/%m/%Y", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%d-%m-%Y", "%d %b %Y")


def _parse(path: Path, options: importer.ImportOptions) -> list | None:
    """The rows as the import would store them (categories by the file), or None."""
    with path.open("rb") as stream:
        try:
            parsed = importer.parse_upload(stream, options=options, filename=path.name)
            parsed.require_decided()
            return list(importer._new_transactions(parsed, importer.to_new_transaction))
        except ParseFailed:
            return None


def read_export(path: Path) -> list[LedgerRow] | None:
    """The file's rows as LedgerRows (the file's category as `bank`), or None if refused."""
    for sign, date_format in itertools.product(SIGNS, DATE_FORMATS):
        parsed = _parse(path, importer.ImportOptions(date_format=date_format, amount_sign=sign))
        if parsed is not None:
            break
    else:
        return None
    return [
        LedgerRow(
            id=index + 1,
            description=row.description,
            amount=row.amount,
            timestamp=row.timestamp,
            category=None if row.category_source == "default" else row.category,
            category_source=(
                CategorySource.DEFAULT if row.category_source == "default" else CategorySource.BANK
            ),
            account_id=1,
        )
        for index, row in enumerate(parsed)
    ]


def read_all() -> dict[str, list[LedgerRow] | None]:
    """Every export by file name (None for the files the importer refuses)."""
    return {path.name: read_export(path) for path in sorted(REALCSV.glob("*.csv"))}

"""Test data: the real bank exports in ../shared/realcsv, read by the project's importer.

The rows are read as the importer reads them, with no database, each file with the options
a user confirms once for it (none for most; a date format or a headerless file's mapping),
as the ingest tests give them (testkit/realcsv.py)."""

from pathlib import Path

from spending_api.categorize.ledger import CategorySource, LedgerRow
from spending_api.ingest import ParseFailed
from spending_api.transactions import importer
from testkit.realcsv import EXPECTED, REAL as REALCSV


def _confirmed() -> dict[str, dict | None]:
    """File name -> the options its reading was confirmed with (None: no options)."""
    return {name: expected.options for name, expected in EXPECTED.items()}


def _parse(path: Path, options: importer.ImportOptions) -> list | None:
    """The rows as the import would store them (categories by the file), or None."""
    with path.open("rb") as stream:
        try:
            parsed = importer.parse_upload(stream, options=options, filename=path.name)
            parsed.require_decided()
            return list(importer._new_transactions(parsed, importer.to_new_transaction))
        except ParseFailed:
            return None


def read_export(path: Path, options: dict | None = None) -> list[LedgerRow] | None:
    """The file's rows as LedgerRows (the file's category as `bank`), or None if refused."""
    parsed = _parse(path, importer.ImportOptions(**(options or {})))
    if parsed is None:
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
    confirmed = _confirmed()
    return {
        path.name: read_export(path, confirmed.get(path.name))
        for path in sorted(REALCSV.glob("*.csv"))
    }

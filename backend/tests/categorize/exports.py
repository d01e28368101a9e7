"""Test data: the real bank exports in ../shared/realcsv, read by the project's importer.

The rows are read as the importer reads them, with no database, each file with the options
a user confirms once for it (none for most; a date format or a headerless file's mapping),
as the ingest tests give them (tests/ingest/test_realcsv.py)."""

import importlib.util
from pathlib import Path

from spending_api.categorize.ledger import CategorySource, LedgerRow
from spending_api.ingest import ParseFailed
from spending_api.transactions import importer

REALCSV = Path(__file__).resolve().parents[4] / "shared" / "realcsv"
_FIGURES = Path(__file__).resolve().parents[1] / "ingest" / "test_realcsv.py"


def _confirmed() -> dict[str, dict | None]:
    """File name -> the options its reading was confirmed with (None: no options)."""
    spec = importlib.util.spec_from_file_location("realcsv_figures", _FIGURES)
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    return {name: expected.options for name, expected in figures.EXPECTED.items()}


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

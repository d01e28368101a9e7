"""The project functions the benchmark drives, in one place: the demo data generator
(`spending_api.demo`) and the CSV importer (`spending_api.transactions.importer`)."""

from spending_api.demo import generate_transactions, write_csv
from spending_api.transactions.importer import ImportOptions, import_csv

DEMO_SOURCE = "spending_api.demo"
IMPORTER_SOURCE = "spending_api.transactions.importer"

__all__ = [
    "DEMO_SOURCE",
    "IMPORTER_SOURCE",
    "ImportOptions",
    "generate_transactions",
    "import_csv",
    "write_csv",
]

"""The real bank exports in ../shared/realcsv/, each imported through POST /transactions/import.

The expected count, money out and money in of each file are the ones the ingest tests
worked out by reading the files by hand (tests/ingest/test_realcsv.py), reused here,
not written twice; the files stay outside the repository.
"""

import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest

_FIGURES = Path(__file__).resolve().parents[1] / "ingest" / "test_realcsv.py"
_spec = importlib.util.spec_from_file_location("realcsv_figures", _FIGURES)
_figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_figures)
EXPECTED, REAL = _figures.EXPECTED, _figures.REAL

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"the shared real-export corpus is not here ({REAL})"
)


def _query(options: dict | None) -> dict:
    """The confirmed options as the API takes them: `mapping` is a JSON object."""
    query = dict(options or {})
    if "mapping" in query:
        query["mapping"] = json.dumps(query["mapping"])
    return query


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_export_imports_with_the_figures_of_a_careful_reader(name, make_user, upload, stored):
    expected = EXPECTED[name]
    user = make_user()

    response = upload(user, (REAL / name).read_bytes(), filename=name, **_query(expected.options))

    assert response.status_code == 200, response.text
    amounts = [row[1] for row in stored(user)]
    money_out = sum((amount for amount in amounts if amount > 0), Decimal(0))
    money_in = -sum((amount for amount in amounts if amount < 0), Decimal(0))
    assert len(amounts) == expected.rows
    assert (money_out, money_in) == (Decimal(expected.money_out), Decimal(expected.money_in))
    answer = response.json()
    assert answer["inserted"] == answer["total_rows"] == expected.rows
    assert answer["skipped_row_count"] == sum(expected.skipped.values())
    assert len(answer["skipped_rows"]) == answer["skipped_row_count"]

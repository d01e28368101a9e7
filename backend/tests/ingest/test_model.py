"""The package's values: problem details, the skip log's cap, the detection's mapping."""

import pytest

from spending_api.ingest.model import (
    MAX_LISTED_SKIPS,
    Detection,
    ParsedFile,
    ParseFailed,
    Problem,
    SkipLog,
)


def test_problem_details_have_the_shape_of_the_import_error_body():
    failed = ParseFailed("2 rows are invalid", [Problem(3, "Betrag", "12,3x", "not a number")], 2)

    assert failed.detail() == {
        "message": "2 rows are invalid",
        "error_count": 2,
        "errors": [{"line": 3, "column": "Betrag", "value": "12,3x", "reason": "not a number"}],
    }


def test_the_skip_log_lists_the_first_rows_and_counts_all():
    log = SkipLog()
    for line in range(MAX_LISTED_SKIPS + 5):
        log.add(line, "pending transaction")

    assert log.count == MAX_LISTED_SKIPS + 5 and len(log.listed) == MAX_LISTED_SKIPS


def test_the_detection_gives_the_mapping_back_and_guesses_block_an_import():
    detection = Detection(format="csv", columns={0: "date", 2: "description", 3: "description"})
    assert detection.mapping() == {"date": [0], "description": [2, 3]}

    parsed = ParsedFile(
        Detection(format="csv", undecided=["confirm the columns"]), iter([]), SkipLog()
    )
    with pytest.raises(ParseFailed, match="confirm the columns"):
        parsed.require_decided()
    ParsedFile(detection, iter([]), SkipLog()).require_decided()

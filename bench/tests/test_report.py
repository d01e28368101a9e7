"""The report renders from the saved results alone: docs/PERFORMANCE.md is exactly what
`python -m bench --render` makes of bench/results/latest.json (no database needed)."""

import json

from bench import report
from bench.config import PERFORMANCE_MD, RESULTS_DIR


def test_the_committed_report_is_the_rendering_of_the_committed_results():
    results = json.loads((RESULTS_DIR / "latest.json").read_text())
    assert report.render(results) == PERFORMANCE_MD.read_text()


def test_every_target_has_a_verdict_from_the_committed_results():
    results = json.loads((RESULTS_DIR / "latest.json").read_text())
    assert report.targets(results) == results["targets"]

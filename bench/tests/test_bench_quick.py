"""`python -m bench --quick` end to end, so the benchmark cannot rot.

It builds its own fresh PostgreSQL database (dropped afterwards) on the tests' server
(bench.pg.fresh_database: the embedded one when there is no other, so it never skips).
"""

import json
import os
import subprocess
import sys

import pytest

from bench import report
from bench.config import QUICK, REPO_ROOT

# A benchmark run (about a minute of load on the machine): `make test-slow`, not `make test`.
# One xdist worker: the module's one benchmark run is shared by its tests.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.fault,
    pytest.mark.xdist_group("bench"),
]

PYTHONPATH = os.environ.get("PYTHONPATH", "")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("bench")
    output, markdown = directory / "quick.json", directory / "PERFORMANCE.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)]
        + ["--markdown", str(markdown)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        # The caller's PYTHONPATH stays after the repository (a worktree's own packages).
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), PYTHONPATH])},
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    data = json.loads(output.read_text())
    data["_markdown"] = markdown.read_text()
    return data


def test_every_step_has_results(results):
    assert results["mode"] == "quick"
    steps = ("machine", "dataset", "import", "load", "load_test", "heavy", "dashboard", "targets")
    for key in steps:
        assert results.get(key), key
    machine = results["machine"]
    assert machine["cpu_count"] >= 1 and machine["memory_gb"] > 0
    assert machine["postgresql"].startswith("PostgreSQL")


def test_the_data_set_went_through_the_importer(results):
    typical = results["dataset"]["typical"]
    assert typical["users"] == QUICK.users
    assert typical["transactions"] == QUICK.users * QUICK.per_user
    imported = results["import"]
    assert imported["rows"] == imported["inserted"] == QUICK.heavy_rows
    assert imported["skipped_duplicates"] == 0
    assert imported["importer_seconds"] > 0 and imported["psql_copy_seconds"] > 0
    assert imported["ratio"] == pytest.approx(
        imported["importer_seconds"] / imported["psql_copy_seconds"], rel=0.05
    )
    assert 0 < imported["importer_peak_rss_mb"] < 2000
    counts = results["dataset"]["counts"]
    assert counts["transactions"] == typical["transactions"] + imported["inserted"]
    assert counts["users"] == QUICK.users + 1


@pytest.mark.parametrize(
    "run_key, names",
    [
        ("load", {"floor", "floor_sync", "metrics", "transactions"}),
        ("load_uncached", {"floor", "metrics", "transactions"}),
    ],
)
def test_the_load_runs_answered_every_request(results, run_key, names):
    endpoints = results[run_key]["endpoints"]
    assert set(endpoints) == names
    for name, run in endpoints.items():
        assert run["requests"] > 0 and run["rps"] > 0, name
        assert run["errors"] == 0, name
        assert 0 < run["p50_ms"] <= run["p99_ms"], name
        assert run["share_of_floor"] > 0, name
    assert endpoints["floor"]["share_of_floor"] == 1.0


def test_the_load_test_answered_every_simulated_user(results):
    load_test = results["load_test"]
    assert load_test["users"] == QUICK.load_test_users and load_test["ramp_up_failures"] == 0
    assert load_test["failures"] == 0 and load_test["errors"] == []
    per_endpoint = load_test["per_endpoint"]
    assert load_test["requests"] == sum(e["requests"] for e in per_endpoint.values()) > 0
    assert load_test["rps"] == pytest.approx(load_test["requests"] / load_test["duration_s"], 0.05)
    assert 0 < load_test["rss_start_mb"] <= load_test["rss_max_mb"]
    assert load_test["workers"] == results["load"]["workers"]


def test_the_heavy_user_agrees_with_plain_sql(results):
    heavy = {item["key"]: item for item in results["heavy"]}
    assert set(heavy) == {"all_time", "one_year", "category", "amount", "text"}
    assert heavy["all_time"]["transactions"] == QUICK.heavy_rows
    for item in heavy.values():
        assert item["same_numbers"], item
        assert item["api_p50_ms"] > 0 and item["sql_p50_ms"] > 0
    assert heavy["all_time"]["path"] == "rollup" and heavy["amount"]["path"] == "base table"


def test_targets_and_report_are_complete(results):
    targets = results["targets"]
    assert len(targets) >= 18
    for target in targets:
        assert target["verdict"] in {"PASS", "MISS", "n/a"}, target
    measured = [t for t in targets if t["verdict"] != "n/a"]
    assert len(measured) >= 15  # all but the dashboard (skipped in quick mode)
    markdown = results["_markdown"]
    assert "## Targets" in markdown and "## Machine" in markdown
    for target in targets:
        assert target["name"] in markdown
    # The renderer works on the saved JSON alone.
    assert report.render({k: v for k, v in results.items() if k != "_markdown"}) == markdown

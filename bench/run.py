"""Runs the benchmark's steps on a fresh PostgreSQL database and writes the report; or,
with --load-test, the load test alone on a database and server of its own."""

import argparse
import json
import logging
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from bench import browser, dataset, heavy, importbench, load, loadtest, pg, report
from bench.config import FULL, LOAD_TEST_RESULTS, PERFORMANCE_MD, QUICK, RESULTS_DIR, Config
from bench.config import log, log_to_stderr
from bench.load import WORKERS, Server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add = parser.add_argument
    add("--quick", action="store_true", help="a small run in seconds")
    add("--workers", type=int, default=WORKERS, help="uvicorn workers")
    add("--no-browser", action="store_true", help="skip step 5")
    add("--keep-db", action="store_true", help="do not drop the database")
    add("--render", action="store_true", help="only re-render the report from the saved results")
    add("--load-test", action="store_true", help=f"only the load test; into {LOAD_TEST_RESULTS}")
    add("--output", type=Path, help="results JSON (default by mode)")
    add("--markdown", type=Path, help="the report (default docs/PERFORMANCE.md; quick: none)")
    return parser.parse_args(argv)


def steps(url: str, config: Config, args: argparse.Namespace, results: dict) -> None:
    """The steps on the fresh database `url`, each one's figures into `results`."""
    results["machine"] = pg.describe_machine(url, args.workers)
    users = dataset.create_users(url, config.users)

    log(f"step 1: {config.users} users x {config.per_user} transactions via the importer")
    typical = dataset.import_typical_users(url, users, config.per_user)
    log(f"  {typical['transactions']} transactions in {typical['seconds']} s")

    with tempfile.TemporaryDirectory(prefix="spending-bench-") as directory:
        path = Path(directory) / "heavy.csv"
        log(f"step 2: writing the heavy user's CSV ({config.heavy_rows} rows)")
        dataset.write_heavy_csv(path, config.heavy_rows)
        results["import"] = importbench.run(url, users.heavy, path)
        log(f"  {json.dumps(results['import'])}")

    vacuum = dataset.vacuum_analyze(url)
    counts = dataset.table_counts(url)
    results["dataset"] = {"typical": typical, "vacuum_seconds": vacuum, "counts": counts}

    with Server(url, workers=args.workers) as server:
        log(f"step 3: load, {config.connections} connections")
        results["load"] = load.run(server, users.typical, config, tuple(load.ENDPOINTS))
        load_test_step(server, config, results)

    # The answer cache off from here on: step 3 again shows what every request costs
    # when it computes its answer (a user's first look at a view, or the first after
    # their data changed); steps 4 and 5 repeat the same requests, which the cache
    # would otherwise answer after the first time.
    with Server(url, workers=args.workers, extra_env={"RESPONSE_CACHE_MB": "0"}) as server:
        log("step 3b: the same load with the answer cache off")
        endpoints = ("floor", "metrics", "transactions")
        results["load_uncached"] = load.run(server, users.typical, config, endpoints)

        log("step 4: the heavy user's /metrics against plain SQL")
        results["heavy"] = heavy.run(url, server, users.heavy, config.heavy_repetitions)

        if not config.browser or args.no_browser:
            results["dashboard"] = {"skipped": "not run in this mode (--quick/--no-browser)"}
            return
        log("step 5: the dashboard in Chromium")
        try:
            results["dashboard"] = browser.run(server, users, config.browser_repetitions)
        except Exception as exc:  # the other steps' numbers are still worth keeping
            logging.getLogger("bench").exception("step 5 failed")
            results["dashboard"] = {"skipped": f"failed: {exc!r}"[:500]}
        log(f"  {results['dashboard']}")


def load_test_step(server: Server, config: Config, results: dict) -> None:
    log(f"step 3, users: the load test, {config.load_test_users} simulated users")
    results["load_test"] = loadtest.run(server, config)
    summary = ("requests", "failures", "rps", "p50_ms", "p99_ms", "rss_growth_mb")
    log(f"  {({key: results['load_test'][key] for key in summary})}")


def load_test_only(url: str, config: Config, args: argparse.Namespace, results: dict) -> None:
    """`--load-test`: step 1 for the load test's users, then the load test on a server."""
    results["machine"] = pg.describe_machine(url, args.workers)
    users = dataset.create_users(url, config.load_test_users)
    results["dataset"] = {"typical": dataset.import_typical_users(url, users, config.per_user)}
    with Server(url, workers=args.workers) as server:
        load_test_step(server, config, results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log_to_stderr()
    config = QUICK if args.quick else FULL
    saved = RESULTS_DIR / ("quick.json" if args.quick else "latest.json")
    output = args.output or (LOAD_TEST_RESULTS if args.load_test else saved)
    markdown = args.markdown or (None if args.quick or args.load_test else PERFORMANCE_MD)
    if args.render:
        results = json.loads(output.read_text())
    else:
        started = time.perf_counter()
        results = {
            "mode": config.name,
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": config._asdict(),
        }
        kind = "load" if args.load_test else config.name
        with pg.fresh_database(kind, keep=args.keep_db) as url:
            results["database"] = make_url(url).database
            log(f"database {results['database']}" + (" (kept)" if args.keep_db else ""))
            (load_test_only if args.load_test else steps)(url, config, args, results)
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        results["results_file"] = str(output)
    results["targets"] = report.targets(results)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(report.render(results))
    for target in (t for t in results["targets"] if t["verdict"] != "n/a"):  # the report has all
        log(f"{target['verdict']:>4}  {target['name']}: {target['measured']} ({target['target']})")
    log(f"results in {output}" + (f", report in {markdown}" if markdown else ""))
    if args.load_test:  # a check: every request answered, the memory steady
        checked = results["load_test"]
        return 0 if checked["failures"] == 0 and checked["memory_steady"] else 1
    return 0

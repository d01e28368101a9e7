"""Targets, verdicts and docs/PERFORMANCE.md, all from the results JSON."""

import json
from operator import eq, ge, le, lt
from pathlib import Path

from bench.config import RESULTS_DIR


def _get(results: dict, *keys):
    value = results
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _heavy(results: dict, key: str) -> dict:
    for item in results.get("heavy") or []:
        if item["key"] == key:
            return item
    return {}


def _check(name, goal, value, limit, compare, shown=""):
    """A target's row: `compare(value, limit)` decides; `shown` is the unit after the
    number, or a function that formats it."""
    if value is None:
        return {"name": name, "target": goal, "measured": "not measured", "verdict": "n/a"}
    text = shown(value) if callable(shown) else f"{value:g}{shown}"
    verdict = "PASS" if compare(value, limit) else "MISS"
    return {"name": name, "target": goal, "measured": text, "verdict": verdict}


def memory_growth(results: dict) -> tuple[float | None, float, str]:
    """Growth of the API workers' RSS under load, its limit, and where it was measured:
    the 60 s load test (bench/loadtest.py) when its results exist, else the runs of step 3."""
    load_test = results.get("load_test") or {}
    if isinstance(load_test.get("rss_growth_mb"), (int, float)):
        limit = float(load_test.get("steady_growth_limit_mb") or 40.0)
        return float(load_test["rss_growth_mb"]), limit, "60 s load test"
    rss = _get(results, "load", "worker_rss_mb") or {}
    growth = rss.get("max_growth_during_a_run")
    if growth is None:
        return None, 0.0, "n/a"
    limit = round(max(10.0, 0.05 * (rss.get("first") or 0)), 1)
    return float(growth), limit, "step 3 runs"


def _load_checks(results: dict, key: str, latency: str, metrics_name: str, listing_name: str):
    """Step 3's targets for one server: /metrics latency and both endpoints' share of
    the floor."""
    metrics = _get(results, key, "endpoints", "metrics") or {}
    listing = _get(results, key, "endpoints", "transactions") or {}
    return [
        (f"{latency}: p50", "<= 20 ms", metrics.get("p50_ms"), 20, le, " ms"),
        (f"{latency}: p99", "<= 100 ms", metrics.get("p99_ms"), 100, le, " ms"),
        (
            f"{metrics_name}: throughput / floor",
            ">= 25%",
            metrics.get("share_of_floor"),
            0.25,
            ge,
            _pct,
        ),
        (
            f"{listing_name}: throughput / floor",
            ">= 25%",
            listing.get("share_of_floor"),
            0.25,
            ge,
            _pct,
        ),
    ]


def targets(results: dict) -> list[dict]:
    heavy_all = _heavy(results, "all_time")
    imp = results.get("import") or {}
    dash = results.get("dashboard") or {}
    growth, growth_limit, source = memory_growth(results)
    same = (
        all(item.get("same_numbers") for item in results["heavy"]) if results.get("heavy") else None
    )
    heavy = "heavy user /metrics"
    rows = [
        *_load_checks(
            results,
            "load",
            "/metrics, typical user, 32 conn",
            "/metrics, typical user",
            "/transactions page of 100",
        ),
        *_load_checks(
            results,
            "load_uncached",
            "/metrics, answer cache off",
            "/metrics, answer cache off",
            "/transactions, answer cache off",
        ),
        (f"{heavy} all time: p50", "<= 50 ms", heavy_all.get("api_p50_ms"), 50, le, " ms"),
        (f"{heavy} all time vs plain SQL", ">= 10x faster", heavy_all.get("speedup"), 10, ge, _x),
        (
            f"{heavy} amount filter vs plain SQL",
            "<= 2x",
            _heavy(results, "amount").get("api_over_sql"),
            2,
            le,
            _x,
        ),
        (
            f"{heavy} text filter vs plain SQL",
            "<= 2x",
            _heavy(results, "text").get("api_over_sql"),
            2,
            le,
            _x,
        ),
        (
            f"{heavy} equals plain SQL (sum, count)",
            "to the cent",
            same,
            True,
            eq,
            lambda equal: "equal" if equal else "differs",
        ),
        ("1,000,000-row import vs psql \\copy", "<= 2x", imp.get("ratio"), 2, le, _x),
        ("import peak RSS", "< 300 MB", imp.get("importer_peak_rss_mb"), 300, lt, " MB"),
        (
            "dashboard update after a filter change, typical user",
            "<= 300 ms",
            _get(dash, "typical", "p50_ms"),
            300,
            le,
            " ms",
        ),
        (
            "dashboard update after a filter change, heavy user",
            "<= 1 s",
            _get(dash, "heavy", "p50_ms"),
            1000,
            le,
            " ms",
        ),
        (
            f"API memory growth under load ({source})",
            f"<= {growth_limit} MB",
            growth,
            growth_limit,
            le,
            " MB",
        ),
    ]
    return [_check(*row) for row in rows]


def _pct(value):
    return None if value is None else f"{value * 100:.1f}%"


def _x(value):
    return None if value is None else f"{value:g}x"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return lines


def _load_table(load: dict) -> list[str]:
    return _table(
        ["Endpoint", "Requests/s", "p50", "p99", "Share of floor", "Errors", "Worker RSS"],
        [
            [
                f"`{r.get('path')}`",
                r.get("rps"),
                f"{r.get('p50_ms')} ms",
                f"{r.get('p99_ms')} ms",
                _pct(r.get("share_of_floor")),
                r.get("errors"),
                f"{r.get('worker_rss_mb')} MB",
            ]
            for r in (load.get("endpoints") or {}).values()
        ],
    )


def render(results: dict) -> str:
    machine = results.get("machine", {})
    out = [
        "# Performance",
        "",
        "Generated by `make bench` (`python -m bench`) from "
        f"`bench/results/{Path(results.get('results_file', 'latest.json')).name}`; "
        "do not edit by hand. `make bench-quick` runs a small version (part of `make test-slow`).",
        "",
        f"Run: {results.get('started_at', '?')}, mode **{results.get('mode')}**, "
        f"{results.get('total_seconds', '?')} s in all.",
        "",
        "## Machine",
        "",
    ]
    out += _table(
        ["", ""],
        [
            ["CPU", machine.get("cpu_model")],
            ["Cores (logical)", machine.get("cpu_count")],
            ["Memory", f"{machine.get('memory_gb')} GB"],
            ["Load average at start (1 min)", machine.get("load_average_start")],
            ["OS", machine.get("os")],
            ["Python", machine.get("python")],
            ["PostgreSQL", machine.get("postgresql")],
            ["PostgreSQL settings", machine.get("postgresql_settings")],
            ["API server", machine.get("api_server")],
            ["Load generator", _get(results, "load", "load_generator")],
            ["Importer / data generator", f"{machine.get('importer')} / {machine.get('demo')}"],
        ],
    )
    out += ["", "## Targets", ""]
    out += _table(
        ["Target", "Goal", "Measured", "Verdict"],
        [[t["name"], t["target"], t["measured"], t["verdict"]] for t in targets(results)],
    )

    data = results.get("dataset") or {}
    out += ["", "## 1. Data set", ""]
    out += _table(
        ["", ""],
        [
            ["Typical users", data.get("typical", {}).get("users")],
            ["Their transactions (via the importer)", data.get("typical", {}).get("transactions")],
            [
                "Import time of the typical users",
                f"{data.get('typical', {}).get('seconds')} s"
                f" ({data.get('typical', {}).get('processes')} processes)",
            ],
            ["Heavy user's transactions", _get(results, "import", "inserted")],
            [
                "Rows: transactions / daily_category_spend",
                f"{_get(data, 'counts', 'transactions')} / "
                f"{_get(data, 'counts', 'daily_category_spend')}",
            ],
            [
                "VACUUM ANALYZE after the load (as autovacuum would)",
                f"{data.get('vacuum_seconds')} s",
            ],
        ],
    )

    imp = results.get("import") or {}
    out += ["", "## 2. Import of the heavy user's CSV", ""]
    out += _table(
        ["Rows", "File", "Importer", "psql \\copy (plain table)", "Ratio", "Importer peak RSS"],
        [
            [
                imp.get("rows"),
                f"{imp.get('file_mb')} MB",
                f"{imp.get('importer_seconds')} s",
                f"{imp.get('psql_copy_seconds')} s",
                _x(imp.get("ratio")),
                f"{imp.get('importer_peak_rss_mb')} MB "
                f"(baseline {imp.get('importer_baseline_rss_mb')} MB)",
            ]
        ],
    )

    load = results.get("load") or {}
    out += [
        "",
        "## 3. API under load",
        "",
        f"{load.get('connections')} connections, {load.get('seconds_per_run')} s per endpoint "
        f"and round, {load.get('rounds', 1)} interleaved round(s) after a warm-up, each "
        "endpoint's best round shown; random typical users with valid tokens; uvicorn with "
        f"{load.get('workers')} workers, uvloop, httptools, no access log. The floor is "
        "`/bench/floor` (async, no database, mounted by `bench/server.py` on the same app); "
        "`/bench/floor-sync` is the same through the thread pool.",
        "",
    ]
    out += _load_table(load)
    cold = results.get("load_uncached")
    if cold:
        out += [
            "",
            "The same load on a second server with the answer cache off "
            "(`RESPONSE_CACHE_MB=0`): every request computes its answer, as a user's first "
            "look at a view, or the first after their data changed, does.",
            "",
        ]
        out += _load_table(cold)
    rss = load.get("worker_rss_mb") or {}
    out += [
        "",
        f"Workers' total RSS over the load runs: first {rss.get('first')} MB, "
        f"last {rss.get('last')} MB, max {rss.get('max')} MB ({rss.get('samples')} samples).",
    ]

    out += [
        "",
        "## 4. The heavy user's /metrics against plain SQL",
        "",
        "API: p50 of sequential requests over HTTP (auth, query, JSON). Plain SQL: the three "
        "GROUP BY queries (totals, by category, by month) over `transactions`, summed `\\timing` "
        "in `psql`, p50.",
        "",
    ]
    out += _table(
        ["Filter", "Path", "Rows", "API p50", "Plain SQL p50", "API / SQL", "Same numbers"],
        [
            [
                h["name"],
                h["path"],
                h["transactions"],
                f"{h['api_p50_ms']} ms",
                f"{h['sql_p50_ms']} ms",
                _x(h["api_over_sql"]),
                "yes" if h["same_numbers"] else "NO",
            ]
            for h in results.get("heavy") or []
        ],
    )

    dash = results.get("dashboard") or {}
    out += ["", "## 5. Dashboard update after a filter change (Chromium)", ""]
    if dash.get("skipped"):
        out.append(f"Skipped: {dash['skipped']}")
    else:
        out.append(dash.get("method", ""))
        out.append("")
        out += _table(
            ["User", "Transactions", "p50", "max", "Samples", "API share (sequential)"],
            [
                [
                    who,
                    dash[who].get("transactions"),
                    f"{dash[who].get('p50_ms')} ms",
                    f"{dash[who].get('max_ms')} ms",
                    dash[who].get("samples"),
                    f"{dash[who].get('api_ms')} ms",
                ]
                for who in ("typical", "heavy")
                if isinstance(dash.get(who), dict)
            ],
        )

    load_test = results.get("load_test")
    if load_test:
        out += ["", "## 60 s load test (`bench/results/load-test.json`, `bench/loadtest.py`)", ""]
        keys = [
            "users",
            "duration_s",
            "requests",
            "failures",
            "rps",
            "p50_ms",
            "p99_ms",
            "rss_start_mb",
            "rss_after_warmup_mb",
            "rss_end_mb",
            "rss_max_mb",
            "rss_growth_mb",
            "memory_steady",
            "workers",
            "finished_at",
        ]
        out += _table(["", ""], [[key, load_test.get(key)] for key in keys if key in load_test])
        per_endpoint = load_test.get("per_endpoint") or {}
        if per_endpoint:
            out += [""]
            out += _table(
                ["Endpoint", "Requests", "Failures", "Requests/s", "p50", "p99"],
                [
                    [
                        name,
                        v.get("requests"),
                        v.get("failures"),
                        v.get("rps"),
                        f"{v.get('p50_ms')} ms",
                        f"{v.get('p99_ms')} ms",
                    ]
                    for name, v in per_endpoint.items()
                ],
            )

    notes = results.get("notes") or []
    if notes:
        out += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(out) + "\n"


def read_load_test() -> dict | None:
    path = RESULTS_DIR / "load-test.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {"error": "bench/results/load-test.json is not valid JSON"}

"""Targets, verdicts and docs/PERFORMANCE.md, all from the results JSON."""

import json
from operator import eq, ge, le, lt
from pathlib import Path

from bench.config import RESULTS_DIR

LOAD_TEST_KEYS = (
    "users duration_s requests failures rps p50_ms p99_ms rss_start_mb rss_after_warmup_mb "
    "rss_end_mb rss_max_mb rss_growth_mb memory_steady workers finished_at"
).split()


def _get(results: dict, *keys):
    value = results
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _pct(value):
    return None if value is None else f"{value * 100:.1f}%"


def _x(value):
    return None if value is None else f"{value:g}x"


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
    if rss.get("max_growth_during_a_run") is None:
        return None, 0.0, "n/a"
    limit = round(max(10.0, 0.05 * (rss.get("first") or 0)), 1)
    return float(rss["max_growth_during_a_run"]), limit, "step 3 runs"


def _equal(same: bool) -> str:
    return "equal" if same else "differs"


def _load_checks(key: str, metrics: str, listing: str, suffix: str = "") -> list[tuple]:
    """Step 3's targets for one server: /metrics latency and both endpoints' share of
    the floor."""
    at, s = f"{key} endpoints", "share_of_floor"
    return [
        (f"{metrics}{suffix}: p50", "<= 20 ms", f"{at} metrics p50_ms", 20, le, " ms"),
        (f"{metrics}{suffix}: p99", "<= 100 ms", f"{at} metrics p99_ms", 100, le, " ms"),
        (f"{metrics}: throughput / floor", ">= 25%", f"{at} metrics {s}", 0.25, ge, _pct),
        (f"{listing}: throughput / floor", ">= 25%", f"{at} transactions {s}", 0.25, ge, _pct),
    ]


def targets(results: dict) -> list[dict]:
    """Each target: name, goal, where its value is in the results (keys separated by
    spaces; the heavy scenarios by their key), the limit, the comparison, the unit."""
    growth, limit, source = memory_growth(results)
    heavy = results.get("heavy") or []
    values = {
        **results,
        "heavy": {item["key"]: item for item in heavy},
        "same": all(item.get("same_numbers") for item in heavy) if heavy else None,
        "growth": growth,
    }
    h, d = "heavy user /metrics", "dashboard update after a filter change"
    off = "answer cache off"
    rows = [
        *_load_checks("load", "/metrics, typical user", "/transactions page of 100", ", 32 conn"),
        *_load_checks("load_uncached", f"/metrics, {off}", f"/transactions, {off}"),
        (f"{h} all time: p50", "<= 50 ms", "heavy all_time api_p50_ms", 50, le, " ms"),
        (f"{h} all time vs plain SQL", ">= 10x faster", "heavy all_time speedup", 10, ge, _x),
        (f"{h} amount filter vs plain SQL", "<= 2x", "heavy amount api_over_sql", 2, le, _x),
        (f"{h} text filter vs plain SQL", "<= 2x", "heavy text api_over_sql", 2, le, _x),
        (f"{h} equals plain SQL (sum, count)", "to the cent", "same", True, eq, _equal),
        ("1,000,000-row import vs psql \\copy", "<= 2x", "import ratio", 2, le, _x),
        ("import peak RSS", "< 300 MB", "import importer_peak_rss_mb", 300, lt, " MB"),
        (f"{d}, typical user", "<= 300 ms", "dashboard typical p50_ms", 300, le, " ms"),
        (f"{d}, heavy user", "<= 1 s", "dashboard heavy p50_ms", 1000, le, " ms"),
        (f"API memory growth under load ({source})", f"<= {limit} MB", "growth", limit, le, " MB"),
    ]
    return [_check(name, goal, _get(values, *at.split()), *rest) for name, goal, at, *rest in rows]


class _Item(dict):
    def __missing__(self, key):
        return None


def _rows(header: str, row: str, items) -> list[str]:
    """A table: its header row, then `row` (a format string over an item's keys; a
    missing key shows as None) for each item."""
    rule = "|" + "---|" * header.count(" | ") + "---|"
    return [header, rule, *(row.format_map(_Item(item)) for item in items)]


def _section(title: str, *text: str) -> list[str]:
    return ["", f"## {title}", "", *text]


TARGETS = (
    "| Target | Goal | Measured | Verdict |",
    "| {name} | {target} | {measured} | {verdict} |",
)
MACHINE = (
    "|  |  |",
    "| CPU | {cpu_model} |\n"
    "| Cores (logical) | {cpu_count} |\n"
    "| Memory | {memory_gb} GB |\n"
    "| Load average at start (1 min) | {load_average_start} |\n"
    "| OS | {os} |\n"
    "| Python | {python} |\n"
    "| PostgreSQL | {postgresql} |\n"
    "| PostgreSQL settings | {postgresql_settings} |\n"
    "| API server | {api_server} |\n"
    "| Load generator | {load_generator} |\n"
    "| Importer / data generator | {importer} / {demo} |",
)
DATASET = (
    "|  |  |",
    "| Typical users | {users} |\n"
    "| Their transactions (via the importer) | {transactions} |\n"
    "| Import time of the typical users | {seconds} s ({processes} processes) |\n"
    "| Heavy user's transactions | {inserted} |\n"
    "| Rows: transactions / daily_category_spend | {rows} / {rollup_rows} |\n"
    "| VACUUM ANALYZE after the load (as autovacuum would) | {vacuum_seconds} s |",
)
IMPORT = (
    "| Rows | File | Importer | psql \\copy (plain table) | Ratio | Importer peak RSS |",
    "| {rows} | {file_mb} MB | {importer_seconds} s | {psql_copy_seconds} s | {ratio_x} | "
    "{importer_peak_rss_mb} MB (baseline {importer_baseline_rss_mb} MB) |",
)
LOAD = (
    "| Endpoint | Requests/s | p50 | p99 | Share of floor | Errors | Worker RSS |",
    "| `{path}` | {rps} | {p50_ms} ms | {p99_ms} ms | {share} | {errors} | {worker_rss_mb} MB |",
)
HEAVY = (
    "| Filter | Path | Rows | API p50 | Plain SQL p50 | API / SQL | Same numbers |",
    "| {name} | {path} | {transactions} | {api_p50_ms} ms | {sql_p50_ms} ms | {api_over_sql_x} "
    "| {same} |",
)
DASHBOARD = (
    "| User | Transactions | p50 | max | Samples | API share (sequential) |",
    "| {who} | {transactions} | {p50_ms} ms | {max_ms} ms | {samples} | {api_ms} ms |",
)
LOAD_TEST = (
    "| Endpoint | Requests | Failures | Requests/s | p50 | p99 |",
    "| {name} | {requests} | {failures} | {rps} | {p50_ms} ms | {p99_ms} ms |",
)
LOAD_TEXT = (
    "{connections} connections, {seconds_per_run} s per endpoint and round, {rounds} "
    "interleaved round(s) after a warm-up, each endpoint's best round shown; random typical "
    "users with valid tokens; uvicorn with {workers} workers, uvloop, httptools, no access log. "
    "The floor is `/bench/floor` (async, no database, mounted by `bench/server.py` on the same "
    "app); `/bench/floor-sync` is the same through the thread pool."
)
UNCACHED_TEXT = (
    "The same load on a second server with the answer cache off (`RESPONSE_CACHE_MB=0`): every "
    "request computes its answer, as a user's first look at a view, or the first after their "
    "data changed, does."
)
RSS_TEXT = (
    "Workers' total RSS over the load runs: first {first} MB, last {last} MB, max {max} MB "
    "({samples} samples)."
)
HEAVY_TEXT = (
    "API: p50 of sequential requests over HTTP (auth, query, JSON). Plain SQL: the three GROUP BY "
    "queries (totals, by category, by month) over `transactions`, summed `\\timing` in `psql`, "
    "p50."
)


def _load_rows(load: dict) -> list[str]:
    endpoints = (load.get("endpoints") or {}).values()
    return _rows(*LOAD, [{**r, "share": _pct(r.get("share_of_floor")) or ""} for r in endpoints])


def render(results: dict) -> str:
    data, imp = results.get("dataset") or {}, results.get("import") or {}
    counts, load = data.get("counts") or {}, results.get("load") or {}
    dash, load_test = results.get("dashboard") or {}, results.get("load_test")
    machine = {**results.get("machine", {}), "load_generator": load.get("load_generator")}
    dataset = {
        **data.get("typical", {}),
        "inserted": imp.get("inserted"),
        "rows": counts.get("transactions"),
        "rollup_rows": counts.get("daily_category_spend"),
        "vacuum_seconds": data.get("vacuum_seconds"),
    }
    heavy = [
        {**h, "api_over_sql_x": _x(h["api_over_sql"]), "same": "yes" if h["same_numbers"] else "NO"}
        for h in results.get("heavy") or []
    ]
    out = [
        "# Performance",
        "",
        "Generated by `make bench` (`python -m bench`) from "
        f"`bench/results/{Path(results.get('results_file', 'latest.json')).name}`; "
        "do not edit by hand. `make bench-quick` runs a small version (part of `make test-slow`).",
        "",
        f"Run: {results.get('started_at', '?')}, mode **{results.get('mode')}**, "
        f"{results.get('total_seconds', '?')} s in all.",
        *_section("Machine"),
        *_rows(*MACHINE, [machine]),
        *_section("Targets"),
        *_rows(*TARGETS, targets(results)),
        *_section("1. Data set"),
        *_rows(*DATASET, [dataset]),
        *_section("2. Import of the heavy user's CSV"),
        *_rows(*IMPORT, [{**imp, "ratio_x": _x(imp.get("ratio")) or ""}]),
        *_section("3. API under load", LOAD_TEXT.format_map(_Item({"rounds": 1, **load})), ""),
        *_load_rows(load),
    ]
    if results.get("load_uncached"):
        out += ["", UNCACHED_TEXT, "", *_load_rows(results["load_uncached"])]
    out += ["", RSS_TEXT.format_map(_Item(load.get("worker_rss_mb") or {}))]
    out += _section("4. The heavy user's /metrics against plain SQL", HEAVY_TEXT, "")
    out += _rows(*HEAVY, heavy)
    out += _section("5. Dashboard update after a filter change (Chromium)")
    if dash.get("skipped"):
        out.append(f"Skipped: {dash['skipped']}")
    else:
        users = [{"who": w, **dash[w]} for w in ("typical", "heavy") if dash.get(w)]
        out += [dash.get("method", ""), "", *_rows(*DASHBOARD, users)]
    if load_test:
        out += _section("60 s load test (`bench/results/load-test.json`, `bench/loadtest.py`)")
        pairs = [{"key": k, "value": load_test[k]} for k in LOAD_TEST_KEYS if k in load_test]
        out += _rows("|  |  |", "| {key} | {value} |", pairs)
        if load_test.get("per_endpoint"):
            per_endpoint = [{"name": k, **v} for k, v in load_test["per_endpoint"].items()]
            out += ["", *_rows(*LOAD_TEST, per_endpoint)]
    if results.get("notes"):
        out += _section("Notes") + [f"- {note}" for note in results["notes"]]
    return "\n".join(out) + "\n"


def read_load_test() -> dict | None:
    path = RESULTS_DIR / "load-test.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {"error": "bench/results/load-test.json is not valid JSON"}

"""Targets, verdicts and docs/PERFORMANCE.md (bench/report.md.j2), all from the results JSON."""

from operator import eq, ge, le, lt
from pathlib import Path

import jinja2

from bench.config import BENCH_DIR
from bench.loadtest import STEADY_GROWTH_MB


def _get(results: dict, *keys):
    value = results
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _pct(value) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, (int, float)) else ""


def _x(value) -> str:
    return f"{value:g}x" if isinstance(value, (int, float)) else ""


def _check(name, goal, value, limit, compare, shown=""):
    """A target's row: `compare(value, limit)` decides; `shown` is the unit after the
    number, or a function that formats it."""
    if value is None:
        return {"name": name, "target": goal, "measured": "not measured", "verdict": "n/a"}
    text = shown(value) if callable(shown) else f"{value:g}{shown}"
    verdict = "PASS" if compare(value, limit) else "MISS"
    return {"name": name, "target": goal, "measured": text, "verdict": verdict}


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
    limit = _get(results, "load_test", "steady_growth_limit_mb") or STEADY_GROWTH_MB
    memory = ("API memory growth in the load test", f"<= {limit} MB", "load_test rss_growth_mb")
    heavy = results.get("heavy") or []
    values = {
        **results,
        "heavy": {item["key"]: item for item in heavy},
        "same": all(item.get("same_numbers") for item in heavy) if heavy else None,
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
        (*memory, limit, le, " MB"),
    ]
    return [_check(name, goal, _get(values, *at.split()), *rest) for name, goal, at, *rest in rows]


class _Missing(jinja2.ChainableUndefined):
    """A value the results do not hold shows as None (a partial run still renders)."""

    def __str__(self) -> str:
        return "None"


_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(BENCH_DIR),
    undefined=_Missing,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_TEMPLATES.filters.update(pct=_pct, x=_x)


def render(results: dict) -> str:
    """docs/PERFORMANCE.md: bench/report.md.j2 over the results, and bench/notes.md's notes
    (one a line, "- " first: they describe the code as it is now)."""
    notes = [line for line in (BENCH_DIR / "notes.md").read_text().splitlines() if line[:2] == "- "]
    return _TEMPLATES.get_template("report.md.j2").render(
        r=results,
        targets=targets(results),
        notes="\n".join(notes) + "\n",
        results_file=Path(results.get("results_file", "latest.json")).name,
    )

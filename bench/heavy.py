"""Step 4: the heavy user's /metrics against the same aggregates as plain SQL in psql."""

import re
import statistics
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import psycopg

from bench import pg
from bench.config import END


def scenarios(top_category: str) -> list[dict]:
    """Each: the /metrics query string and the same selection as SQL (all literals)."""
    year_start = END - timedelta(days=364)
    next_day = END + timedelta(days=1)
    return [
        {
            "name": "all time",
            "key": "all_time",
            "params": {},
            "where": "",
            "rollup": True,
        },
        {
            "name": "one year",
            "key": "one_year",
            "params": {"start": year_start.isoformat(), "end": END.isoformat()},
            "where": f" AND \"timestamp\" >= '{year_start}' AND \"timestamp\" < '{next_day}'",
            "rollup": True,
        },
        {
            "name": f"category = {top_category}",
            "key": "category",
            "params": {"category": top_category},
            "where": f" AND category = '{top_category}'",
            "rollup": True,
        },
        {
            "name": "amount >= 50",
            "key": "amount",
            "params": {"min_amount": "50"},
            "where": " AND amount >= 50",
            "rollup": False,
        },
        {
            "name": "text q = 'market'",
            "key": "text",
            "params": {"q": "market"},
            "where": " AND lower(coalesce(description, '')) LIKE '%market%'",
            "rollup": False,
        },
    ]


def plain_sql(user_id: int, where: str) -> list[str]:
    """The three GROUP BY queries a naive endpoint would run over the base table."""
    base = f"FROM transactions WHERE user_id = {user_id}{where}"
    return [
        'SELECT count(*), sum(amount), min("timestamp")::date, max("timestamp")::date ' + base,
        f"SELECT category, sum(amount), count(*) {base} GROUP BY category ORDER BY 2 DESC",
        "SELECT date_trunc('month', \"timestamp\")::date AS month, sum(amount), count(*) "
        f"{base} GROUP BY 1 ORDER BY 1",
    ]


def time_psql(url: str, queries: list[str], repetitions: int) -> list[float]:
    """Per repetition, the summed `\\timing` of the queries, in milliseconds."""
    script = ["\\timing on", "\\o /dev/null"]
    for _ in range(repetitions + 1):  # the first is a warm-up
        script.extend(query + ";" for query in queries)
    output = pg.psql(url, input_text="\n".join(script) + "\n").stdout
    times = [float(value) for value in re.findall(r"Time: ([0-9.]+) ms", output)]
    per_repetition = [sum(times[i : i + len(queries)]) for i in range(0, len(times), len(queries))]
    return per_repetition[1:]


def time_api(client: httpx.Client, params: dict, repetitions: int) -> tuple[list[float], dict]:
    body = {}
    for _ in range(2):  # warm-up
        client.get("/metrics", params=params).raise_for_status()
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        response = client.get("/metrics", params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
    return times, body


def plain_totals(url: str, user_id: int, where: str) -> tuple[Decimal, int]:
    with psycopg.connect(pg.libpq_dsn(url)) as connection:
        total, count = connection.execute(
            # total_spend: spending categories only (transfers and income count in none).
            f"SELECT coalesce(sum(amount) FILTER (WHERE category IN ("
            f"SELECT name FROM categories WHERE user_id = {user_id} AND kind = 'spending'"
            f")), 0), count(*) FROM transactions WHERE user_id = {user_id}{where}"
        ).fetchone()
    return total, count


def top_category(url: str, user_id: int) -> str:
    with psycopg.connect(pg.libpq_dsn(url)) as connection:
        return connection.execute(
            "SELECT category FROM daily_category_spend WHERE user_id = %s "
            "GROUP BY category ORDER BY sum(transaction_count) DESC LIMIT 1",
            (user_id,),
        ).fetchone()[0]


def run(url: str, base_url: str, token: str, user_id: int, repetitions: int) -> list[dict]:
    results = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for scenario in scenarios(top_category(url, user_id)):
            api_times, body = time_api(client, scenario["params"], repetitions)
            sql_times = time_psql(url, plain_sql(user_id, scenario["where"]), repetitions)
            total, count = plain_totals(url, user_id, scenario["where"])
            api_p50 = statistics.median(api_times)
            sql_p50 = statistics.median(sql_times)
            results.append(
                {
                    "name": scenario["name"],
                    "key": scenario["key"],
                    "path": "rollup" if scenario["rollup"] else "base table",
                    "params": scenario["params"],
                    "api_p50_ms": round(api_p50, 2),
                    "api_min_ms": round(min(api_times), 2),
                    "sql_p50_ms": round(sql_p50, 2),
                    "sql_min_ms": round(min(sql_times), 2),
                    "api_over_sql": round(api_p50 / sql_p50, 3),
                    "speedup": round(sql_p50 / api_p50, 1),
                    "transactions": count,
                    "same_numbers": Decimal(str(body["total_spend"])) == total
                    and body["transaction_count"] == count,
                }
            )
    return results

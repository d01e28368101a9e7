"""Step 4: the heavy user's /metrics against the same aggregates as plain SQL in psql."""

import re
import statistics
from datetime import timedelta
from decimal import Decimal

from bench import pg
from bench.config import END, log
from bench.load import Server, timed_ms


def scenarios(top_category: str) -> list[tuple[str, str, dict, str, bool]]:
    """Each: name, key, the /metrics query, the same selection as SQL (all literals), and
    whether /metrics reads the rollup."""
    year_start, next_day = END - timedelta(days=364), END + timedelta(days=1)
    year = {"start": year_start.isoformat(), "end": END.isoformat()}
    in_year = f" AND \"timestamp\" >= '{year_start}' AND \"timestamp\" < '{next_day}'"
    text = " AND lower(coalesce(description, '')) LIKE '%market%'"
    category, in_category = {"category": top_category}, f" AND category = '{top_category}'"
    return [
        ("all time", "all_time", {}, "", True),
        ("one year", "one_year", year, in_year, True),
        (f"category = {top_category}", "category", category, in_category, True),
        ("amount >= 50", "amount", {"min_amount": "50"}, " AND amount >= 50", False),
        ("text q = 'market'", "text", {"q": "market"}, text, False),
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
    output = pg.psql(url, input_text="\n".join(script) + "\n")
    times = [float(value) for value in re.findall(r"Time: ([0-9.]+) ms", output)]
    n = len(queries)
    return [sum(times[i : i + n]) for i in range(0, len(times), n)][1:]


def run(url: str, server: Server, user_id: int, repetitions: int) -> list[dict]:
    results = []
    top_category = pg.query(
        url,
        "SELECT category FROM daily_category_spend WHERE user_id = %s "
        "GROUP BY category ORDER BY sum(transaction_count) DESC LIMIT 1",
        (user_id,),
    )[0][0]
    with server.client(user_id) as client:
        for name, key, params, where, rollup in scenarios(top_category):
            api_times, response = timed_ms(
                lambda: client.get("/metrics", params=params).raise_for_status(), repetitions, 2
            )
            body = response.json()
            sql_times = time_psql(url, plain_sql(user_id, where), repetitions)
            # The API's total_spend counts spending categories only (not income, transfers).
            count, total = pg.query(
                url,
                # No parameters: the text filter's LIKE pattern holds '%' signs.
                "SELECT count(*), sum(amount) FILTER (WHERE category IN (SELECT name "
                f"FROM categories WHERE user_id = {user_id} AND kind = 'spending')) "
                f"FROM transactions WHERE user_id = {user_id}{where}",
            )[0]
            api_p50, sql_p50 = statistics.median(api_times), statistics.median(sql_times)
            results.append(
                {
                    "name": name,
                    "key": key,
                    "path": "rollup" if rollup else "base table",
                    "params": params,
                    "api_p50_ms": round(api_p50, 2),
                    "api_min_ms": round(min(api_times), 2),
                    "sql_p50_ms": round(sql_p50, 2),
                    "sql_min_ms": round(min(sql_times), 2),
                    "api_over_sql": round(api_p50 / sql_p50, 3),
                    "speedup": round(sql_p50 / api_p50, 1),
                    "transactions": count,
                    "same_numbers": Decimal(str(body["total_spend"])) == (total or 0)
                    and body["transaction_count"] == count,
                }
            )
            log(f"  {results[-1]}")
    return results

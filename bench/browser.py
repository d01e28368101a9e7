"""Step 5: the dashboard in Chromium: from a filter change to every view showing the new data.

The dashboard (`panel serve frontend/spending_ui/app.py`) talks to the benchmark's API. For
each change of the Period select (All time <-> Last 12 months) the expected answer is fetched
from the API first; the clock starts in the page just before the change and stops, in the
page, at the first animation frame where every view shows exactly that answer: the KPI cards'
`data-value`s, both Bokeh chart sources (`category-source`, `time-source`), the table's
`data-total`, and no Panel loading spinner left.
"""

import statistics
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from bench.config import REPO_ROOT
from bench.dataset import HEAVY_USERNAME, PASSWORD, Users, typical_username
from bench.load import Server, timed_ms
from spending_api.processes import dashboard_environment, free_port, launch_dashboard
from spending_ui.headless import CHROMIUM, CHROMIUM_ARGS

CHANGES = [("All time", "all"), ("Last 12 months", "last_12_months")]

# Every element matching `selector`, through Panel's shadow roots.
DEEP_QUERY = """
function deepAll(root, selector, found) {
  found.push(...root.querySelectorAll(selector));
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) deepAll(el.shadowRoot, selector, found);
  }
  return found;
}
"""

SHOWS_EXPECTED = "(expected) => {" + DEEP_QUERY + """
  const attr = (selector, name) => {
    const el = deepAll(document, selector, [])[0];
    return el ? el.getAttribute(name) : null;
  };
  const doc = window.Bokeh && Bokeh.documents[0];
  if (!doc) return false;
  const source = (name) => { const s = doc.get_model_by_name(name); return s ? s.data : null; };
  const categories = source('category-source');
  const timeline = source('time-source');
  const ok =
    attr('.kpi[data-kpi=total_spend]', 'data-value') === expected.total &&
    attr('.kpi[data-kpi=transaction_count]', 'data-value') === expected.count &&
    attr('table.tx', 'data-total') === expected.table_total &&
    categories && JSON.stringify(Array.from(categories.category)) ===
      JSON.stringify(expected.categories) &&
    timeline && timeline.period.length === expected.periods.length &&
    timeline.period[0] === expected.periods[0] &&
    timeline.period[timeline.period.length - 1] === expected.periods[expected.periods.length - 1] &&
    deepAll(document, '.pn-loading', []).length === 0;
  if (ok && window.__benchEnd === null) window.__benchEnd = performance.now();
  return ok;
}"""


def dashboard_update(client: httpx.Client, preset: str) -> tuple[httpx.Response, ...]:
    """The requests of one update as the dashboard makes them (spending_ui.store
    DashboardStore.refresh, which sends them all at once), one after another here: the
    /metrics and /transactions answers for the new filters."""
    from spending_ui.state import Filters
    from spending_ui.store import REVIEW_SIZE

    filters = Filters(preset=preset)
    params, previous = filters.to_params(), filters.previous_params()
    client.get("/categories").raise_for_status()
    metrics = client.get("/metrics", params=[*params, ("granularity", filters.granularity)])
    if previous:
        client.get("/metrics", params=[*previous, ("granularity", "month")])
    listing = client.get("/transactions", params=[*params, ("limit", 25)])
    review = [("review", "true"), ("sort", "-amount"), ("limit", REVIEW_SIZE)]
    client.get("/transactions", params=[*params, *review]).raise_for_status()
    return metrics.raise_for_status(), listing.raise_for_status()


def expected_view(client: httpx.Client, preset: str) -> dict:
    """What every view must show for `preset`, from the API's answers to the dashboard."""
    from spending_ui.api import _metrics as parse_metrics
    from spending_ui.views.charts import spending_slices

    metrics, listing = dashboard_update(client, preset)
    metrics = metrics.json()
    return {
        "total": f"{metrics['total_spend']:.2f}",
        "count": str(metrics["transaction_count"]),
        "table_total": listing.headers["X-Total-Count"],
        # The donut's slices as the dashboard draws them (top spending categories + "Other").
        "categories": [name for name, *_ in spending_slices(parse_metrics(metrics))[0]],
        "periods": [p["period_start"] for p in metrics["spend_over_time"]],
    }


def measure_user(browser, dashboard_url: str, server: Server, user: tuple, repetitions: int):
    """`user`: (username, user id)."""
    username, user_id = user
    with server.client(user_id) as client:
        expected = {preset: expected_view(client, preset) for _, preset in CHANGES}
        api_ms = []
        for _ in range(3):
            for _, preset in CHANGES:
                api_ms += timed_ms(lambda: dashboard_update(client, preset), 1)[0]
    with browser.new_context(viewport={"width": 1400, "height": 1000}) as context:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(dashboard_url + "/app?preset=all")
        page.get_by_placeholder("Your username").fill(username)
        page.get_by_placeholder("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # Logged in and drawn: within the page's timeout (60 s), not expect()'s 5 s, which
        # a busy machine overran.
        page.wait_for_function(SHOWS_EXPECTED, arg=expected["all"])
        select = page.locator("select").first
        times = []
        for index in range(repetitions * 2 + 1):
            label, preset = CHANGES[(index + 1) % 2]
            page.evaluate("() => { window.__benchEnd = null; }")
            started = page.evaluate("() => performance.now()")
            select.select_option(label=label)
            page.wait_for_function(SHOWS_EXPECTED, arg=expected[preset], polling="raf")
            elapsed = page.evaluate("() => window.__benchEnd") - started
            if index:  # the first change warms the caches up
                times.append(elapsed)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "min_ms": round(min(times), 1),
        "samples": len(times),
        "transactions": int(expected["all"]["count"]),
        "api_ms": round(statistics.median(api_ms), 1),
    }


def run(server: Server, users: Users, repetitions: int) -> dict:
    """The first typical user's and the heavy user's updates; the dashboard (spending_ui.serve)
    on a free port, talking to the API of `server`."""
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} is missing (apt-get install -y chromium)"}

    accounts = {
        "typical": (typical_username(1), users.typical[0]),
        "heavy": (HEAVY_USERNAME, users.heavy),
    }
    env = dashboard_environment(backend_url=server.base_url)
    with (
        tempfile.TemporaryDirectory(prefix="spending-bench-ui-") as log_dir,
        launch_dashboard(
            port=free_port(), log_path=Path(log_dir) / "panel.log", env=env, cwd=REPO_ROOT
        ) as dashboard,
    ):
        dashboard.wait_ready(ready_path="/app", ready=lambda response: response.status_code == 200)
        with sync_playwright() as playwright:
            with playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            ) as browser:
                return {
                    who: measure_user(browser, dashboard.url, server, user, repetitions)
                    for who, user in accounts.items()
                }

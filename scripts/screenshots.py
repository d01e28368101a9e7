"""`make screenshots`: serve the demo data and write PNGs of the dashboard to docs/screenshots/.

Starts the API and the dashboard on free ports against a fresh database (on the tests'
PostgreSQL server, embedded if there is no other) seeded with the demo users, then drives
Chromium (/usr/bin/chromium or CHROMIUM) with Playwright.
"""

from __future__ import annotations

import logging
import os
import re

import subprocess
import sys
import tempfile

import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright
from spending_api.embedded import create_database, drop_database, server_for_tests
from spending_api import processes
from spending_ui.headless import CHROMIUM, CHROMIUM_ARGS
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 1250}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
}
BUSY = ".pn-busy-container .loader.spin"  # the template's busy indicator, while spinning

logger = logging.getLogger("screenshots")


def wait_for_dashboard(page) -> None:
    expect(page.locator(".kpi[data-kpi=total_spend][data-value]")).to_be_attached()
    page.wait_for_function("""() => {
          const doc = window.Bokeh && Bokeh.documents[0]
          const pie = doc && doc.get_model_by_name('category-source')
          const bars = doc && doc.get_model_by_name('time-source')
          return pie && bars && pie.data.category.length > 0 && bars.data.total.length > 0
        }""")
    expect(page.locator("table.tx")).to_be_attached()
    expect(page.locator(".pn-loading")).to_have_count(0)
    expect(page.locator(BUSY)).to_have_count(0)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def log_in(page) -> None:
    page.get_by_placeholder("Your username").fill("demo")
    page.get_by_placeholder("Your password").fill("demo")
    page.get_by_role("button", name="Log in").click()


def add_refund_week(api_url: str) -> tuple[date, date]:
    """Import a returned purchase into the demo data; the week it falls in, Monday first."""
    today = date.today()
    monday = today - timedelta(days=today.weekday() + 7)
    token = httpx.post(f"{api_url}/login", json={"username": "demo", "password": "demo"})
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    rows = [
        (monday + timedelta(days=1), "Restaurant deposit refunded", "-180.00", "Dining out"),
        (monday + timedelta(days=2), "Returned jacket", "-95.00", "Shopping"),
    ]
    body = "date,description,amount,category\n" + "".join(
        f"{day.isoformat()},{text},{amount},{category}\n" for day, text, amount, category in rows
    )
    response = httpx.post(
        f"{api_url}/transactions/import",
        headers=headers,
        files={"file": ("refunds.csv", body.encode(), "text/csv")},
    )
    response.raise_for_status()
    return monday, monday + timedelta(days=6)


def shoot(api_url: str, ui_url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=30_000)  # conditions, with room for a busy machine
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for theme in ("default", "dark"):
                context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                context.set_default_timeout(30_000)
                page = context.new_page()
                page.goto(f"{ui_url}?theme={theme}")
                if theme == "default":
                    page.set_viewport_size({"width": 1280, "height": 800})
                    expect(page.get_by_placeholder("Your username")).to_be_visible()
                    expect(page.locator(BUSY)).to_have_count(0)
                    page.screenshot(path=OUT / "login.png")
                    page.set_viewport_size(VIEWPORT)
                log_in(page)
                wait_for_dashboard(page)
                name = "dashboard.png" if theme == "default" else "dashboard-dark.png"
                page.screenshot(path=OUT / name)
                logger.info("wrote %s", OUT / name)
                context.close()
            # A refund week: a refund larger than the week's purchases in its category.
            start, end = add_refund_week(api_url)
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto(f"{ui_url}?start={start}&end={end}&granularity=day")
            log_in(page)
            wait_for_dashboard(page)
            expect(page.locator(".donut-refunds")).to_be_visible()
            page.screenshot(path=OUT / "refund-week.png")
            logger.info("wrote %s", OUT / "refund-week.png")
            context.close()

            context = browser.new_context(**PHONE)
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto(ui_url)
            log_in(page)
            wait_for_dashboard(page)
            page.screenshot(path=OUT / "phone.png")
            logger.info("wrote %s", OUT / "phone.png")
            page.locator("#sidebar-button").tap()  # a tap: no hover tooltip in the picture
            expect(page.locator("#sidebar")).not_to_have_class(re.compile(r"\bhidden\b"))
            page.wait_for_timeout(400)  # the menu's slide-in animation, for the picture only
            page.screenshot(path=OUT / "phone-menu.png")
            logger.info("wrote %s", OUT / "phone-menu.png")
            context.close()
        finally:
            browser.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium (or set CHROMIUM)")
    admin_url, embedded_server = server_for_tests(os.environ.get("TEST_DATABASE_URL"))
    name = f"spending_shots_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    try:
        with tempfile.TemporaryDirectory(prefix="spending-shots-") as tmp:
            serve_and_shoot(make_url(admin_url).set(database=name).render_as_string(False), tmp)
    finally:
        drop_database(admin_url, name)
        if embedded_server is not None:
            embedded_server.stop()


def _is_ok(response) -> bool:
    return response.status_code == 200


def serve_and_shoot(database_url: str, tmp: str) -> None:
    settings = {"DATABASE_URL": database_url, "ENVIRONMENT": "local", "LOG_LEVEL": "WARNING"}
    for command in ("init-db", "seed-demo"):
        subprocess.run(
            [str(BIN / "spending-admin"), command],
            env=processes.api_environment(settings),
            cwd=REPO,
            check=True,
        )
    api_port, ui_port = processes.free_port(), processes.free_port()
    api_url, ui_url = processes.url_of(api_port), processes.url_of(ui_port)
    api = processes.launch_api(
        port=api_port,
        options=["--log-level", "warning"],
        log_path=Path(tmp) / "api.log",
        env=processes.api_environment({**settings, "CORS_ORIGINS": f'["{ui_url}"]'}),
        cwd=REPO,
    )
    with (
        api,
        processes.launch_dashboard(
            port=ui_port,
            log_path=Path(tmp) / "ui.log",
            env=processes.dashboard_environment(backend_url=api_url),
            cwd=REPO,
        ) as ui,
    ):
        api.wait_ready(ready=_is_ok)
        ui.wait_ready(ready_path="/app", ready=_is_ok)
        shoot(api_url, f"{ui_url}/app")


if __name__ == "__main__":
    main()

"""Fixtures of the dashboard's tests.

Unit tests need nothing. The end-to-end tests (marked `ui`) get, once per test session: a
fresh PostgreSQL database (migrated, seeded with known rows) on the tests' server
(TEST_DATABASE_URL, else 127.0.0.1:5432, else the embedded one), the API (uvicorn) and the
dashboard (`panel serve`) as subprocesses on free ports, and Chromium driven by Playwright.
Without /usr/bin/chromium they skip, or fail under CI=true.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from spending_api.processes import (
    ServerProcess,
    api_environment,
    dashboard_environment,
    free_port,
    launch_api,
    launch_dashboard,
    url_of,
)
from spending_ui.headless import CHROMIUM, CHROMIUM_ARGS
from testkit import processes

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = "frontend-e2e-secret-key-long-enough-0123456789"
# Where the dashboard keeps a tab's token (sessionStorage: it survives a reload of the tab).
TOKEN_KEY = "spending-dashboard.token"
START_TIMEOUT = 60.0
# A new dashboard session's first figures: it builds every view and runs its first refresh,
# which takes 10-20 s while the machine is shared with other busy processes.
DASHBOARD_LOAD_TIMEOUT_MS = 60_000


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


# -- the seeded data: known rows, so the tests can compute the numbers themselves ------------


@dataclass(frozen=True)
class Row:
    day: date
    amount: Decimal
    category: str
    description: str

    @property
    def timestamp(self) -> datetime:
        return datetime.combine(self.day, datetime.min.time()) + timedelta(hours=12)


@dataclass(frozen=True)
class SeededUser:
    username: str
    password: str
    rows: tuple[Row, ...]

    def total(self, start: date | None = None, end: date | None = None, categories=()) -> Decimal:
        return sum(
            (
                r.amount
                for r in self.rows
                if (start is None or r.day >= start)
                and (end is None or r.day <= end)
                and (not categories or r.category in categories)
            ),
            Decimal("0.00"),
        )


def _ana_rows(today: date) -> tuple[Row, ...]:
    categories = ("Groceries", "Dining", "Transport", "Shopping")
    rows = [
        Row(
            today - timedelta(days=k),
            Decimal(12 + (k * 7) % 53) + Decimal("0.35"),
            categories[(k // 3) % len(categories)],
            f"{categories[(k // 3) % len(categories)]} purchase {k}",
        )
        for k in range(0, 420, 3)
    ]
    rows += [
        Row(today - timedelta(days=30 * m + 2), Decimal("950.00"), "Rent", f"Rent {m}")
        for m in range(14)
    ]
    return tuple(rows)


def _ben_rows(today: date) -> tuple[Row, ...]:
    categories = ("Books", "Groceries")
    return tuple(
        Row(
            today - timedelta(days=k),
            Decimal("7.50") + Decimal(k % 11),
            categories[k % 2],
            f"Ben {categories[k % 2]} {k}",
        )
        for k in range(1, 200, 5)
    )


def _cam_rows(today: date) -> tuple[Row, ...]:
    return tuple(
        Row(today - timedelta(days=4 * k + 1), Decimal("20.00") + k, "Groceries", f"Cam shop {k}")
        for k in range(10)
    )


DEE_CATEGORIES = (
    "Rent",
    "Groceries",
    "Transport",
    "Utilities",
    "Dining out",
    "Shopping",
    "Health",
    "Travel",
    "Books",
    "Gifts",
    "Sport",
    "Music",
)


def _dee_rows(today: date) -> tuple[Row, ...]:
    """Twelve categories (more than the donut draws), and a refund week: the last seven days
    hold a refund larger than the week's dining out."""
    rows = [
        Row(
            today - timedelta(days=10 + 9 * k),
            Decimal(400 if k % 12 == 0 else 5 + 3 * (k % 12)) + Decimal("0.25"),
            DEE_CATEGORIES[k % 12],
            f"Dee {DEE_CATEGORIES[k % 12]} {k}",
        )
        for k in range(36)
    ]
    rows += [
        Row(today - timedelta(days=2), Decimal("25.00"), "Dining out", "Dee dinner"),
        Row(today - timedelta(days=1), Decimal("-65.00"), "Dining out", "Dee refund"),
        Row(today - timedelta(days=1), Decimal("30.00"), "Groceries", "Dee shop"),
        Row(today - timedelta(days=3), Decimal("12.00"), "Transport", "Dee bus"),
    ]
    return tuple(rows)


class Server:
    """A server subprocess that can be stopped and started again on the same port:
    `launch()` starts a fresh one (spending_api.processes.launch_api / launch_dashboard)."""

    def __init__(self, launch: Callable[[], ServerProcess], ready_path: str, port: int):
        self._launch, self.ready_path, self.port = launch, ready_path, port
        self.url = url_of(port)
        self.process: ServerProcess | None = None

    def launch(self) -> None:
        self.process = self._launch()

    def wait(self) -> None:
        assert self.process is not None
        self.process.wait_ready(
            ready_path=self.ready_path,
            ready=lambda response: response.status_code == 200,
            timeout=START_TIMEOUT,
        )

    def start(self) -> None:
        self.launch()
        self.wait()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)
            self.process = None


@dataclass(frozen=True)
class Stack:
    api_url: str
    ui_url: str
    users: dict[str, SeededUser]
    today: date
    api_server: Server
    secret_key: str = SECRET_KEY
    # Seconds from the start of each Stack.login to the dashboard's figures, latest last.
    load_seconds: list[float] = field(default_factory=list)

    def token(self, username: str) -> str:
        user = self.users[username]
        response = httpx.post(
            f"{self.api_url}/login", json={"username": user.username, "password": user.password}
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, username: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {self.token(username)}"}
        )

    def login(self, page, username: str, query: str = "") -> None:
        """Opens the dashboard signed in as `username`, as the reload of a tab that logged in
        does: the tab holds the token of a real /login. The form itself: login_with_form."""
        from playwright.sync_api import expect

        started = time.monotonic()
        token = self.token(username)
        origin = self.ui_url.rsplit("/", 1)[0]
        page.goto(f"{origin}/liveness")  # the dashboard's origin, without a session
        page.evaluate("([key, token]) => sessionStorage.setItem(key, token)", [TOKEN_KEY, token])
        page.goto(self.ui_url + query)
        expect(page.locator(".kpi[data-kpi=total_spend][data-value]")).to_be_attached(
            timeout=DASHBOARD_LOAD_TIMEOUT_MS
        )
        self.load_seconds.append(time.monotonic() - started)

    def login_with_form(self, page, username: str, query: str = "") -> None:
        """Opens the dashboard and logs in through the login form, as a person does."""
        page.goto(self.ui_url + query)
        self.submit_login_form(page, username)

    def submit_login_form(self, page, username: str) -> None:
        """Logs in through the login form the page shows (no second page load)."""
        from playwright.sync_api import expect

        user = self.users[username]
        page.get_by_placeholder("Your username").fill(user.username)
        page.get_by_placeholder("Your password").fill(user.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".kpi[data-kpi=total_spend][data-value]")).to_be_attached(
            timeout=DASHBOARD_LOAD_TIMEOUT_MS
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the tests' server (see spending_api.embedded.server_for_tests)."""
    import psycopg
    from spending_api.embedded import server_for_tests
    from sqlalchemy.engine import make_url

    admin_url, embedded_server = server_for_tests(os.environ.get("TEST_DATABASE_URL"))
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    name = f"spending_ui_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        processes.drop_database(admin, name, wait=embedded_server is not None)
        if embedded_server is not None:
            embedded_server.stop()


def _seed(url: str, today: date) -> dict[str, SeededUser]:
    from spending_api.auth.repository import create_user
    from argon2 import PasswordHasher, profiles
    from spending_api.db import Database
    from spending_api.migrate import upgrade
    from spending_api.settings import Settings
    from spending_api.transactions.repository import NewTransaction, insert_transactions

    upgrade(url)
    # Argon2 at its cheapest: a hash keeps its parameters, so the API's checks of these
    # passwords cost microseconds instead of about half a second per browser login.
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    users = {
        "ana": SeededUser("ana", "ana-password-1", _ana_rows(today)),
        "ben": SeededUser("ben", "ben-password-1", _ben_rows(today)),
        "cam": SeededUser("cam", "cam-password-1", _cam_rows(today)),
        "dee": SeededUser("dee", "dee-password-1", _dee_rows(today)),
        "eve": SeededUser("eve", "eve-password-1", ()),
    }
    database = Database.from_settings(Settings(database_url=url, secret_key=SECRET_KEY))
    try:
        with database.session() as session:
            for user in users.values():
                created = create_user(
                    session, username=user.username, password_hash=hasher.hash(user.password)
                )
                insert_transactions(
                    session,
                    user_id=created.id,
                    rows=[
                        NewTransaction(r.timestamp, r.amount, r.category, r.description, i)
                        for i, r in enumerate(user.rows)
                    ],
                )
            session.commit()
    finally:
        database.dispose()
    return users


@pytest.fixture(scope="session")
def live_app(postgres_url):
    """The API itself, in this process, on the tests' database: state objects talk to it
    through httpx's ASGI transport (no server, no browser)."""
    from spending_api.main import create_app
    from spending_api.migrate import upgrade
    from spending_api.settings import Settings

    upgrade(postgres_url)  # the stack's seeding finds it done
    app = create_app(
        Settings(
            _env_file=None, environment="test", database_url=postgres_url, secret_key=SECRET_KEY
        )
    )
    yield app
    app.state.database.dispose()


@pytest.fixture
def live_store(live_app) -> Callable[..., object]:
    """A new user of its own with these rows ((days ago, amount, category, description)),
    logged in through the real API: its DashboardStore, its filters on all time, not yet
    refreshed."""
    import asyncio

    from argon2 import PasswordHasher, profiles
    from spending_api.auth.repository import create_user
    from spending_api.transactions.repository import NewTransaction, insert_transactions
    from spending_ui.api import ApiClient
    from spending_ui.state import AuthState, Filters
    from spending_ui.store import DashboardStore

    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)

    def make(rows) -> DashboardStore:
        username = f"live-{uuid.uuid4().hex[:10]}"
        with live_app.state.database.session() as session:
            user = create_user(session, username=username, password_hash=hasher.hash("pw-123456"))
            insert_transactions(
                session,
                user_id=user.id,
                rows=[
                    NewTransaction(r.timestamp, r.amount, r.category, r.description, i)
                    for i, r in enumerate(
                        Row(date.today() - timedelta(days=d), *f) for d, *f in rows
                    )
                ],
            )
            session.commit()
        transport = httpx.ASGITransport(app=live_app)
        auth = AuthState(ApiClient("http://api.test", transport=transport))
        assert asyncio.run(auth.login(username, "pw-123456")), auth.message
        assert auth.status == "logged_in"
        return DashboardStore(auth, filters=Filters(preset="all"))

    return make


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


# The dashboard under test reports the deprecations it triggers (Python hides them
# outside __main__); a warning is attributed to the line that made the call.
SHOW_DEPRECATIONS = {
    "PYTHONWARNINGS": "default::DeprecationWarning,default::PendingDeprecationWarning"
}
OUR_DEPRECATION = re.compile(r"spending_ui[/\\]\S+:\d+: (Pending)?DeprecationWarning")


@pytest.fixture(scope="session")
def stack(postgres_url, chromium_path, tmp_path_factory) -> Iterator[Stack]:
    """The API and the dashboard, on free ports, against the seeded database."""
    today = date.today()
    users = _seed(postgres_url, today)
    logs = tmp_path_factory.mktemp("logs")
    api_port, ui_port = free_port(), free_port()
    api_url, ui_url = url_of(api_port), url_of(ui_port)
    api_env = api_environment(
        {
            "DATABASE_URL": postgres_url,
            "SECRET_KEY": SECRET_KEY,
            "ENVIRONMENT": "test",
            "CORS_ORIGINS": f'["{ui_url}"]',
            "LOG_LEVEL": "WARNING",
        }
    )
    api = Server(
        lambda: launch_api(
            port=api_port,
            options=["--log-level", "warning"],
            log_path=logs / "api.log",
            env=api_env,
            cwd=REPO,
        ),
        "/health",
        api_port,
    )
    ui = Server(
        lambda: launch_dashboard(
            port=ui_port,
            log_path=logs / "ui.log",
            env=dashboard_environment(backend_url=api_url, values=SHOW_DEPRECATIONS),
            cwd=REPO,
        ),
        "/app",
        ui_port,
    )
    try:
        api.launch()
        ui.launch()
        api.wait()
        ui.wait()
        yield Stack(
            api_url=api_url, ui_url=f"{ui_url}/app", users=users, today=today, api_server=api
        )
    finally:
        ui.stop()
        api.stop()
    # pyproject's filterwarnings fails a deprecated call in the tests' process; this one
    # catches what only the dashboard's own process reaches (its callbacks, its pages).
    ours = [
        line for line in (logs / "ui.log").read_text().splitlines() if OUR_DEPRECATION.search(line)
    ]
    assert not ours, "the dashboard used a deprecated API:\n" + "\n".join(ours[:10])


def dashboard_server(
    log_dir: Path, *extra: str, env: dict | None = None, prefix: str = ""
) -> Server:
    """`python -m spending_ui.serve` alone on a free port (its API address leads nowhere),
    its routes under `prefix` (`--prefix`) when one is given."""
    port = free_port()
    options = [*extra, *(["--prefix", prefix] if prefix else [])]
    server = Server(
        lambda: launch_dashboard(
            port=port,
            name="spending_ui.serve",
            options=options,
            log_path=log_dir / f"ui-{port}.log",
            env=dashboard_environment(backend_url=url_of(free_port()), values=env),
            cwd=REPO,
        ),
        f"{prefix}/liveness",
        port,
    )
    server.start()
    return server


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Iterator[Server]:
    """One dashboard server for a test module's HTTP-level checks."""
    server = dashboard_server(tmp_path_factory.mktemp("dashboard"))
    yield server
    server.stop()


@pytest.fixture
def start_dashboard(tmp_path) -> Iterator[Callable[..., Server]]:
    """Starts dashboard servers with extra flags or environment; stops them after the test."""
    servers: list[Server] = []

    def start(*extra: str, env: dict | None = None, prefix: str = "") -> Server:
        servers.append(dashboard_server(tmp_path, *extra, env=env, prefix=prefix))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# One Chromium per test process (a start costs about 2 s on a busy machine). Playwright's
# sync API marks its event loop as running while it is open; the root conftest.py hides
# that mark from the tests that use no browser, so their asyncio.run still works.
@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import expect, sync_playwright

    # Conditions, not sleeps: generous limits so a busy CI machine does not flake.
    expect.set_options(timeout=20_000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def console_problem(message) -> str | None:
    if message.type not in ("error", "warning"):
        return None
    return f"{message.type}: {message.text}"


PAGE_TIMEOUT_MS = 20_000
# Clears the tab's sessionStorage of the page's origin; the origin's localStorage entries.
CLEAR_SESSION_STORAGE = "() => { sessionStorage.clear(); return localStorage.length }"
# What a test can do to a tab that no reset undoes: such a tab is closed, not used again.
STICKY_PAGE_METHODS = (
    "add_init_script",
    "expose_binding",
    "expose_function",
    "route",
    "route_from_har",
    "route_web_socket",
    "set_extra_http_headers",
    "emulate_media",
    "once",
)


class SharedContext:
    """The browser context of a test process for the pages that need no context options: its
    HTTP cache keeps the dashboard's scripts and styles from one test to the next, about a
    third of Chromium's work per page load. Its tabs are used again: a new tab costs about
    one CPU-second more per dashboard load than a tab that loaded it before (measured: 2.9
    vs 1.9 core-s; the tab's renderer has Bokeh compiled already).

    Its pages stay apart: the token is in each tab's own sessionStorage, which `release`
    clears for every origin the tab visited, with the tab's listeners, before the tab goes
    back to the pool on about:blank. A tab a test changed for good (STICKY_PAGE_METHODS), or
    that cannot be reset, is closed; a context left with cookies or local storage (the
    dashboard keeps neither) is replaced before the next test."""

    def __init__(self, browser):
        self.browser, self.context, self.idle = browser, None, []

    def new_page(self):
        if self.context is None:
            self.context = self.browser.new_context(accept_downloads=True)
            self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = self.idle.pop() if self.idle else self.context.new_page()
        _track(page)
        return page

    def release(self, pages) -> None:
        from playwright.sync_api import Error

        if self.context is None:
            return
        kept = bool(self.context.cookies())
        for page in (page for page in pages if not page.is_closed()):
            try:
                reused, stored = _reset(page)
                kept = kept or stored
            except Error:  # a tab that hangs, an origin whose server is gone: unknown
                reused, kept = False, True
            if reused:
                self.idle.append(page)
            else:
                page.close()
        if kept:
            self.context.close()
            self.context, self.idle = None, []


def _track(page) -> None:
    """Records the listeners a test adds to `page`, the origins it visits, and whether it
    called a method whose effect outlives a navigation."""
    page.listeners, page.origins, page.sticky = [], set(), False
    add_listener = type(page).on.__get__(page)

    def on(event, handler):
        page.listeners.append((event, handler))
        add_listener(event, handler)

    def sticky(method):
        def call(*args, **kwargs):
            page.sticky = True
            return method(*args, **kwargs)

        return call

    page.on = on
    for name in STICKY_PAGE_METHODS:
        setattr(page, name, sticky(getattr(type(page), name).__get__(page)))
    on(
        "framenavigated",
        lambda frame: (
            page.origins.add("{0.scheme}://{0.netloc}".format(urlparse(frame.url)))
            if frame == page.main_frame and frame.url.startswith(("http:", "https:"))
            else None
        ),
    )


def _reset(page) -> tuple[bool, bool]:
    """`page` as a new tab would be, on about:blank (False where that cannot be done), and
    whether an origin it visited has (or, not reached, may have) localStorage entries."""
    if page.sticky:
        return False, False
    for event, handler in page.listeners:
        page.remove_listener(event, handler)
    stored = False
    for origin in sorted(page.origins):
        # Any page of the origin will do (a 404 too): sessionStorage is per origin and tab.
        response = page.goto(f"{origin}/liveness", wait_until="commit")
        if response is None or not page.url.startswith(origin):
            return False, True  # the origins not reached may keep local storage
        stored = page.evaluate(CLEAR_SESSION_STORAGE) > 0 or stored
    page.goto("about:blank")
    for name in ("on", *STICKY_PAGE_METHODS):
        delattr(page, name)
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    return True, stored


@pytest.fixture(scope="session")
def shared_context(browser) -> Iterator[SharedContext]:
    shared = SharedContext(browser)
    yield shared
    if shared.context is not None:
        shared.context.close()


@pytest.fixture
def new_page(browser, shared_context) -> Iterator[Callable]:
    """Pages, given back after the test: a page without context options is a tab of the
    shared context (SharedContext, which resets it for the next test), one with options (a
    phone's user agent, touch) gets a fresh context.

    Each page fails its test on any console error or warning, uncaught exception, or request
    to a host other than this machine: the dashboard works offline and logs nothing.
    """
    contexts, pages, shared_pages = [], [], []

    def make(viewport=(1400, 1000), **options):
        size = {"width": viewport[0], "height": viewport[1]}
        if options:
            context = browser.new_context(viewport=size, accept_downloads=True, **options)
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            contexts.append(context)
            page = context.new_page()
        else:
            page = shared_context.new_page()
            page.set_viewport_size(size)
            shared_pages.append(page)
        page.console_errors = []
        page.outside_requests = []
        page.on(
            "console",
            lambda m: (
                page.console_errors.append(console_problem(m)) if console_problem(m) else None
            ),
        )
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.on(
            "request",
            lambda r: (
                page.outside_requests.append(r.url)
                if r.url.startswith(("http:", "https:", "ws:", "wss:"))
                and urlparse(r.url).hostname not in LOCAL_HOSTS
                else None
            ),
        )
        pages.append(page)
        return page

    yield make
    problems = {
        "console": [e for page in pages for e in page.console_errors],
        "outside requests": [u for page in pages for u in page.outside_requests],
    }
    shared_context.release(shared_pages)
    for context in contexts:
        context.close()
    assert problems == {"console": [], "outside requests": []}


@pytest.fixture
def one_refresh() -> list[str]:
    """The reads of one refresh of every view (sorted): categories, the period and the one
    before, the table's page, the review queue, the rules and the offered rules."""
    return sorted(
        [
            "/categories",
            "/metrics",
            "/metrics",
            "/transactions",
            "/transactions",
            "/rules",
            "/rules/proposals",
        ]
    )

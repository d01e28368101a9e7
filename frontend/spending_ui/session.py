"""One browser session of the dashboard: its state objects, views, URL, storage and timers."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from urllib.parse import parse_qs, urlencode

import panel as pn
import param

from spending_ui.api import ApiClient
from spending_ui.browser import PageBridge, TabTokenStore
from spending_ui.security import anonymous_sessions
from spending_ui.state import AuthState, Filters
from spending_ui.store import DEFAULT_SORT, DashboardStore
from spending_ui.text import LABEL_CHARS, html_text
from spending_ui.theme import ACCENT, SYSTEM_FONTS, use_system_fonts
from spending_ui.editing import EditState
from spending_ui.rules import RulesState
from spending_ui.importing import ImportState
from spending_ui.views.accounts import AccountFilter
from spending_ui.views.dashboard import DashboardView
from spending_ui.views.import_dialog import ImportDialog
from spending_ui.views.login import LoginView
from spending_ui.views.password import PasswordView
from spending_ui.views.sidebar import DataPanel, FiltersPanel

logger = logging.getLogger("spending_ui")

EXPIRY_CHECK_MS = 15_000
HEARTBEAT_MS = 20_000
RECOVERY_POLL_MS = 2_000
STORAGE_WAIT_MS = 8_000
FIRST_DATA_WAIT_SECONDS = 2.0  # at login, the views wait this long at most for their data


def initial_query() -> dict[str, list[str]]:
    """The page's query string at session start (the filters of a bookmarked view)."""
    args = pn.state.session_args or {}
    return {
        key: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
        for key, values in args.items()
    }


def client_address() -> str:
    """The browser's address as this server sees it: for the cap on anonymous sessions, and
    forwarded to the API at login (its per-address lock-out)."""
    context = pn.state.curdoc.session_context if pn.state.curdoc else None
    request = getattr(context, "request", None)
    return getattr(request, "remote_ip", None) or ""


def end_session(doc) -> None:
    """Closes the browser connections of `doc`'s session; Bokeh then drops it as unused.
    (Bokeh has no public call for this: it ends sessions only once nobody is connected.)"""
    session = getattr(doc.session_context, "_session", None)
    for connection in list(getattr(session, "_subscribed_connections", ())):
        connection._socket.close()


def is_phone_agent() -> bool:
    """A first guess before the page reports its width: phones start with the menu folded
    away. The layout follows the viewport width (PageBridge.narrow) once it is known."""
    agent = (pn.state.headers or {}).get("User-Agent", "")
    return "Mobi" in agent or "Android" in agent


def view_query(filters: Filters, store: DashboardStore, theme: str) -> list[tuple[str, str]]:
    """The whole view as URL query items: filters, then the table's order and page, the theme."""
    query = filters.to_query()
    if store.sort != DEFAULT_SORT:
        query.append(("sort", store.sort))
    if store.page_index:
        query.append(("page", str(store.page_index + 1)))
    if theme == "dark":
        query.append(("theme", "dark"))
    return query


class DashboardApp:
    """Wires one session's state objects to its views and to the page (URL, storage, timers)."""

    def __init__(self, backend_url: str):
        self.api = ApiClient(backend_url)
        self.auth = AuthState(self.api, client_address=client_address())
        filters = Filters()
        query = initial_query()
        self.store = DashboardStore(self.auth, filters=filters)
        self.store.apply_query(query)
        self.importer = ImportState(store=self.store)
        self.editor = EditState(store=self.store)
        self.rules = RulesState(store=self.store)
        # The template reads ?theme=dark itself; it stays in the URL through every change.
        self.theme = "dark" if (query.get("theme") or [""])[0] == "dark" else "default"
        self.storage = TabTokenStore(height=0, width=0, margin=0)
        self.page = PageBridge(height=0, width=0, margin=0)
        self._restoring_history = False
        self._recovery = None
        self._login_view: LoginView | None = None
        self._dashboard_views: tuple[list, list] | None = None

        self.banner = pn.pane.Alert(
            "<b>Connection lost.</b> The server cannot be reached; retrying… "
            "Your view comes back as soon as it answers.",
            alert_type="danger",
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["backend-banner"],
        )
        self.main = pn.Column(self._starting(), sizing_mode="stretch_width")
        self.sidebar = pn.Column(sizing_mode="stretch_width")
        self.user_label = pn.pane.HTML("", styles={"color": "white"}, margin=(14, 10))
        self.logout_button = pn.widgets.Button(
            label="Log out", color="light", width=100, margin=(10, 10), visible=False
        )
        self.logout_button.on_click(self._logout_clicked)

        self.storage.param.watch(self._storage_loaded, "loaded")
        self.auth.param.watch(self._status_changed, "status")
        self.auth.param.watch(self._token_changed, "token")
        self.auth.param.watch(self._backend_changed, "backend_down")
        filters.param.watch(self._sync_url, list(filters.param))
        filters.param.watch(self._close_menu, list(filters.param))
        self.store.param.watch(self._sync_url, ["sort", "page_index"])
        self.page.param.watch(self._history_moved, "history_search")
        self.page.param.watch(self._header_clicked, "sort_click")
        self.page.param.watch(self._row_clicked, "row_action")
        self.store.watch_filters()
        anonymous_sessions.add(self, client_address())  # counted until logged in
        self._show_logged_out()

    # -- page -----------------------------------------------------------------------------

    def _starting(self):
        return pn.indicators.LoadingSpinner(value=True, size=40, label="Loading…", margin=40)

    def template(self) -> pn.template.FastListTemplate:
        use_system_fonts()
        template = pn.template.FastListTemplate(
            title="Spending",
            sidebar=[self.sidebar],
            main=[self.banner, self.main, self.storage, self.page],
            header=[
                pn.Row(
                    self.user_label,
                    self.logout_button,
                    styles={"margin-left": "auto"},
                    css_classes=["account"],
                )
            ],
            accent=ACCENT,
            theme_toggle=True,
            sidebar_width=320,
            collapsed_sidebar=is_phone_agent(),
            # Phones lay the page out at their own width instead of a zoomed-out 980 px.
            meta_viewport="width=device-width, initial-scale=1",
            main_layout=None,
            font=SYSTEM_FONTS,
            font_url="",
        )
        pn.state.add_periodic_callback(self._storage_fallback, period=STORAGE_WAIT_MS, count=1)
        # At least twice per login wait, so a short one (as in the tests) is kept to as well.
        check_ms = min(EXPIRY_CHECK_MS, int(anonymous_sessions.login_wait * 500))
        pn.state.add_periodic_callback(self._check_expiry, period=max(check_ms, 100))
        pn.state.add_periodic_callback(self._heartbeat, period=HEARTBEAT_MS)
        pn.state.on_session_destroyed(self._destroyed)
        return template

    def _destroyed(self, _context) -> None:
        anonymous_sessions.discard(self)
        try:
            asyncio.get_running_loop().create_task(self.api.aclose())
        except RuntimeError:
            pass

    # -- auth -----------------------------------------------------------------------------

    async def _storage_loaded(self, event) -> None:
        if event.new and self.auth.status == "starting":
            if self.storage.token:
                await self.auth.restore(self.storage.token)
            else:
                self.auth.status = "logged_out"

    def _storage_fallback(self) -> None:
        """If the tab never reports its storage (scripts blocked, storage off), ask to log in."""
        if self.auth.status == "starting":
            logger.warning("tab storage did not report; showing the login form")
            self.auth.status = "logged_out"

    def _token_changed(self, event) -> None:
        self.storage.token = event.new

    def _status_changed(self, event) -> None:
        if event.new == "logged_in":
            anonymous_sessions.discard(self)
            pn.state.execute(self._show_dashboard)
        elif event.new == "logged_out":
            anonymous_sessions.add(self, client_address())
            if event.old == "logged_in":
                # The next person to log in in this tab starts from the default view.
                self.importer.param.update(open=False, account_id=None)
                self.importer.reset()
                self.editor.reset()
                self.rules.reset()
                self.store.clear_view()
            self._show_logged_out()

    async def _logout_clicked(self, _event) -> None:
        await self.auth.sign_out()

    def _show_logged_out(self) -> None:
        self.store.param.update(metrics=None, previous=None, page=None, categories=[], error="")
        self.user_label.object = ""
        self.logout_button.visible = False
        self.sidebar.objects = [
            pn.pane.Markdown(
                "### Understand your spending\n\nSee where your money goes at a glance, then "
                "drill in by period, category, amount or description.\n\nImport your bank's "
                "CSV export once you are in.",
                margin=(0, 10),
            )
        ]
        if self.auth.status == "starting":
            return
        if self._login_view is None:
            self._login_view = LoginView(auth=self.auth)
        self.main.objects = [self._login_view]

    async def _show_dashboard(self) -> None:
        # The first refresh before the views: each view is made with its data and the browser
        # builds it once, from one patch, instead of empty views and then a second round of
        # patches for every one of them. A slow API does not hold the page for long.
        # The page in the URL (a bookmark, a reload) is the page shown.
        first_data = asyncio.gather(
            self.store.refresh(keep_page=True, with_rules=True), self.store.load_accounts()
        )
        await asyncio.wait([first_data], timeout=FIRST_DATA_WAIT_SECONDS)
        if self.auth.status != "logged_in":
            return  # logged out while waiting
        self.user_label.object = f"Signed in as <b>{html_text(self.auth.username, LABEL_CHARS)}</b>"
        narrow = self.page.narrow if self.page.loaded else is_phone_agent()
        self.user_label.visible = not narrow
        self.logout_button.visible = True
        if self._dashboard_views is None:
            # Built once per session and reused after a re-login: views watch the store.
            self._dashboard_views = (
                [
                    FiltersPanel(store=self.store),
                    AccountFilter(store=self.store),
                    DataPanel(store=self.store, importer=self.importer),
                    PasswordView(auth=self.auth),
                ],
                [
                    ImportDialog(state=self.importer),
                    DashboardView(
                        store=self.store, editor=self.editor, rules=self.rules, compact=narrow
                    ),
                ],
            )
        with pn.io.hold():  # the sidebar and the main area in one patch
            self.sidebar.objects, self.main.objects = (list(v) for v in self._dashboard_views)

    # -- timers and the URL ---------------------------------------------------------------

    def _check_expiry(self) -> None:
        self.auth.expire_if_due()
        if anonymous_sessions.waited_too_long(self):
            # A page left at the login form (or a bot's) does not hold a session forever.
            logger.info("no login within %ss; ending the session", anonymous_sessions.login_wait)
            anonymous_sessions.discard(self)
            self.main.objects = [
                pn.pane.HTML(
                    "<div class='muted session-ended'>This page waited too long for a login. "
                    "Reload it to log in.</div>",
                    margin=40,
                )
            ]
            doc = pn.state.curdoc
            doc.add_timeout_callback(lambda: end_session(doc), 500)

    async def _heartbeat(self) -> None:
        if self.auth.status == "logged_in" and not self.auth.backend_down:
            if not await self.api.health():
                self.auth.backend_down = True

    def _backend_changed(self, event) -> None:
        self.banner.visible = event.new
        if event.new and self._recovery is None:
            self._recovery = pn.state.add_periodic_callback(self._try_recover, RECOVERY_POLL_MS)
        elif not event.new and self._recovery is not None:
            self._recovery.stop()
            self._recovery = None

    async def _try_recover(self) -> None:
        if await self.auth.check_backend() and self.auth.status == "logged_in":
            await self.store.refresh()

    def _sync_url(self, *_) -> None:
        location = pn.state.location
        if location is None:
            return
        search = urlencode(view_query(self.store.filters, self.store, self.theme))
        search = f"?{search}" if search else ""
        if self._restoring_history:
            # The browser already shows this URL: record it without a new history entry.
            with param.parameterized.discard_events(location):
                location.search = search
        else:
            location.search = search

    def _close_menu(self, *_) -> None:
        if self.page.narrow:
            self.page.menu_closes += 1

    def _header_clicked(self, event) -> None:
        self.store.sort_by(event.new.partition("#")[0])

    def _row_clicked(self, event) -> None:
        """A row's button or tick box (the table, the review queue, the rules)."""
        action, _, rest = event.new.partition(":")
        target = rest.partition("#")[0]
        if action == "select":
            checked, _, shown = target.partition("|")
            if all(_ids(part) is not None for part in (checked, shown)):
                self.editor.set_page_selection(checked=_ids(checked), shown=_ids(shown))
            return
        if not (target.isascii() and target.isdigit()):
            return
        # The rules list's and the offered rules' buttons; the others are the editor's.
        state = self.rules if action.startswith(("rule-", "proposal")) else self.editor
        pn.state.execute(partial(state.act, action, int(target)))

    def _history_moved(self, event) -> None:
        """Back/Forward: the view of that URL, in one change (one refresh)."""
        query = parse_qs(event.new.lstrip("?"))
        self._restoring_history = True
        try:
            self.store.apply_query(query)
        finally:
            self._restoring_history = False


def _ids(text: str) -> list[int] | None:
    """'12,15' from the page: transaction ids, or None when it is anything else."""
    parts = [part for part in text.split(",") if part]
    if len(parts) > 1000 or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    return [int(part) for part in parts]


def create_template(backend_url: str) -> pn.template.FastListTemplate:
    return DashboardApp(backend_url).template()

"""The login form: username, password, and a clear message when it does not work."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.state import AuthState


class _PasswordInput(pn.widgets.PasswordInput):
    """A password box that reports the Enter key (Bokeh's `value_submit`), to submit the form."""

    enter_pressed = param.Event()
    _rename = {**pn.widgets.PasswordInput._rename, "enter_pressed": None}

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = super()._get_model(doc, root, parent, comm)
        self._register_events("value_submit", model=model, doc=doc, comm=comm)
        return model

    def _process_event(self, event) -> None:
        if event.event_name == "value_submit":
            self.param.update(value=event.value, value_input=event.value)
            self.enter_pressed = True


class LoginView(Viewer):
    auth = param.ClassSelector(class_=AuthState)

    def __init__(self, **params):
        super().__init__(**params)
        self._username = pn.widgets.TextInput(
            label="Username", placeholder="Your username", sizing_mode="stretch_width"
        )
        self._password = _PasswordInput(
            label="Password", placeholder="Your password", sizing_mode="stretch_width"
        )
        self._submit = pn.widgets.Button(
            label="Log in", color="primary", sizing_mode="stretch_width", height=40
        )
        self._message = pn.pane.Alert(
            "",
            alert_type="danger",
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["login-message"],
        )
        self._submit.on_click(self._on_submit)
        self._password.param.watch(self._on_enter, "enter_pressed")
        self._username.param.watch(self._on_enter, "enter_pressed")
        self._sync_message()
        self.auth.param.watch(self._sync_message, "message")
        self.auth.param.watch(self._sync_busy, "busy")
        self.auth.param.watch(self._clear_on_logout, "status")
        self._layout = pn.Column(
            pn.pane.HTML("<h2 class='login-title'>Welcome back</h2>", sizing_mode="stretch_width"),
            pn.pane.HTML(
                "<p class='muted' style='text-align:center;margin:0'>"
                "Log in to see where your money goes.</p>",
                sizing_mode="stretch_width",
            ),
            self._message,
            self._username,
            self._password,
            self._submit,
            styles={
                "border": "1px solid rgba(128,128,128,.25)",
                "border-radius": "12px",
                "padding": "24px 28px",
                "margin": "8vh auto 0 auto",
            },
            # At most 400 px, narrower on a phone.
            max_width=400,
            sizing_mode="stretch_width",
            css_classes=["login-card"],
        )

    def _sync_message(self, *_):
        self._message.object = self.auth.message
        self._message.visible = bool(self.auth.message)

    def _sync_busy(self, *_):
        self._submit.disabled = self.auth.busy
        self._submit.label = "Logging in…" if self.auth.busy else "Log in"

    def _clear_on_logout(self, event):
        if event.new == "logged_out":
            self._password.value = ""
            self._password.value_input = ""

    async def _on_enter(self, *_):
        await self._on_submit()

    async def _on_submit(self, *_):
        if self.auth.busy:
            return
        username = self._username.value_input or self._username.value
        password = self._password.value_input or self._password.value
        if await self.auth.login(username, password):
            self._password.param.update(value="", value_input="")

    def __panel__(self):
        return pn.Row(pn.Spacer(), self._layout, pn.Spacer(), sizing_mode="stretch_width")

"""Change password: the current one, the new one twice; every other session then ends."""

from __future__ import annotations

from html import escape

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.state import AuthState
from spending_ui.views.on_demand import card_built_on_expand

MIN_PASSWORD_LENGTH = 8  # the API's rule (422 below it), checked here first


class PasswordView(Viewer):
    """A folded card in the sidebar; the API checks the current password (brute-force
    limits included) and answers with a new token for this tab."""

    auth = param.ClassSelector(class_=AuthState)

    def __init__(self, **params):
        super().__init__(**params)

        def box(label: str) -> pn.widgets.PasswordInput:
            return pn.widgets.PasswordInput(label=label, sizing_mode="stretch_width")

        self._current = box("Current password")
        self._new = box("New password")
        self._repeat = box("Repeat the new password")
        self._submit = pn.widgets.Button(
            label="Change password", color="default", sizing_mode="stretch_width"
        )
        self._submit.on_click(self._change)
        # Plain text, escaped: a message may quote what the server said.
        self._message = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["password-message"]
        )
        self.auth.param.watch(self._forget, "status")

    def _show(self, text: str, ok: bool = False) -> None:
        color = "var(--success-bg-color, #2e7d32)" if ok else "var(--danger-bg-color, #c62828)"
        self._message.object = f"<p style='color:{color};margin:0'>{escape(text)}</p>"

    def _forget(self, *_) -> None:
        for widget in (self._current, self._new, self._repeat):
            widget.param.update(value="", value_input="")
        self._message.object = ""

    def _typed(self, widget: pn.widgets.PasswordInput) -> str:
        return widget.value_input or widget.value or ""

    async def _change(self, *_) -> None:
        current, new, repeat = (self._typed(w) for w in (self._current, self._new, self._repeat))
        if not current:
            return self._show("Enter your current password.")
        if len(new) < MIN_PASSWORD_LENGTH:
            return self._show(f"The new password needs at least {MIN_PASSWORD_LENGTH} characters.")
        if new != repeat:
            return self._show("The new passwords do not match.")
        self._submit.disabled = True
        try:
            message = await self.auth.change_password(current, new)
        finally:
            self._submit.disabled = False
        if self.auth.status != "logged_in":
            return
        changed = message.startswith("Password changed")
        if changed:
            self._forget()
        self._show(message, ok=changed)

    def __panel__(self):
        # Folded at every login; the browser gets the form when it is first unfolded.
        return card_built_on_expand(
            "Change password",
            lambda: pn.Column(
                self._current,
                self._new,
                self._repeat,
                self._submit,
                self._message,
                sizing_mode="stretch_width",
            ),
            css_classes=["password-card"],
        )

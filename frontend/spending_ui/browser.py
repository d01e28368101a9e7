"""Keeps this tab's login token in the tab's sessionStorage, so a page reload stays logged in.

sessionStorage belongs to one browser tab: another tab, browser or user never sees it, and
the Panel server keeps the token only on the session's own `AuthState`.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent


class TabTokenStore(JSComponent):
    """Reads the stored token once when rendered (`loaded`), then mirrors `token` back."""

    token = param.String(default="")
    loaded = param.Boolean(default=False)

    _esm = """
    const KEY = "spending-dashboard.token"

    export function render({ model }) {
      let stored = ""
      try { stored = window.sessionStorage.getItem(KEY) || "" } catch (e) { stored = "" }
      model.token = stored
      model.loaded = true
      model.on("token", () => {
        try {
          if (model.token) { window.sessionStorage.setItem(KEY, model.token) }
          else { window.sessionStorage.removeItem(KEY) }
        } catch (e) { /* storage disabled: a reload then asks to log in again */ }
      })
      return document.createElement("span")
    }
    """

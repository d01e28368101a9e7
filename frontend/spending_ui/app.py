"""The dashboard app, built once per browser session: `panel serve frontend/spending_ui/app.py`."""

import logging
import os

import panel as pn

from spending_ui.session import create_template
from spending_ui.theme import STYLESHEET

DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"

logging.getLogger("spending_ui").setLevel(logging.INFO)
pn.extension(notifications=False, css_files=[STYLESHEET])

if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
    create_template(os.environ.get("BACKEND_URL", DEFAULT_BACKEND_URL)).servable(title="Spending")

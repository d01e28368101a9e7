"""How the project launches headless Chromium (browser tests, screenshots, the benchmark).

Debian's chromium, not a browser downloaded by Playwright; the flags keep it from reaching
for the network at start-up, which a machine without internet refuses.
"""

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

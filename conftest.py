"""pytest-xdist's `xdist_group` marker, honoured on pytest 9.2; one worker for a module whose
tests share a server process; the slow tests handed out first; Playwright's event loop hidden
from tests without a browser.

xdist 3.8 (the newest) groups tests by appending "@group" to `item._nodeid`, an attribute
pytest 9.2 no longer reads (node ids live in `item._id`), so `--dist loadgroup` silently
spread a group over all workers. This hook gives the group's tests the suffixed id that
xdist's scheduler looks for; it does nothing once xdist sets the id itself.
"""

import asyncio
import re

import pytest

try:
    from _pytest.nodeid import NodeId
except ImportError:  # an older pytest, where xdist's own suffix works
    NodeId = None


# Module-scoped fixtures that start a server process (seconds each): a module that uses one
# runs on one worker, so the process starts once, not once per worker.
MODULE_PROCESS_FIXTURES = {"module_api_server", "dashboard"}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if not config.getoption("loadgroup", default=False):
        return
    # xdist hands out the groups (largest first), then single tests in this order: the slow
    # ones (browser tests, 10-30 s each) go first, so the quick ones even out the workers'
    # finish instead of one worker running a browser test alone at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        if MODULE_PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) and not any(
            item.iter_markers("xdist_group")
        ):
            module = re.sub(r"\W", "_", item.nodeid.split("::")[0])
            item.add_marker(pytest.mark.xdist_group(f"module_{module}"))
    if NodeId is None:
        return
    for item in items:
        groups = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if groups and "@" not in item.nodeid.rpartition("]")[2] and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture(autouse=True)
def _no_playwright_loop_mark(request):
    """Playwright's sync API (frontend/tests, one browser per test process) marks its event
    loop as running in this thread while the browser is open, though the loop only runs
    inside Playwright's calls. A test that uses no browser gets the thread without that mark,
    so its asyncio.run works; the mark is back before the next browser test or teardown."""
    loop = asyncio._get_running_loop()
    if loop is None or "browser" in request.fixturenames:
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)

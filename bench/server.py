"""The API as the benchmark serves it, plus the framework's floor endpoints.

uvicorn bench.server:app --workers 2 ...  (settings from the environment, as in production)
"""

from spending_api.main import create_app

app = create_app()


@app.get("/bench/floor", include_in_schema=False)
async def floor() -> dict[str, bool]:
    """No database, no auth, no thread hop: what the framework itself costs per request."""
    return {"pong": True}


@app.get("/bench/floor-sync", include_in_schema=False)
def floor_sync() -> dict[str, bool]:
    """The same through the thread pool, as every sync route and dependency goes."""
    return {"pong": True}

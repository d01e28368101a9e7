"""Step 3: /metrics and /transactions for random typical users against the floor endpoint."""

import httpx

from bench.load import GENERATOR, Server, closed_loop, rss_sampler

ENDPOINTS = {
    "floor": "/bench/floor",
    "floor_sync": "/bench/floor-sync",
    "metrics": "/metrics?granularity=month",
    "transactions": "/transactions?limit=100",
}


def requests_for(server: Server, name: str, user_ids: list[int]) -> list[tuple[str, str | None]]:
    path = ENDPOINTS[name]
    if name.startswith("floor"):
        return [(path, None)]
    return [(path, server.token(user_id)) for user_id in user_ids]


def check(server: Server, requests: list[tuple[str, str | None]]) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for path, token in requests[:3]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            client.get(path, headers=headers).raise_for_status()


def run(
    server: Server,
    user_ids: list[int],
    *,
    seconds: float,
    warmup: float,
    connections: int,
    rounds: int = 1,
    endpoints: tuple[str, ...] = tuple(ENDPOINTS),
) -> dict:
    """Each endpoint for `seconds` per round, the endpoints interleaved over `rounds`
    rounds; each endpoint's best round (highest throughput) is kept, so another process
    busy on the machine for a while skews the ratios less."""
    requests = {name: requests_for(server, name, user_ids) for name in endpoints}
    for name in endpoints:
        check(server, requests[name])
        closed_loop(server.base_url, requests[name], seconds=warmup, connections=connections)
    runs: dict[str, list[dict]] = {name: [] for name in endpoints}
    rss_series = []
    for _ in range(rounds):
        for name in endpoints:
            with rss_sampler(server) as samples:
                result = closed_loop(
                    server.base_url, requests[name], seconds=seconds, connections=connections
                )
            result["worker_rss_mb"] = samples[-1] if samples else None
            # Growth while this endpoint ran steadily (after the warm-ups).
            result["rss_growth_mb"] = round(samples[-1] - samples[0], 1) if samples else None
            rss_series.extend(samples)
            runs[name].append(result)
    results = {}
    for name, attempts in runs.items():
        best = dict(max(attempts, key=lambda r: r["rps"]))
        best["path"] = ENDPOINTS[name]
        best["rounds_rps"] = [r["rps"] for r in attempts]
        results[name] = best
    floor = results["floor"]["rps"]
    for name, result in results.items():
        result["share_of_floor"] = round(result["rps"] / floor, 3) if floor else None
    growths = [
        r["rss_growth_mb"] for a in runs.values() for r in a if r["rss_growth_mb"] is not None
    ]
    return {
        "connections": connections,
        "seconds_per_run": seconds,
        "rounds": rounds,
        "load_generator": GENERATOR,
        "workers": server.workers,
        "endpoints": results,
        "worker_rss_mb": {
            "first": rss_series[0] if rss_series else None,
            "last": rss_series[-1] if rss_series else None,
            "max": max(rss_series, default=None),
            "samples": len(rss_series),
            "max_growth_during_a_run": max(growths, default=None),
        },
    }

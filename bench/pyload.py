"""A small keep-alive HTTP/1.1 load generator, used when wrk is not available.

python -m bench.pyload BASE_URL SPEC_JSON SECONDS CONNECTIONS  ->  one JSON line
"""

import asyncio
import json
import random
import sys
import time
from urllib.parse import urlsplit


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def _connection(host, port, requests, deadline, latencies, errors) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    rng = random.Random()
    encoded = [
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            + (f"Authorization: Bearer {token}\r\n" if token else "")
            + "\r\n"
        ).encode()
        for path, token in requests
    ]
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(rng.choice(encoded))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors[0] += 1
    finally:
        writer.close()


async def _run(base_url, requests, seconds, connections) -> dict:
    parts = urlsplit(base_url)
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(parts.hostname, parts.port, requests, deadline, latencies, errors)
            for _ in range(connections)
        )
    )
    duration = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": round(duration, 2),
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=0) * 1000, 2),
        "errors": errors[0],
    }


def main() -> None:
    base_url, spec, seconds, connections = sys.argv[1:5]
    with open(spec) as stream:
        requests = [tuple(item) for item in json.load(stream)["requests"]]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_run(base_url, requests, float(seconds), int(connections)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

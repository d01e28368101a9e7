"""The machine the numbers were measured on."""

import os
import platform

import psutil

from bench import pg
from spending_api import demo
from spending_api.transactions import importer


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe(url: str, workers: int) -> dict:
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_start": round(os.getloadavg()[0], 2),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg.server_version(url).split(" on ")[0],
        "postgresql_settings": ", ".join(
            f"{key}={value}" for key, value in sorted(pg.server_settings(url).items())
        ),
        "api_server": f"uvicorn, {workers} workers, uvloop + httptools, --no-access-log",
        "importer": importer.__name__,
        "demo": demo.__name__,
    }

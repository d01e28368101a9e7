"""Fixtures for the attack tests: a second user with data, and the API as real processes."""

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "spending_test_processes", Path(__file__).parents[1] / "reliability" / "processes.py"
)
processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(processes)


@pytest.fixture
def alice_and_bob(make_user, add_transactions):
    """Two users with data; Alice's is larger, so any leak shows in Bob's numbers."""
    alice = make_user("alice")
    bob = make_user("bob")
    add_transactions(
        alice,
        [
            ("2024-01-05T09:00", "1000.00", "Rent", "Alice flat"),
            ("2024-01-06T10:00", "55.10", "Food", "Alice market"),
            ("2024-02-07T11:00", "9.99", "Secret", "Alice only category"),
            ("2024-03-08T12:00", "-20.00", "Refund", "Alice refund"),
        ],
    )
    add_transactions(
        bob,
        [
            ("2024-01-10T08:30", "12.50", "Food", "Bob bakery"),
            ("2024-02-11T19:45", "30.00", "Fun", "Bob cinema"),
        ],
    )
    return alice, bob


@pytest.fixture
def api_server(tmp_path) -> Iterator[Callable[..., object]]:
    """Start the API under uvicorn: api_server(database_url=..., workers=2, extra_env={...})."""
    started = []

    def start(**kwargs):
        server = processes.start_api(log_dir=tmp_path, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()

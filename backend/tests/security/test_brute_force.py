"""The login lock is shared by every API process through the database (that it lifts after
the window is tested without waiting, on an injected clock, in test_lockout.py)."""

import time

import httpx
import pytest

from spending_api import errors

# Fault and load suite: `make test-slow` (it stops servers and waits on real processes).
pytestmark = pytest.mark.fault

# Far longer than five Argon2 checks and the 429 checks take on a slow CI machine.
WINDOW_SECONDS = 60
MAX_FAILURES = 5
PASSWORD = "correct horse"


@pytest.mark.slow
def test_lock_holds_across_processes(api_server, database_url, make_user):
    """Two servers on one database: one with two uvicorn workers, one more process beside it.
    Failures spread over both count together; once locked, every process refuses even the
    right password."""
    make_user("mallory-target", password=PASSWORD)
    env = {
        "LOGIN_WINDOW_SECONDS": str(WINDOW_SECONDS),
        "LOGIN_MAX_FAILURES": str(MAX_FAILURES),
    }
    two_workers = api_server(database_url=database_url, workers=2, extra_env=env)
    other = api_server(database_url=database_url, workers=1, extra_env=env)
    servers = [two_workers, other]

    def login(server, password: str, username: str = "mallory-target") -> httpx.Response:
        # A new connection each time, so the kernel spreads them over both workers.
        with httpx.Client(base_url=server.url, timeout=10) as http:
            return http.post("/login", json={"username": username, "password": password})

    first_failure = time.monotonic()
    for attempt in range(MAX_FAILURES):
        response = login(servers[attempt % 2], f"wrong-{attempt}")
        assert response.status_code == 401, (attempt, response.text)
    assert time.monotonic() - first_failure < WINDOW_SECONDS - 2, "too slow to test the lock"

    for server in servers * 2:
        for password in ("wrong-again", PASSWORD):
            response = login(server, password)
            assert response.status_code == 429, (server.url, response.text)
            assert response.json() == {"detail": errors.TOO_MANY_ATTEMPTS}
            assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS
    # The name is matched case-insensitively, so a capital letter is no way around it.
    assert login(other, PASSWORD, username="Mallory-Target").status_code == 429
    # Other users are not locked out.
    make_user("innocent", password=PASSWORD)
    assert login(two_workers, PASSWORD, username="innocent").status_code == 200


@pytest.mark.slow
def test_parallel_guesses_get_no_more_tries_than_the_limit(api_server, database_url, make_user):
    """Twenty wrong passwords fired at once at two workers: at most MAX_FAILURES of them are
    checked (401); the rest are refused (429) without a password check."""
    from concurrent.futures import ThreadPoolExecutor

    make_user("parallel-target", password=PASSWORD)
    server = api_server(
        database_url=database_url,
        workers=2,
        extra_env={"LOGIN_WINDOW_SECONDS": "60", "LOGIN_MAX_FAILURES": str(MAX_FAILURES)},
    )

    def guess(n: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            body = {"username": "parallel-target", "password": f"guess-{n}"}
            return http.post("/login", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(20)))
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= MAX_FAILURES, statuses
    assert statuses.count(429) >= 20 - MAX_FAILURES


@pytest.mark.slow
def test_parallel_logins_with_the_right_password_all_succeed(api_server, database_url, make_user):
    """The flip side: twenty simultaneous correct logins of one account (tabs, a shared demo
    account) queue for the check instead of locking each other out."""
    from concurrent.futures import ThreadPoolExecutor

    make_user("popular", password=PASSWORD)
    server = api_server(database_url=database_url, workers=2)

    def login(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            body = {"username": "popular", "password": PASSWORD}
            return http.post("/login", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(login, range(20)))
    assert statuses == [200] * 20, statuses

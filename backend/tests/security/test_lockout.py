"""Lock-out is not a weapon: limits per (name, client address), growing delays, a ceiling
per name, password spraying, and whose X-Forwarded-For counts. The clock is injected:
nothing here sleeps through a lock window."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from spending_api import errors
from spending_api.auth.service import LoginLocked, authenticate, utcnow
from spending_api.main import create_app

PASSWORD = "correct horse"
OWNER_ADDRESS = "198.51.100.7"
ATTACKER = "203.0.113.66"


@pytest.fixture
def attempt(database, settings):
    """attempt(address, password, at=datetime, username="owner", **setting overrides)."""

    def attempt(address, password, *, at, username="owner", **overrides):
        limits = settings.model_copy(update=overrides)
        with database.session() as session:
            try:
                user = authenticate(
                    session,
                    username=username,
                    password=password,
                    client_address=address,
                    settings=limits,
                    clock=lambda: at,
                )
            except LoginLocked as locked:
                return ("locked", locked.retry_after_seconds)
        return "ok" if user else "wrong"

    return attempt


def test_a_stranger_cannot_lock_the_owner_out(make_user, attempt, settings):
    make_user("owner", password=PASSWORD)
    t0 = utcnow()
    for n in range(settings.login_max_failures):
        assert attempt(ATTACKER, f"guess-{n}", at=t0) == "wrong"
    # The attacker's address is locked for the window, even with the right password...
    status, retry_after = attempt(ATTACKER, PASSWORD, at=t0)
    assert status == "locked" and retry_after == settings.login_window_seconds
    # ...while the owner, from home, logs in after the one-second delay the guesses caused.
    assert attempt(OWNER_ADDRESS, PASSWORD, at=t0) == ("locked", 1)
    assert attempt(OWNER_ADDRESS, PASSWORD, at=t0 + timedelta(seconds=1)) == "ok"
    # The owner's success does not forgive the attacker.
    assert attempt(ATTACKER, PASSWORD, at=t0 + timedelta(seconds=2))[0] == "locked"
    later = t0 + timedelta(seconds=settings.login_window_seconds + 1)
    assert attempt(ATTACKER, PASSWORD, at=later) == "ok"


def test_guesses_from_many_addresses_meet_growing_delays_then_a_ceiling(make_user, attempt):
    make_user("owner", password=PASSWORD)
    limits = {"login_max_failures_per_username": 12, "login_delay_max_seconds": 16}
    at = utcnow()
    waits = []
    for n in range(12):
        result = attempt(f"192.0.2.{n}", "wrong", at=at, **limits)
        if result != "wrong":  # refused: wait exactly as long as told, then guess again
            assert result[0] == "locked"
            waits.append(result[1])
            at += timedelta(seconds=result[1])
            assert attempt(f"192.0.2.{n}", "wrong", at=at, **limits) == "wrong"
    # No wait for the first five; then each failure doubles it, up to the maximum.
    assert waits == [1, 2, 4, 8, 16, 16, 16]
    # At the ceiling the name is locked for everyone until the first failure leaves the window.
    status, retry_after = attempt(OWNER_ADDRESS, PASSWORD, at=at + timedelta(seconds=30), **limits)
    assert status == "locked" and retry_after > 0
    free = at + timedelta(seconds=retry_after + 31)
    assert attempt(OWNER_ADDRESS, PASSWORD, at=free, **limits) == "ok"


def test_password_spraying_from_one_address_is_limited(make_user, attempt, settings):
    make_user("owner", password=PASSWORD)
    t0 = utcnow()
    sprayed = settings.login_max_failures_per_address
    for n in range(sprayed):
        assert attempt(ATTACKER, "Winter2026!", at=t0, username=f"user{n}") == "wrong"
    # Every further name from that address is refused, without a password check...
    status, retry_after = attempt(ATTACKER, PASSWORD, at=t0, username="owner")
    assert status == "locked" and retry_after == settings.login_window_seconds
    # ...and no one else is affected.
    assert attempt(OWNER_ADDRESS, PASSWORD, at=t0) == "ok"
    later = t0 + timedelta(seconds=settings.login_window_seconds + 1)
    assert attempt(ATTACKER, PASSWORD, at=later) == "ok"


def _login(client, password, forwarded_for):
    return client.post(
        "/login",
        json={"username": "owner", "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(make_user, settings, database):
    """Through the API. From a peer that is no trusted proxy, a forged X-Forwarded-For does
    not make each guess a new address; behind a trusted proxy, the owner still gets in."""
    make_user("owner", password=PASSWORD)
    untrusted = create_app(settings=settings, database=database)  # trusts loopback only
    with TestClient(untrusted) as client:
        for n in range(settings.login_max_failures):
            assert _login(client, "wrong", f"10.0.0.{n}").status_code == 401
        refused = _login(client, PASSWORD, "10.0.0.99")
        assert refused.status_code == 429
        assert refused.json() == {"detail": errors.TOO_MANY_ATTEMPTS}


def test_behind_a_trusted_proxy_the_owner_is_not_locked_out(make_user, settings, database, clock):
    make_user("owner", password=PASSWORD)
    # TestClient's peer is the host "testclient": here it plays the reverse proxy.
    behind_proxy = settings.model_copy(update={"trusted_proxies": ["testclient"]})
    with TestClient(create_app(settings=behind_proxy, database=database)) as client:
        clock.install(client.app)
        for _ in range(settings.login_max_failures):
            assert _login(client, "wrong", ATTACKER).status_code == 401
        assert _login(client, PASSWORD, ATTACKER).status_code == 429
        # The guesses cost the owner a delay of one second, not the window.
        owner = _login(client, PASSWORD, OWNER_ADDRESS)
        assert owner.status_code == 429 and owner.headers["Retry-After"] == "1"
        clock.advance(seconds=1)
        owner = _login(client, PASSWORD, OWNER_ADDRESS)
        assert owner.status_code == 200 and owner.json()["access_token"]


def test_through_the_api_the_lock_lifts_after_the_window(make_user, settings, database, clock):
    """The routes read the clock dependency: moved past the window, the right password
    works again (the fault suite checks the lock across real processes)."""
    make_user("owner", password=PASSWORD)
    with TestClient(create_app(settings=settings, database=database)) as client:
        clock.install(client.app)
        for _ in range(settings.login_max_failures):
            assert _login(client, "wrong", ATTACKER).status_code == 401
        clock.advance(seconds=settings.login_window_seconds - 1)
        locked = _login(client, PASSWORD, ATTACKER)
        assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
        assert locked.json() == {"detail": errors.TOO_MANY_ATTEMPTS}
        clock.advance(seconds=1.5)
        opened = _login(client, PASSWORD, ATTACKER)
        assert opened.status_code == 200 and opened.json()["access_token"]

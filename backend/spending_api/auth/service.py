"""Login: the brute-force lock, then a constant-time password check."""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from spending_api.auth import repository
from spending_api.auth.security import verify_password
from spending_api.models import User
from spending_api.settings import Settings

# Attempts being checked right now are stored under a key of their own, in the same table.
PENDING_PREFIX = "pending:"
# How long an attempt waits for a free slot before it is refused, and how often it looks.
QUEUE_SECONDS = 30.0
POLL_SECONDS = 0.05


@dataclass
class LoginLocked(Exception):
    retry_after_seconds: int


def utcnow() -> datetime:
    """Naive UTC, the form in which the database stores times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def pending_key(username_key: str, client_key: str) -> str:
    digest = hashlib.sha256(f"{username_key}\0{client_key}".encode()).hexdigest()[:40]
    return f"{PENDING_PREFIX}{digest}"


def _until(moment: datetime, now: datetime) -> LoginLocked:
    return LoginLocked(retry_after_seconds=max(1, math.ceil((moment - now).total_seconds())))


def check_not_locked(counts: repository.FailureCounts, *, settings: Settings, now: datetime):
    """Raise LoginLocked when this (name, address) may not try now.

    - 5 failures of one name from one address lock that pair for the window: a guesser
      is stopped, while the owner, from another address, is not locked out;
    - once a name has that many failures from anywhere, each further failure doubles the
      wait before the next attempt on it (up to `login_delay_max_seconds`), which slows
      guessing from many addresses; at `login_max_failures_per_username` the name is locked;
    - `login_max_failures_per_address` failures from one address, whatever the names, lock
      the address (password spraying).
    """
    window = timedelta(seconds=settings.login_window_seconds)
    limit = settings.login_max_failures
    if counts.pair >= limit and counts.pair_oldest is not None:
        raise _until(counts.pair_oldest + window, now)
    if counts.address >= settings.login_max_failures_per_address and counts.address_oldest:
        raise _until(counts.address_oldest + window, now)
    if counts.name >= settings.login_max_failures_per_username and counts.name_oldest:
        raise _until(counts.name_oldest + window, now)
    if counts.name >= limit and counts.name_newest is not None:
        delay = min(2 ** (counts.name - limit), settings.login_delay_max_seconds)
        if now < counts.name_newest + timedelta(seconds=delay):
            raise _until(counts.name_newest + timedelta(seconds=delay), now)


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    client_address: str,
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> User | None:
    """The user whose password this is, or None; raises LoginLocked when locked.

    At most `login_max_failures` passwords of one name from one address are ever checked
    per window, however many workers and parallel requests there are. Each attempt first
    takes a numbered slot (a row under `pending_key(name, address)`, committed, so every
    worker sees it) and is checked only while its slot is among the first
    `max_failures - failures`; later ones wait their turn (a few parallel logins of one
    account just queue) and are refused once locked (`check_not_locked`). A checked
    attempt turns its slot into a failure, or on success clears the failures of its own
    address. A locked attempt costs no password hashing and the right password does not
    open it early. `clock` gives naive UTC (tests move it instead of sleeping).
    """
    window = timedelta(seconds=settings.login_window_seconds)
    username_key = username.casefold()
    client_key = client_address[:64]
    slot_key = pending_key(username_key, client_key)
    at = clock()
    slot = repository.take_slot(session, username_key=slot_key, at=at, window=window)
    session.commit()
    deadline = time.monotonic() + QUEUE_SECONDS
    try:
        while True:
            current = clock()
            # Slots ahead first, failures second: an attempt finishing in between turns its
            # slot into a failure, which this order can only over-count (each statement
            # sees what was committed when it started).
            ahead = repository.slots_ahead(
                session, username_key=slot_key, slot_id=slot, since=current - window
            )
            counts = repository.recent_failures(
                session, username_key=username_key, client_key=client_key, since=current - window
            )
            session.commit()  # hand the connection back while waiting
            check_not_locked(counts, settings=settings, now=current)
            if ahead < settings.login_max_failures - counts.pair:
                break
            if time.monotonic() > deadline:
                raise LoginLocked(retry_after_seconds=1)
            # Further back in the queue, look less often.
            waiting = ahead - (settings.login_max_failures - counts.pair) + 1
            time.sleep(min(POLL_SECONDS * waiting, 0.5))
    except LoginLocked:
        repository.delete_failure(session, failure_id=slot)
        session.commit()
        raise

    user = repository.get_user_by_username(session, username=username)
    session.commit()  # no connection is held during the (slow, on purpose) hash check
    verified = verify_password(password, user.password_hash if user else None)
    repository.delete_failure(session, failure_id=slot)
    if verified:
        repository.clear_failures(session, username_key=username_key, client_key=client_key)
    else:
        repository.record_failure(
            session, username_key=username_key, at=at, window=window, client_key=client_key
        )
    session.commit()
    return user if verified else None

"""Login: the brute-force lock, then a constant-time password check."""

import hashlib
import math
import time
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


def pending_key(username_key: str) -> str:
    digest = hashlib.sha256(username_key.encode()).hexdigest()[:40]
    return f"{PENDING_PREFIX}{digest}"


def _locked(oldest: datetime, window: timedelta, now: datetime) -> LoginLocked:
    wait = (oldest + window - now).total_seconds()
    return LoginLocked(retry_after_seconds=max(1, math.ceil(wait)))


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    settings: Settings,
    now: datetime | None = None,
) -> User | None:
    """The user whose password this is, or None; raises LoginLocked when locked.

    At most `login_max_failures` passwords of one name are ever checked per window, however
    many workers and parallel requests there are. Each attempt first takes a numbered slot
    (a row under `pending_key(name)`, committed, so every worker sees it) and is checked only
    while its slot is among the first `max_failures - failures`; later ones wait their turn
    (a few parallel logins of one account just queue) and are refused once the name is
    locked. A checked attempt turns its slot into a failure, or on success clears the name.
    A locked name costs no password hashing and the right password does not open it early.
    """
    window = timedelta(seconds=settings.login_window_seconds)
    username_key = username.casefold()
    slot_key = pending_key(username_key)
    at = now or utcnow()
    slot = repository.take_slot(session, username_key=slot_key, at=at, window=window)
    session.commit()
    deadline = time.monotonic() + QUEUE_SECONDS
    try:
        while True:
            current = now or utcnow()
            # Slots ahead first, failures second: an attempt finishing in between turns its
            # slot into a failure, which this order can only over-count (each statement
            # sees what was committed when it started).
            ahead = repository.slots_ahead(
                session, username_key=slot_key, slot_id=slot, since=current - window
            )
            failures, oldest = repository.recent_failures(
                session, username_key=username_key, since=current - window
            )
            session.commit()  # hand the connection back while waiting
            if failures >= settings.login_max_failures and oldest is not None:
                raise _locked(oldest, window, current)
            if ahead < settings.login_max_failures - failures:
                break
            if time.monotonic() > deadline:
                raise LoginLocked(retry_after_seconds=1)
            # Further back in the queue, look less often.
            waiting = ahead - (settings.login_max_failures - failures) + 1
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
        repository.clear_failures(session, username_key=username_key)
    else:
        repository.record_failure(session, username_key=username_key, at=at, window=window)
    session.commit()
    return user if verified else None

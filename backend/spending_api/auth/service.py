"""Login: the brute-force lock, then a constant-time password check."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from spending_api.auth import repository
from spending_api.auth.security import verify_password
from spending_api.models import User
from spending_api.settings import Settings


@dataclass
class LoginLocked(Exception):
    retry_after_seconds: int


def utcnow() -> datetime:
    """Naive UTC, the form in which the database stores times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    settings: Settings,
    now: datetime | None = None,
) -> User | None:
    """The user whose password this is, or None; raises LoginLocked when locked.

    The lock is checked first, so a locked name costs no password hashing and
    the right password does not open it early.
    """
    now = now or utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    username_key = username.casefold()
    failures, oldest = repository.recent_failures(
        session, username_key=username_key, since=now - window
    )
    if failures >= settings.login_max_failures and oldest is not None:
        wait = (oldest + window - now).total_seconds()
        raise LoginLocked(retry_after_seconds=max(1, math.ceil(wait)))

    user = repository.get_user_by_username(session, username=username)
    if not verify_password(password, user.password_hash if user else None):
        repository.record_failure(session, username_key=username_key, at=now, window=window)
        session.commit()
        return None
    if failures:
        repository.clear_failures(session, username_key=username_key)
        session.commit()
    return user

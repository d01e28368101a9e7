"""SQL for users and the login-failure log that the brute-force lock reads."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import AsyncConnection
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from spending_api.models import LoginFailure, User


@dataclass(frozen=True)
class UserIdentity:
    """Who is asking: all a request needs of its user (no password hash in memory)."""

    id: int
    username: str
    # Changes with every change to the user's transactions (see spending_api.cache).
    data_version: int


async def get_identity_async(connection: AsyncConnection, *, user_id: int) -> UserIdentity | None:
    """The token's user and their data version: the per-request hot path."""
    cursor = await connection.execute(
        "SELECT id, username, data_version FROM users WHERE id = %s", (user_id,)
    )
    row = await cursor.fetchone()
    return UserIdentity(*row) if row else None


def get_user_by_username(session: Session, *, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def any_user_exists(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def create_user(session: Session, *, username: str, password_hash: str) -> User:
    user = User(username=username, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def recent_failures(
    session: Session, *, username_key: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many failures since `since`, and the oldest of them."""
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            LoginFailure.username_key == username_key,
            LoginFailure.failed_at > since,
        )
    ).one()
    return count, oldest


def record_failure(session: Session, *, username_key: str, at: datetime, window: timedelta) -> int:
    """Store one failed attempt (or a slot for one being checked); returns its id."""
    # Old entries for this name are no longer evidence; keep the table small.
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username_key == username_key,
            LoginFailure.failed_at <= at - window,
        )
    )
    failure = LoginFailure(username_key=username_key, failed_at=at)
    session.add(failure)
    session.flush()
    return failure.id


def take_slot(session: Session, *, username_key: str, at: datetime, window: timedelta) -> int:
    """Store a numbered slot for an attempt about to be checked; returns its id.

    Slots of one name get their ids in commit order: a transaction-scoped advisory lock
    on the name covers the insert until the caller commits. So no slot can appear later
    with a smaller id than one already seen.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": username_key}
    )
    return record_failure(session, username_key=username_key, at=at, window=window)


def slots_ahead(session: Session, *, username_key: str, slot_id: int, since: datetime) -> int:
    """How many attempts under `username_key` took their slot before `slot_id`."""
    return session.scalar(
        select(func.count()).where(
            LoginFailure.username_key == username_key,
            LoginFailure.failed_at > since,
            LoginFailure.id < slot_id,
        )
    )


def delete_failure(session: Session, *, failure_id: int) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.id == failure_id))


def clear_failures(session: Session, *, username_key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username_key == username_key))

"""SQL for users and the login-failure log that the brute-force lock reads."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from spending_api.accounts.repository import default_account_id
from spending_api.categories.repository import create_default_categories
from spending_api.models import LoginFailure, RevokedSession, User


def get_token_version(session: Session, *, user_id: int) -> int | None:
    return session.scalar(select(User.token_version).where(User.id == user_id))


def set_password(session: Session, *, user_id: int, password_hash: str) -> int:
    """Store a new hash and end every session of the user; returns the new token version."""
    return session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash, token_version=User.token_version + 1)
        .returning(User.token_version)
    )


def revoke_session(
    session: Session, *, user_id: int, session_id: str, expires_at: datetime, now: datetime
) -> None:
    """Refuse every token of the session from now on; forget sessions that expired anyway."""
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
    session.execute(
        insert(RevokedSession)
        .values(session_id=session_id, user_id=user_id, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[RevokedSession.session_id])
    )


def get_user_by_username(session: Session, *, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def any_user_exists(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def create_user(session: Session, *, username: str, password_hash: str) -> User:
    """A new user with the default account and the default category set."""
    user = User(username=username, password_hash=password_hash)
    session.add(user)
    session.flush()
    default_account_id(session, user_id=user.id)
    create_default_categories(session, user_id=user.id)
    return user


@dataclass(frozen=True)
class FailureCounts:
    """Failed logins within the window: of one name, of that name from one address, and of
    that address under any name (password spraying)."""

    name: int
    name_oldest: datetime | None
    name_newest: datetime | None
    pair: int
    pair_oldest: datetime | None
    address: int
    address_oldest: datetime | None


def recent_failures(
    session: Session, *, username_key: str, client_key: str, since: datetime
) -> FailureCounts:
    mine = LoginFailure.client_key == client_key
    name, name_oldest, name_newest, pair, pair_oldest = session.execute(
        select(
            func.count(),
            func.min(LoginFailure.failed_at),
            func.max(LoginFailure.failed_at),
            func.count().filter(mine),
            func.min(LoginFailure.failed_at).filter(mine),
        ).where(LoginFailure.username_key == username_key, LoginFailure.failed_at > since)
    ).one()
    address, address_oldest = session.execute(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            mine, LoginFailure.failed_at > since
        )
    ).one()
    return FailureCounts(name, name_oldest, name_newest, pair, pair_oldest, address, address_oldest)


def record_failure(
    session: Session,
    *,
    username_key: str,
    at: datetime,
    window: timedelta,
    client_key: str | None = None,
) -> int:
    """Store one failed attempt (or, without client_key, a slot for one being checked)."""
    # Old entries of this name and this address are no longer evidence; keep the table small.
    stale = LoginFailure.failed_at <= at - window
    session.execute(delete(LoginFailure).where(LoginFailure.username_key == username_key, stale))
    if client_key is not None:
        session.execute(delete(LoginFailure).where(LoginFailure.client_key == client_key, stale))
    failure = LoginFailure(username_key=username_key, failed_at=at, client_key=client_key)
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


def clear_failures(session: Session, *, username_key: str, client_key: str) -> None:
    """After the right password: forget this address's failures on the name (not others')."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username_key == username_key, LoginFailure.client_key == client_key
        )
    )

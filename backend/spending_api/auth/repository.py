"""SQL for users and the login-failure log that the brute-force lock reads."""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from spending_api.models import LoginFailure, User


def get_user_by_id(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


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


def record_failure(session: Session, *, username_key: str, at: datetime, window: timedelta) -> None:
    # Old entries for this name are no longer evidence; keep the table small.
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username_key == username_key,
            LoginFailure.failed_at <= at - window,
        )
    )
    session.add(LoginFailure(username_key=username_key, failed_at=at))


def clear_failures(session: Session, *, username_key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username_key == username_key))

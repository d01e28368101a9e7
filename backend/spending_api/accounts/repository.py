"""SQL for accounts; every function is scoped to the user."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from spending_api.models import Account

DEFAULT_ACCOUNT_NAME = "Main account"


def default_account_id(session: Session, *, user_id: int) -> int:
    """The user's first account, created ("Main account", checking) when there is none:
    what an import or a manual transaction uses when no account is named."""
    found = session.scalar(
        select(Account.id).where(Account.user_id == user_id).order_by(Account.id).limit(1)
    )
    if found is not None:
        return found
    session.execute(
        insert(Account)
        .values(user_id=user_id, name=DEFAULT_ACCOUNT_NAME, kind="checking")
        .on_conflict_do_nothing(index_elements=[Account.user_id, Account.name])
    )
    return session.scalar(
        select(Account.id).where(Account.user_id == user_id).order_by(Account.id).limit(1)
    )


def account_exists(session: Session, *, user_id: int, account_id: int) -> bool:
    """Whether the account is the user's (another user's id is as good as none)."""
    found = session.scalar(
        select(Account.id).where(Account.user_id == user_id, Account.id == account_id)
    )
    return found is not None


def account_id_by_name(session: Session, *, user_id: int, name: str) -> int:
    """The user's account of that name, created (checking) when there is none."""
    session.execute(
        insert(Account)
        .values(user_id=user_id, name=name, kind="checking")
        .on_conflict_do_nothing(index_elements=[Account.user_id, Account.name])
    )
    return session.scalar(
        select(Account.id).where(Account.user_id == user_id, Account.name == name)
    )


def account_kind(session: Session, *, user_id: int, account_id: int) -> str | None:
    return session.scalar(
        select(Account.kind).where(Account.user_id == user_id, Account.id == account_id)
    )

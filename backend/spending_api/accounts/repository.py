"""SQL for accounts; every function is scoped to the user."""

from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spending_api.db import run_postgresql_async
from spending_api.models import Account, Transaction

DEFAULT_ACCOUNT_NAME = "Main account"
_NAME_CONSTRAINT = "uq_accounts_user_id_name"


class AccountNameTaken(Exception):
    """Another of the user's accounts already has the name."""


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


_LIST = (
    "SELECT id, name, kind, currency, institution FROM accounts "
    "WHERE user_id = %(user_id)s ORDER BY id"
)


async def list_accounts_async(connection: AsyncConnection, *, user_id: int) -> list:
    """The user's accounts, oldest first (the first is the default one)."""
    return await run_postgresql_async(
        connection, _LIST, {"user_id": user_id}, row_factory=namedtuple_row
    )


def get_account(session: Session, *, user_id: int, account_id: int) -> Account | None:
    return session.scalar(
        select(Account).where(Account.user_id == user_id, Account.id == account_id)
    )


def _is_name_clash(error: IntegrityError) -> bool:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == _NAME_CONSTRAINT


def create_account(
    session: Session,
    *,
    user_id: int,
    name: str,
    kind: str,
    currency: str,
    institution: str | None,
) -> Account:
    """A new account; AccountNameTaken when the user has one of that name."""
    created = session.scalar(
        insert(Account)
        .values(user_id=user_id, name=name, kind=kind, currency=currency, institution=institution)
        .on_conflict_do_nothing(index_elements=[Account.user_id, Account.name])
        .returning(Account)
    )
    if created is None:
        raise AccountNameTaken(name)
    return created


def update_account(
    session: Session, *, user_id: int, account_id: int, changes: dict
) -> Account | None:
    """Set the given fields; None when the user has no such account, AccountNameTaken
    when the new name is another account's."""
    if not changes:
        return get_account(session, user_id=user_id, account_id=account_id)
    statement = (
        update(Account)
        .where(Account.user_id == user_id, Account.id == account_id)
        .values(**changes)
        .returning(Account)
    )
    try:
        # A savepoint: the name clash is reported, the request's transaction stays usable.
        with session.begin_nested():
            return session.scalar(statement)
    except IntegrityError as error:
        if _is_name_clash(error):
            raise AccountNameTaken(changes["name"]) from None
        raise


def lock_accounts(session: Session, *, user_id: int) -> list[int]:
    """The user's account ids, locked until commit: deletes check 'not the last one'
    one at a time."""
    return list(
        session.scalars(
            select(Account.id)
            .where(Account.user_id == user_id)
            .order_by(Account.id)
            .with_for_update()
        )
    )


def has_transactions(session: Session, *, user_id: int, account_id: int) -> bool:
    return session.scalar(
        select(exists().where(Transaction.user_id == user_id, Transaction.account_id == account_id))
    )


def delete_account(session: Session, *, user_id: int, account_id: int) -> int:
    """Delete the account with its transactions (their imports, profiles and removed keys
    go by cascade); answers how many transactions went. The transactions are deleted
    first, by a statement of their own, so the rollup trigger sees them go."""
    removed = session.execute(
        delete(Transaction).where(
            Transaction.user_id == user_id, Transaction.account_id == account_id
        )
    ).rowcount
    session.execute(delete(Account).where(Account.user_id == user_id, Account.id == account_id))
    return removed


def account_exists(session: Session, *, user_id: int, account_id: int) -> bool:
    """Whether the account is the user's (another user's id is as good as none)."""
    return get_account(session, user_id=user_id, account_id=account_id) is not None


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

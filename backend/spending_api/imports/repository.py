"""SQL for imports and import profiles; every function is scoped to the user."""

from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from spending_api.models import Import, ImportProfile
from spending_api.transfers.repository import unlink_pairs_of_import


@dataclass(frozen=True)
class ImportCounts:
    row_count: int
    inserted: int
    duplicates: int
    skipped: int


def start_import(
    session: Session, *, user_id: int, account_id: int, file_name: str | None, file_format: str
) -> int:
    """A record for the import being stored (its counts are written when it is done)."""
    return session.scalar(
        insert(Import)
        .values(
            user_id=user_id,
            account_id=account_id,
            file_name=(file_name or None) and file_name[:255],
            format=file_format,
            row_count=0,
            inserted_count=0,
            duplicate_count=0,
            skipped_count=0,
        )
        .returning(Import.id)
    )


def finish_import(session: Session, *, user_id: int, import_id: int, counts: ImportCounts) -> None:
    session.execute(
        update(Import)
        .where(Import.user_id == user_id, Import.id == import_id)
        .values(
            row_count=counts.row_count,
            inserted_count=counts.inserted,
            duplicate_count=counts.duplicates,
            skipped_count=counts.skipped,
        )
    )


def list_imports(session: Session, *, user_id: int) -> list[Import]:
    """The user's imports, newest first."""
    return list(
        session.scalars(
            select(Import)
            .where(Import.user_id == user_id)
            .order_by(Import.created_at.desc(), Import.id.desc())
        )
    )


def delete_import(session: Session, *, user_id: int, import_id: int) -> bool:
    """Remove the import and exactly the rows it added (by trigger, migration 0005); a transfer
    pair one of them was in is unlinked first, so its other side gets its category back."""
    found = session.scalar(
        select(Import.id).where(Import.user_id == user_id, Import.id == import_id)
    )
    if found is None:
        return False
    unlink_pairs_of_import(session, user_id=user_id, import_id=import_id)
    session.execute(delete(Import).where(Import.user_id == user_id, Import.id == import_id))
    return True


def has_profiles(session: Session, *, user_id: int, account_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    ImportProfile.user_id == user_id, ImportProfile.account_id == account_id
                )
            )
        )
    )


def find_profile(session: Session, *, user_id: int, account_id: int, signature: str) -> dict | None:
    """The options saved for this layout of file on the account, if any."""
    return session.scalar(
        select(ImportProfile.options).where(
            ImportProfile.user_id == user_id,
            ImportProfile.account_id == account_id,
            ImportProfile.signature == signature,
        )
    )


def save_profile(
    session: Session, *, user_id: int, account_id: int, signature: str, options: dict
) -> None:
    """Keep the options for this layout on the account (the latest ones win)."""
    statement = insert(ImportProfile).values(
        user_id=user_id, account_id=account_id, signature=signature, options=options
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ImportProfile.account_id, ImportProfile.signature],
            set_={"options": statement.excluded.options, "updated_at": func.now()},
        )
    )

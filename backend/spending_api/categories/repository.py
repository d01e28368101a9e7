"""SQL for categories; every function is scoped to the user."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from spending_api.categories.defaults import DEFAULT_CATEGORIES
from spending_api.models import Category


def create_default_categories(session: Session, *, user_id: int) -> None:
    """Give the user the default set (names they already have are left alone)."""
    session.execute(
        insert(Category)
        .values(
            [{"user_id": user_id, "name": name, "kind": kind} for name, kind in DEFAULT_CATEGORIES]
        )
        .on_conflict_do_nothing(index_elements=[Category.user_id, Category.name])
    )


def category_names(session: Session, *, user_id: int) -> list[str]:
    """The names of the user's categories."""
    return list(session.scalars(select(Category.name).where(Category.user_id == user_id)))

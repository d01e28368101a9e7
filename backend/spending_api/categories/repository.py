"""SQL for categories; every function is scoped to the user.

A transaction names its category (`transactions.category`, unique per user), so a
rename or a merge moves the name on every transaction, suggestion and transfer pair in
the same database transaction as the category itself; the rollup follows by trigger and
the category trigger bumps the user's data version at commit (cached answers change).
"""

from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from sqlalchemy import delete, exists, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spending_api import errors
from spending_api.categories.defaults import (
    DEFAULT_CATEGORIES,
    UNCATEGORIZED,
    UNCATEGORIZED_INCOME,
)
from spending_api.db import run_postgresql_async
from spending_api.models import Category, Rule, Transaction
from spending_api.transfers.repository import lock_ledger, unlink_broken_pairs_in

# What the import falls back to: they must always exist, under these names and kinds.
REQUIRED = {UNCATEGORIZED: "spending", UNCATEGORIZED_INCOME: "income"}
_NAME_CONSTRAINT = "uq_categories_user_id_name"


class CategoryMissing(Exception):
    """A category the request names is not one of the user's (404); `detail` says which."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CategoryConflict(Exception):
    """The change contradicts the user's categories (409); `detail` says how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def create_default_categories(session: Session, *, user_id: int) -> None:
    """Give the user the default set (names they already have are left alone)."""
    session.execute(
        insert(Category)
        .values(
            [{"user_id": user_id, "name": name, "kind": kind} for name, kind in DEFAULT_CATEGORIES]
        )
        .on_conflict_do_nothing(index_elements=[Category.user_id, Category.name])
    )


# Counts from the rollup (one row per day, account and category, not per transaction).
# One statement for the list and for one category (category_id NULL: all of them).
_LIST = """
SELECT c.id, c.name, c.kind, coalesce(n.count, 0) AS count, c.colour, c.parent_id
FROM categories AS c
LEFT JOIN (
    SELECT category, sum(transaction_count) AS count FROM daily_category_spend
    WHERE user_id = %(user_id)s GROUP BY category
) AS n ON n.category = c.name
WHERE c.user_id = %(user_id)s
  AND (CAST(%(category_id)s AS integer) IS NULL OR c.id = %(category_id)s)
ORDER BY lower(c.name) COLLATE "C", c.name COLLATE "C"
"""


async def list_categories_async(connection: AsyncConnection, *, user_id: int) -> list:
    """The user's categories by name, each with its kind and transaction count."""
    params = {"user_id": user_id, "category_id": None}
    return await run_postgresql_async(connection, _LIST, params, row_factory=namedtuple_row)


def category_with_count(session: Session, *, user_id: int, category_id: int):
    """One category as listed (with its count), after a change in this transaction."""
    params = {"user_id": user_id, "category_id": category_id}
    return session.connection().exec_driver_sql(_LIST, params).one()


def _lock(session: Session, *, user_id: int, category_id: int, detail: str) -> Category:
    """The user's category, locked until commit; CategoryMissing(detail) when absent."""
    found = session.scalar(
        select(Category)
        .where(Category.user_id == user_id, Category.id == category_id)
        .with_for_update()
    )
    if found is None:
        raise CategoryMissing(detail)
    return found


def _is_name_clash(error: IntegrityError) -> bool:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == _NAME_CONSTRAINT


def _check_parent(session: Session, *, user_id: int, category_id: int | None, parent_id: int):
    """The parent must be the user's own and must not be the category or below it."""
    if category_id is not None:
        # Every category of the user locked: two concurrent moves cannot make a loop.
        session.execute(
            select(Category.id).where(Category.user_id == user_id).with_for_update()
        ).all()
    parent = session.scalar(
        select(Category.id)
        .where(Category.user_id == user_id, Category.id == parent_id)
        .with_for_update(key_share=True)
    )
    if parent is None:
        raise CategoryMissing(errors.PARENT_CATEGORY_NOT_FOUND)
    if category_id is None:
        return
    # The parent's ancestors, itself included (UNION stops on a loop, were there one).
    loops = session.scalar(
        text(
            "WITH RECURSIVE up(id, parent_id) AS ("
            " SELECT id, parent_id FROM categories WHERE user_id = :user_id AND id = :parent_id"
            " UNION"
            " SELECT c.id, c.parent_id FROM categories AS c JOIN up ON c.id = up.parent_id"
            " WHERE c.user_id = :user_id"
            ") SELECT EXISTS (SELECT 1 FROM up WHERE id = :category_id)"
        ),
        {"user_id": user_id, "parent_id": parent_id, "category_id": category_id},
    )
    if loops:
        raise CategoryConflict(errors.CATEGORY_PARENT_CYCLE)


def create_category(
    session: Session,
    *,
    user_id: int,
    name: str,
    kind: str,
    colour: str | None,
    parent_id: int | None,
) -> int:
    """A new category's id; CategoryConflict when the name is taken, CategoryMissing when
    the parent is not the user's."""
    if parent_id is not None:
        _check_parent(session, user_id=user_id, category_id=None, parent_id=parent_id)
    created = session.scalar(
        insert(Category)
        .values(user_id=user_id, name=name, kind=kind, colour=colour, parent_id=parent_id)
        .on_conflict_do_nothing(index_elements=[Category.user_id, Category.name])
        .returning(Category.id)
    )
    if created is None:
        raise CategoryConflict(errors.CATEGORY_NAME_TAKEN)
    return created


def _move_name(session: Session, *, user_id: int, old: str, new: str) -> None:
    """Every use of the name `old` becomes `new`: transactions and their suggestions in
    one statement (one rollup update), and what transfer pairs restore when unlinked."""
    params = {"user_id": user_id, "old": old, "new": new}
    session.execute(
        text(
            "UPDATE transactions SET"
            " category = CASE WHEN category = :old THEN :new ELSE category END,"
            " suggested_category ="
            "  CASE WHEN suggested_category = :old THEN :new ELSE suggested_category END"
            " WHERE user_id = :user_id AND (category = :old OR suggested_category = :old)"
        ),
        params,
    )
    for side in ("out_previous_category", "in_previous_category"):
        session.execute(
            text(
                f"UPDATE transfer_pairs SET {side} = :new"
                f" WHERE user_id = :user_id AND {side} = :old"
            ),
            params,
        )
    session.execute(_RULE_ACTIONS, params)
    session.execute(_RULE_CONDITIONS, params)


# The user's rules follow the name too (rules.schemas: actions {"set_category": name},
# conditions [{"type": "category", "categories": [names]}, ...]), so a rule keeps doing
# what it did. Only rules that name `old` are rewritten; element order is kept.
_RULE_ACTIONS = text(
    "UPDATE rules SET actions = jsonb_set(actions, '{set_category}', to_jsonb(CAST(:new AS text)))"
    " WHERE user_id = :user_id AND actions->>'set_category' = :old"
)
_RULE_CONDITIONS = text("""
UPDATE rules SET conditions = (
    SELECT jsonb_agg(
        CASE WHEN condition->>'type' = 'category' THEN jsonb_set(
            condition, '{categories}', (
                SELECT jsonb_agg(to_jsonb(CASE WHEN name = :old THEN :new ELSE name END)
                                 ORDER BY position)
                FROM jsonb_array_elements_text(condition->'categories')
                     WITH ORDINALITY AS names(name, position)
            ))
        ELSE condition END
        ORDER BY place)
    FROM jsonb_array_elements(conditions) WITH ORDINALITY AS listed(condition, place)
)
WHERE user_id = :user_id
  AND conditions @> jsonb_build_array(jsonb_build_object(
      'type', 'category', 'categories', jsonb_build_array(CAST(:old AS text))))
""")


def update_category(session: Session, *, user_id: int, category_id: int, changes: dict) -> None:
    """Apply the changes (a rename moves every transaction to the new name; a kind that
    is no longer a transfer unlinks the pairs in the category, see merge_category)."""
    if "name" in changes or "kind" in changes:
        # The ledger lock, as merges and deletes: no import is writing the old name, and
        # no pairing sees the old kind.
        lock_ledger(session, user_id=user_id)
    category = _lock(
        session, user_id=user_id, category_id=category_id, detail=errors.CATEGORY_NOT_FOUND
    )
    required_kind = REQUIRED.get(category.name)
    renamed = "name" in changes and changes["name"] != category.name
    rekinded = "kind" in changes and changes["kind"] != category.kind
    if required_kind is not None and (renamed or rekinded):
        raise CategoryConflict(errors.CATEGORY_REQUIRED)
    if changes.get("parent_id") is not None:
        _check_parent(
            session, user_id=user_id, category_id=category_id, parent_id=changes["parent_id"]
        )
    if not changes:
        return
    old_name = category.name
    try:
        # A savepoint: a name clash is reported, the request's transaction stays usable.
        with session.begin_nested():
            session.execute(
                update(Category)
                .where(Category.user_id == user_id, Category.id == category_id)
                .values(**changes)
            )
    except IntegrityError as error:
        if _is_name_clash(error):
            raise CategoryConflict(errors.CATEGORY_NAME_TAKEN) from None
        raise
    if renamed:
        _move_name(session, user_id=user_id, old=old_name, new=changes["name"])
    if rekinded:
        name = changes["name"] if renamed else old_name
        unlink_broken_pairs_in(session, user_id=user_id, category=name)


def merge_category(session: Session, *, user_id: int, category_id: int, into_id: int) -> None:
    """Move every transaction of the category to `into_id`'s, then delete it (its
    subcategories become top-level). A pair no longer one (a transfer category merged
    into one that is not) is unlinked: its sides in `into_id`'s category stay there, the
    other sides go back to their categories before pairing."""
    if category_id == into_id:
        raise CategoryConflict(errors.CATEGORY_MERGE_INTO_ITSELF)
    lock_ledger(session, user_id=user_id)  # see delete_category
    # Both rows locked by one statement, in id order: two opposite merges wait instead of
    # deadlocking, and a missing id costs the same SQL wherever it sorts.
    locked = {
        found.id: found
        for found in session.scalars(
            select(Category)
            .where(Category.user_id == user_id, Category.id.in_((category_id, into_id)))
            .order_by(Category.id)
            .with_for_update()
        )
    }
    if category_id not in locked:
        raise CategoryMissing(errors.CATEGORY_NOT_FOUND)
    if into_id not in locked:
        raise CategoryMissing(errors.TARGET_CATEGORY_NOT_FOUND)
    source, target = locked[category_id], locked[into_id]
    if source.name in REQUIRED:
        raise CategoryConflict(errors.CATEGORY_REQUIRED)
    _move_name(session, user_id=user_id, old=source.name, new=target.name)
    session.execute(delete(Category).where(Category.user_id == user_id, Category.id == category_id))
    unlink_broken_pairs_in(session, user_id=user_id, category=target.name)


def delete_category(session: Session, *, user_id: int, category_id: int) -> None:
    """Delete an unused category; CategoryConflict when transactions are in it (merge
    them elsewhere first) or it is one the import needs. Under the user's ledger lock, which
    an import holds while it writes: the rows of an import still under way are seen (in
    use), and an import that starts after waits and finds the category gone."""
    lock_ledger(session, user_id=user_id)
    category = _lock(
        session, user_id=user_id, category_id=category_id, detail=errors.CATEGORY_NOT_FOUND
    )
    if category.name in REQUIRED:
        raise CategoryConflict(errors.CATEGORY_REQUIRED)
    in_use = session.scalar(
        select(
            exists().where(Transaction.user_id == user_id, Transaction.category == category.name)
        )
    )
    # A rule that sets the category uses it too (move_to moves the rule as well).
    in_use = in_use or session.scalar(
        select(
            exists().where(
                Rule.user_id == user_id, Rule.actions["set_category"].astext == category.name
            )
        )
    )
    if in_use:
        raise CategoryConflict(errors.CATEGORY_IN_USE)
    # A suggestion of a category that is gone is no suggestion.
    session.execute(
        update(Transaction)
        .where(Transaction.user_id == user_id, Transaction.suggested_category == category.name)
        .values(suggested_category=None, suggestion_confidence=None)
    )
    session.execute(delete(Category).where(Category.user_id == user_id, Category.id == category_id))


def category_names(session: Session, *, user_id: int) -> list[str]:
    """The names of the user's categories."""
    return list(session.scalars(select(Category.name).where(Category.user_id == user_id)))

"""SQL for rules and for the rows they read and change; every function is user-scoped."""

from collections.abc import Iterator, Sequence

from psycopg.rows import namedtuple_row
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from spending_api.categorize.ledger import LedgerRow
from spending_api.categorize.rules import RowChange
from spending_api.models import Category, Rule

# Rules read the rows in batches through a server-side cursor: a million-row user's
# transactions never sit in memory at once.
_LEDGER = """
SELECT t.id, t.description, t.amount, t."timestamp", t.category, t.category_source,
       t.account_id, c.kind = 'transfer' AS is_transfer,
       t.original_description IS NOT NULL AS description_edited
FROM transactions AS t
LEFT JOIN categories AS c ON c.user_id = t.user_id AND c.name = t.category
WHERE t.user_id = %(user_id)s {scope}
ORDER BY {order}
"""

# One statement for all the changes: the rollup triggers run once.
_APPLY = text("""
UPDATE transactions AS t
SET category = change.category,
    category_source = change.source,
    category_rule_id = change.rule_id,
    category_confidence = NULL,
    suggested_category = NULL,
    suggestion_confidence = NULL,
    original_description = CASE
        WHEN change.description IS DISTINCT FROM t.description
        THEN coalesce(t.original_description, t.description)
        ELSE t.original_description END,
    description = change.description
FROM unnest(CAST(:ids AS bigint[]), CAST(:categories AS text[]), CAST(:sources AS text[]),
            CAST(:rule_ids AS integer[]), CAST(:descriptions AS text[]))
     AS change(id, category, source, rule_id, description)
WHERE t.user_id = :user_id AND t.id = change.id
""")


def list_rules(session: Session, *, user_id: int) -> list[Rule]:
    return list(
        session.scalars(
            select(Rule).where(Rule.user_id == user_id).order_by(Rule.position, Rule.id)
        )
    )


def get_rule(session: Session, *, user_id: int, rule_id: int) -> Rule | None:
    return session.scalar(select(Rule).where(Rule.user_id == user_id, Rule.id == rule_id))


def create_rule(
    session: Session, *, user_id: int, name: str, conditions: list, actions: dict, enabled: bool
) -> Rule:
    """A new rule, last in the user's order."""
    last = session.scalar(select(func.max(Rule.position)).where(Rule.user_id == user_id))
    rule = Rule(
        user_id=user_id,
        name=name,
        conditions=conditions,
        actions=actions,
        enabled=enabled,
        position=(last or 0) + 1,
    )
    session.add(rule)
    session.flush()
    return rule


def move_rule(session: Session, *, user_id: int, rule: Rule, position: int) -> None:
    """Put the rule at `position` (1-based) and renumber the others 1..n around it."""
    others = [other for other in list_rules(session, user_id=user_id) if other.id != rule.id]
    others.insert(min(position, len(others) + 1) - 1, rule)
    for number, each in enumerate(others, start=1):
        each.position = number


def delete_rule(session: Session, *, user_id: int, rule_id: int) -> bool:
    result = session.execute(delete(Rule).where(Rule.user_id == user_id, Rule.id == rule_id))
    return result.rowcount > 0


def existing_categories(session: Session, *, user_id: int, names: Sequence[str]) -> set[str]:
    return set(
        session.scalars(
            select(Category.name).where(Category.user_id == user_id, Category.name.in_(names))
        )
    )


def iter_ledger(
    session: Session,
    *,
    user_id: int,
    import_id: int | None = None,
    sources: Sequence[str] | None = None,
    newest: int | None = None,
    batch_size: int = 5000,
) -> Iterator[LedgerRow]:
    """The user's transactions as the rules and the suggester read them, by id; only one
    import's rows with `import_id`, only these category sources with `sources`, only the
    `newest` rows by time (newest first) with `newest`."""
    scope, order = "", "t.id"
    if import_id is not None:
        scope += " AND t.import_id = %(import_id)s"
    if sources is not None:
        scope += " AND t.category_source = ANY(%(sources)s)"
    if newest is not None:
        order = 't."timestamp" DESC, t.id DESC LIMIT %(newest)s'
    params = {"user_id": user_id, "import_id": import_id, "sources": sources, "newest": newest}
    driver = session.connection().connection.driver_connection
    with driver.cursor(name="ledger", row_factory=namedtuple_row) as cursor:
        cursor.itersize = batch_size
        for row in cursor.execute(_LEDGER.format(scope=scope, order=order), params):
            yield LedgerRow(
                id=row.id,
                description=row.description,
                amount=row.amount,
                timestamp=row.timestamp,
                category=row.category,
                category_source=row.category_source,
                account_id=row.account_id,
                is_transfer=bool(row.is_transfer),
                description_edited=row.description_edited,
            )


def category_after(change: RowChange, *, transfer_category: str) -> str:
    """The category a change leaves: a row newly marked as a transfer, and given no category
    of the rule's, goes to `transfer_category`."""
    after = change.after
    if (
        after.is_transfer
        and not change.before.is_transfer
        and after.category == change.before.category
    ):
        return transfer_category
    return after.category


def apply_changes(
    session: Session, *, user_id: int, changes: Sequence[RowChange], transfer_category: str
) -> int:
    """Store what the rules made of the rows (categories as `category_after` says)."""
    if not changes:
        return 0
    ids, categories, sources, rule_ids, descriptions = [], [], [], [], []
    for change in changes:
        after = change.after
        ids.append(after.id)
        categories.append(category_after(change, transfer_category=transfer_category))
        sources.append(str(after.category_source))
        rule_ids.append(change.category_rule_id)
        descriptions.append(after.description)
    result = session.execute(
        _APPLY,
        {
            "user_id": user_id,
            "ids": ids,
            "categories": categories,
            "sources": sources,
            "rule_ids": rule_ids,
            "descriptions": descriptions,
        },
    )
    return result.rowcount

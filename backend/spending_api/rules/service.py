"""Rules between the API and the engine: validation, preview, and runs over stored rows.

Rules run at import (over the import's rows, after what the file itself said) and on
request over every transaction; the engine (`categorize.rules`) never changes a category
the user set by hand.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import islice

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from spending_api.categories.defaults import TRANSFER
from spending_api.categorize.rules import (
    AccountCondition,
    AmountCondition,
    CategoryCondition,
    Rule,
    RuleActions,
    RuleError,
    TextCondition,
    apply_rules,
)
from spending_api.models import Category
from spending_api.models import Rule as StoredRule
from spending_api.rules import repository
from spending_api.rules.schemas import ActionsIn, ConditionIn, RuleChangeOut, RulePreviewOut
from spending_api.transfers.repository import lock_ledger, unlink_broken_pairs

PREVIEW_ROWS = 100
UNKNOWN_CATEGORY = "The rule's category does not exist; create the category first."


def engine_rule(*, rule_id: int, name: str, conditions: Sequence[dict], actions: dict) -> Rule:
    """The engine's rule for stored (JSON) conditions and actions; RuleError when invalid."""
    built = []
    for condition in conditions:
        kind = condition["type"]
        if kind == "text":
            built.append(
                TextCondition(
                    field=condition["field"],
                    operator=condition["operator"],
                    value=condition["value"],
                )
            )
        elif kind == "amount":
            built.append(
                AmountCondition(
                    minimum=_decimal(condition.get("minimum")),
                    maximum=_decimal(condition.get("maximum")),
                    direction=condition.get("direction"),
                )
            )
        elif kind == "account":
            built.append(AccountCondition(account_ids=frozenset(condition["account_ids"])))
        else:
            built.append(CategoryCondition(categories=frozenset(condition["categories"])))
    return Rule(
        id=rule_id,
        name=name,
        conditions=tuple(built),
        actions=RuleActions(
            set_category=actions.get("set_category"),
            set_description=actions.get("set_description"),
            mark_transfer=bool(actions.get("mark_transfer")),
        ),
    )


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def stored_form(conditions: list[ConditionIn], actions: ActionsIn) -> tuple[list, dict]:
    """JSON for the database (amounts as text: exact)."""
    return [c.model_dump(mode="json") for c in conditions], actions.model_dump(mode="json")


def check(session: Session, *, user_id: int, name: str, conditions: list, actions: dict) -> Rule:
    """The engine's rule, after checking what the engine cannot: the category exists."""
    rule = engine_rule(rule_id=0, name=name, conditions=conditions, actions=actions)
    wanted = rule.actions.set_category
    if wanted and not repository.existing_categories(session, user_id=user_id, names=[wanted]):
        raise RuleError(UNKNOWN_CATEGORY)
    return rule


def preview(session: Session, *, user_id: int, rule: Rule) -> RulePreviewOut:
    """What the rule alone would change on the user's transactions as they are."""
    changes = apply_rules([rule], repository.iter_ledger(session, user_id=user_id))
    total = sum((change.before.amount for change in changes), Decimal(0))
    return RulePreviewOut(
        count=len(changes),
        total=total,
        transactions=[
            RuleChangeOut(
                id=change.before.id,
                timestamp=change.before.timestamp,
                amount=change.before.amount,
                description=change.before.description,
                category=change.before.category,
                new_category=repository.category_after(change, transfer_category=TRANSFER),
                new_description=change.after.description,
            )
            for change in islice(changes, PREVIEW_ROWS)
        ],
    )


def _engine_rules(rules: Iterable[StoredRule]) -> list[Rule]:
    return [
        engine_rule(rule_id=r.id, name=r.name, conditions=r.conditions, actions=r.actions)
        for r in rules
    ]


def run(
    session: Session,
    *,
    user_id: int,
    rules: Sequence[StoredRule],
    import_id: int | None = None,
) -> int:
    """Run the rules in order over the user's transactions (or one import's) and store the
    changes; the number of transactions changed. A run over every transaction unlinks the
    pairs it breaks (a side moved to a category that is not a transfer keeps the rule's
    category, its other side goes back); an import's rows are not paired yet. Under the
    user's ledger lock (taken before any row lock). The caller commits."""
    if not rules:
        return 0
    lock_ledger(session, user_id=user_id)
    changes = apply_rules(
        _engine_rules(rules), repository.iter_ledger(session, user_id=user_id, import_id=import_id)
    )
    if any(change.after.is_transfer for change in changes):
        session.execute(
            insert(Category)
            .values(user_id=user_id, name=TRANSFER, kind="transfer")
            .on_conflict_do_nothing(index_elements=[Category.user_id, Category.name])
        )
    updated = repository.apply_changes(
        session, user_id=user_id, changes=changes, transfer_category=TRANSFER
    )
    if import_id is None and changes:
        changed_ids = [change.after.id for change in changes]
        unlink_broken_pairs(
            session, user_id=user_id, transaction_ids=changed_ids, keep_categories=True
        )
    return updated


def run_for_import(session: Session, *, user_id: int, import_id: int) -> int:
    """The user's enabled rules over the rows one import added."""
    enabled = [r for r in repository.list_rules(session, user_id=user_id) if r.enabled]
    return run(session, user_id=user_id, rules=enabled, import_id=import_id)

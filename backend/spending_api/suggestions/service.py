"""Training the user's suggester and storing what it says on the transactions.

After an import or an edit the suggester is retrained on the user's trusted history
(categories a person, a rule or the bank gave) and every open row (category `default`
or `learned`) gets its best guess stored as `suggestion` when it reaches HINT_FLOOR;
a guess at or above the threshold is also applied (category_source `learned`, with its
confidence). User and rule categories are never touched: the SQL says so too.
"""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from decimal import Decimal
from itertools import islice

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from spending_api.categorize.ledger import AUTO_REPLACEABLE, TRUSTED, CategorySource
from spending_api.categorize.proposals import Correction, propose_rules
from spending_api.categorize.rules import RuleActions, TextCondition
from spending_api.db import Database
from spending_api.rules import repository as ledger
from spending_api.rules.service import engine_rule
from spending_api.suggestions import repository
from spending_api.suggestions.repository import StoredSuggestion

if TYPE_CHECKING:
    from spending_api.categorize.suggest import SuggesterConfig

logger = logging.getLogger(__name__)

# Guesses below this are not worth showing; between it and the threshold they are offered
# in the review queue, not applied.
HINT_FLOOR = 0.5
BATCH = 5000
CONFIDENCE_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class RefreshCounts:
    suggested: int
    applied: int


def refresh(
    session: Session, *, user_id: int, config: "SuggesterConfig | None" = None
) -> RefreshCounts:
    """Retrain on the user's history and store the suggestions; the caller commits."""
    # scikit-learn and pandas take seconds to import: only the processes that learn pay.
    from spending_api.categorize.suggest import Suggester, SuggesterConfig

    config = config or SuggesterConfig()
    if not repository.has_open_rows(session, user_id=user_id):
        return RefreshCounts(suggested=0, applied=0)  # everything was categorized
    history = list(
        ledger.iter_ledger(
            session,
            user_id=user_id,
            sources=[str(source) for source in TRUSTED],
            newest=config.max_memory_rows,
        )
    )
    suggester = Suggester.train(history, config)
    repository.clear_suggestions(session, user_id=user_id)
    open_rows = ledger.iter_ledger(
        session, user_id=user_id, sources=[str(source) for source in AUTO_REPLACEABLE]
    )
    suggested = applied = 0
    while batch := list(islice(open_rows, BATCH)):
        stored = []
        for row, answer in zip(batch, suggester.rank(batch)):
            if answer is None or answer.confidence < HINT_FLOOR:
                continue
            apply = answer.confidence >= config.threshold and (
                row.category != answer.category or row.category_source is not CategorySource.LEARNED
            )
            stored.append(
                StoredSuggestion(
                    transaction_id=row.id,
                    category=answer.category,
                    confidence=Decimal(str(answer.confidence)).quantize(CONFIDENCE_PLACES),
                    apply=apply,
                )
            )
            applied += apply
        suggested += repository.store_suggestions(session, user_id=user_id, suggestions=stored)
    logger.info("suggestions for user %s: %s stored, %s applied", user_id, suggested, applied)
    return RefreshCounts(suggested=suggested, applied=applied)


def refresh_in_background(database: Database, user_id: int) -> None:
    """For a BackgroundTask after an import or an edit: its own session and commit. A
    failure is logged, never raised: suggestions are advice, the change itself is stored."""
    try:
        with database.session() as session:
            refresh(session, user_id=user_id)
            session.commit()
    except Exception:  # noqa: BLE001 - advice must not fail the request that stored data
        logger.exception("refreshing suggestions for user %s failed", user_id)


def refresh_later(background: BackgroundTasks, database: Database, user_id: int) -> None:
    """Retrain after the response is sent: the change is already committed."""
    background.add_task(refresh_in_background, database, user_id)


def proposals(session: Session, *, user_id: int) -> list:
    """Rules to offer for merchants the user moved to one category at least twice."""
    corrections = [
        Correction(
            transaction_id=row.id,
            description=row.original_description or row.description,
            new_category=row.category,
            corrected_at=row.timestamp,
        )
        for row in repository.user_corrections(session, user_id=user_id)
    ]
    existing = []
    for stored in ledger.list_rules(session, user_id=user_id):
        try:
            existing.append(
                engine_rule(
                    rule_id=stored.id,
                    name=stored.name,
                    conditions=stored.conditions,
                    actions=stored.actions,
                )
            )
        except ValueError:
            continue
    return propose_rules(corrections, existing)


def proposal_body(rule) -> dict:
    """A proposed rule in the shape POST /rules takes."""
    conditions = [
        {
            "type": "text",
            "field": str(condition.field),
            "operator": str(condition.operator),
            "value": condition.value,
        }
        for condition in rule.conditions
        if isinstance(condition, TextCondition)
    ]
    actions: RuleActions = rule.actions
    return {
        "name": rule.name[:100],
        "conditions": conditions,
        "actions": {"set_category": actions.set_category},
    }

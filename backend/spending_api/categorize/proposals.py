"""Rules offered after repeated corrections: the user moved one merchant's transactions to
the same category twice or more. Apart from the classifier (suggest.py), whose libraries
take seconds to import: the dashboard asks for these at every sign-in and after each edit.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from spending_api.categorize.merchant import clean_description, merchant_key
from spending_api.categorize.rules import Rule, RuleActions, TextCondition, TextField, TextOperator


@dataclass(frozen=True)
class Correction:
    """The user changed a transaction's category by hand."""

    transaction_id: int
    description: str | None
    new_category: str
    corrected_at: datetime
    payee: str | None = None
    old_category: str | None = None


def propose_rules(
    corrections: Iterable[Correction], existing_rules: Sequence[Rule] = (), *, minimum: int = 2
) -> list[Rule]:
    """Rules to offer (never to save by themselves): for each merchant whose transactions
    the user moved to the same category at least `minimum` times, one rule 'merchant is X
    -> category'. A transaction counts once, with its latest correction; a merchant whose
    latest corrections disagree, or that an existing rule already sends there, gets none.
    The proposals have id 0 (unsaved)."""
    latest: dict[int, Correction] = {}
    for correction in sorted(corrections, key=lambda c: c.corrected_at):
        latest[correction.transaction_id] = correction
    by_merchant: dict[str, list[Correction]] = defaultdict(list)
    for correction in latest.values():
        key = merchant_key(correction.payee or correction.description)
        if key:
            by_merchant[key].append(correction)
    covered = {
        (merchant_key(condition.value), rule.actions.set_category)
        for rule in existing_rules
        for condition in rule.conditions
        if isinstance(condition, TextCondition) and condition.field is TextField.MERCHANT
    }
    proposals = []
    for key, group in by_merchant.items():
        group.sort(key=lambda c: c.corrected_at)
        target = group[-1].new_category
        agreeing = [c for c in group if c.new_category == target]
        if len(agreeing) < minimum or len(agreeing) < len(group) or (key, target) in covered:
            continue
        sample = group[-1].payee or group[-1].description or ""
        name = clean_description(sample).title()
        value = name if merchant_key(name) == key else sample
        proposals.append(
            Rule(
                id=0,
                name=f"{name} -> {target}",
                conditions=(
                    TextCondition(
                        field=TextField.MERCHANT, operator=TextOperator.EQUALS, value=value
                    ),
                ),
                actions=RuleActions(set_category=target),
            )
        )
    return proposals

"""Rules offered after repeated corrections."""

import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal

from spending_api.categorize.ledger import LedgerRow
from spending_api.categorize.proposals import Correction, propose_rules
from spending_api.categorize.rules import (
    Rule,
    RuleActions,
    TextCondition,
    TextField,
    TextOperator,
    preview_rule,
)

START = datetime(2025, 1, 1, 9, 0)


def correction(transaction_id, description, category, minute):
    return Correction(
        transaction_id=transaction_id,
        description=description,
        new_category=category,
        corrected_at=START + timedelta(minutes=minute),
    )


def test_two_corrections_of_one_merchant_offer_a_rule_that_catches_its_other_spellings():
    corrections = [
        correction(1, "AMAZON MKTPL*AB12C", "Books", 1),
        correction(2, "AMZN Mktp US*2K4", "Books", 2),
        correction(3, "SQ *Sakura Sushi", "Dining out", 3),
    ]

    [proposal] = propose_rules(corrections)

    assert proposal.id == 0 and proposal.actions.set_category == "Books"
    rows = [
        LedgerRow(id=i, description=text, amount=Decimal("9.99"), timestamp=START)
        for i, text in enumerate(["AMAZON MKTPLACE*77", "Amzn Mktp DE*1Q", "SHELL FUEL"])
    ]
    assert [change.before.id for change in preview_rule(proposal, rows).changes] == [0, 1]


def test_no_rule_is_offered_for_one_correction_disagreement_or_a_rule_that_exists():
    assert propose_rules([correction(1, "AMAZON MKTPL*AB12C", "Books", 1)]) == []
    # The same transaction corrected twice counts once.
    twice = [correction(1, "AMAZON MKTPL*AB12C", "Books", 1)] * 2
    assert propose_rules(twice) == []
    disagreeing = [
        correction(1, "AMAZON MKTPL*AB12C", "Books", 1),
        correction(2, "AMZN Mktp US*2K4", "Books", 2),
        correction(3, "AMZN Mktp US*9Q", "Electronics", 3),
    ]
    assert propose_rules(disagreeing) == []
    existing = Rule(
        id=5,
        conditions=(
            TextCondition(
                field=TextField.MERCHANT, operator=TextOperator.EQUALS, value="Amzn Mktp"
            ),
        ),
        actions=RuleActions(set_category="Books"),
    )
    agreeing = disagreeing[:2]
    assert propose_rules(agreeing, [existing]) == []
    assert len(propose_rules(agreeing)) == 1


def test_a_later_correction_of_the_same_transaction_wins():
    corrections = [
        correction(1, "AMAZON MKTPL*AB12C", "Electronics", 1),
        correction(2, "AMZN Mktp US*2K4", "Books", 2),
        correction(1, "AMAZON MKTPL*AB12C", "Books", 3),
    ]

    [proposal] = propose_rules(corrections)

    assert proposal.actions.set_category == "Books"


def test_offering_rules_loads_no_machine_learning_library():
    # The dashboard asks for the offered rules at every sign-in: a worker's first answer
    # must not wait seconds for scikit-learn and pandas to import.
    code = (
        "import sys, spending_api.suggestions.service; "
        "print(sorted({'sklearn', 'pandas', 'numpy'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"

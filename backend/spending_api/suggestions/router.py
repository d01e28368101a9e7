"""Accepting a suggestion, refreshing them, and the rules offered from corrections."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel

from spending_api import errors
from spending_api.deps import CurrentUser, SessionDep
from spending_api.rules import service as rules
from spending_api.rules.schemas import RuleIn, RulePreviewOut
from spending_api.suggestions import repository, service
from spending_api.transactions import repository as transactions
from spending_api.transactions.schemas import TransactionOut

router = APIRouter(tags=["suggestions"])


class RefreshOut(BaseModel):
    suggested: int
    applied: int


class RuleProposalOut(BaseModel):
    """A rule the dashboard offers (never saved by itself), with what it would change."""

    rule: RuleIn
    preview: RulePreviewOut


@router.post(
    "/transactions/{transaction_id}/accept-suggestion",
    response_model=TransactionOut,
    responses={
        404: {"description": errors.TRANSACTION_NOT_FOUND},
        409: {"description": errors.NO_SUGGESTION},
        422: {"description": "The transaction id is not a positive integer"},
    },
)
def accept_suggestion(
    session: SessionDep,
    user: CurrentUser,
    transaction_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> TransactionOut:
    """Take the transaction's suggestion as the user's own category."""
    taken = repository.accept_suggestion(session, user_id=user.id, transaction_id=transaction_id)
    if taken is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.TRANSACTION_NOT_FOUND)
    if not taken:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=errors.NO_SUGGESTION)
    session.commit()
    [row] = transactions.transactions_by_id(session, user_id=user.id, ids=[transaction_id])
    return TransactionOut.model_validate(row, from_attributes=True)


@router.post("/suggestions/refresh", response_model=RefreshOut)
def refresh_suggestions(session: SessionDep, user: CurrentUser) -> RefreshOut:
    """Retrain on the user's history now and store the suggestions (this also runs after
    every import and edit)."""
    counts = service.refresh(session, user_id=user.id)
    session.commit()
    return RefreshOut(suggested=counts.suggested, applied=counts.applied)


@router.get("/rules/proposals", response_model=list[RuleProposalOut])
def rule_proposals(session: SessionDep, user: CurrentUser) -> list[RuleProposalOut]:
    """Rules offered after the user moved one merchant's transactions to the same category
    twice or more, each with its preview; saving one is POST /rules."""
    offered = []
    for proposal in service.proposals(session, user_id=user.id):
        offered.append(
            RuleProposalOut(
                rule=RuleIn.model_validate(service.proposal_body(proposal)),
                preview=rules.preview(session, user_id=user.id, rule=proposal),
            )
        )
    return offered

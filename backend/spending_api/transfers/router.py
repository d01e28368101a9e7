"""GET /transfers, DELETE /transfers/{id}."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from spending_api import errors
from spending_api.deps import CurrentUser, SessionDep
from spending_api.transfers import repository
from spending_api.transfers.schemas import TransferOut, side

router = APIRouter(tags=["transfers"])


@router.get("/transfers", response_model=list[TransferOut], response_model_by_alias=True)
def list_transfers(session: SessionDep, user: CurrentUser) -> list[TransferOut]:
    """The user's transfer pairs (money out of one account, the same amount in to
    another within a few days), newest first."""
    return [
        TransferOut(id=row["id"], out=side(row, "o"), **{"in": side(row, "i")})
        for row in repository.list_pairs(session, user_id=user.id)
    ]


@router.delete(
    "/transfers/{transfer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": errors.TRANSFER_NOT_FOUND}},
)
def delete_transfer(
    session: SessionDep,
    user: CurrentUser,
    transfer_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> Response:
    """Unlink the pair: both sides go back to the categories they had before."""
    if not repository.unlink_pair(session, user_id=user.id, pair_id=transfer_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.TRANSFER_NOT_FOUND)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

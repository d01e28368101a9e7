"""GET /transactions, GET /categories, DELETE /transactions/{id}."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from spending_api import errors
from spending_api.deps import CurrentUser, ReadSessionDep, SessionDep
from spending_api.transactions import repository
from spending_api.transactions.filters import FiltersDep
from spending_api.transactions.repository import SortKey
from spending_api.transactions.schemas import CategoryCount, TransactionOut

router = APIRouter(tags=["transactions"])


@router.get(
    "/transactions",
    response_model=list[TransactionOut],
    responses={200: {"headers": {"X-Total-Count": {"schema": {"type": "integer"}}}}},
)
def list_transactions(
    response: Response,
    session: ReadSessionDep,
    user: CurrentUser,
    filters: FiltersDep,
    sort: Annotated[SortKey, Query()] = "-timestamp",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[TransactionOut]:
    rows = repository.list_transactions(
        session, user_id=user.id, filters=filters, sort=sort, limit=limit, offset=offset
    )
    total = repository.count_transactions(session, user_id=user.id, filters=filters)
    response.headers["X-Total-Count"] = str(total)
    return [TransactionOut.model_validate(row) for row in rows]


@router.delete(
    "/transactions/{transaction_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": errors.TRANSACTION_NOT_FOUND}},
)
def delete_transaction(
    session: SessionDep,
    user: CurrentUser,
    transaction_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> Response:
    if not repository.delete_transaction(session, user_id=user.id, transaction_id=transaction_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.TRANSACTION_NOT_FOUND)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/categories", response_model=list[CategoryCount])
def list_categories(session: ReadSessionDep, user: CurrentUser) -> list[CategoryCount]:
    return [
        CategoryCount(category=row.category, count=int(row.count))
        for row in repository.list_categories(session, user_id=user.id)
    ]

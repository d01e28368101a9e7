"""GET /metrics."""

from typing import Annotated

from fastapi import APIRouter, Query

from spending_api.deps import CurrentUser, ReadSessionDep
from spending_api.metrics.schemas import Granularity, Metrics
from spending_api.metrics.service import get_metrics
from spending_api.transactions.filters import FiltersDep

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_model=Metrics)
def read_metrics(
    session: ReadSessionDep,
    user: CurrentUser,
    filters: FiltersDep,
    granularity: Annotated[Granularity, Query()] = "month",
) -> Metrics:
    return get_metrics(session, user_id=user.id, filters=filters, granularity=granularity)

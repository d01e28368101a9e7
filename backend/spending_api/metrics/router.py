"""GET /metrics."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from spending_api.cache import CachedAnswer, cached_answer
from spending_api.deps import CurrentUser, DatabaseDep
from spending_api.metrics.schemas import Granularity, Metrics
from spending_api.metrics.service import get_metrics
from spending_api.transactions.filters import FiltersDep

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_model=Metrics)
async def read_metrics(
    request: Request,
    database: DatabaseDep,
    user: CurrentUser,
    filters: FiltersDep,
    granularity: Annotated[Granularity, Query()] = "month",
) -> Response:
    def produce() -> CachedAnswer:
        with database.request_read_session() as session:
            metrics = get_metrics(
                session, user_id=user.id, filters=filters, granularity=granularity
            )
        return CachedAnswer(metrics.model_dump_json().encode())

    return await cached_answer(request, user, produce)

"""GET /metrics."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from spending_api.cache import CachedAnswer, cached_answer
from spending_api.deps import CurrentUser, ReadsDep
from spending_api.metrics.schemas import Granularity, Metrics
from spending_api.metrics.service import get_metrics_async
from spending_api.transactions.filters import FILTERS_OPENAPI, FiltersDep

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_model=Metrics, openapi_extra=FILTERS_OPENAPI)
async def read_metrics(
    request: Request,
    reads: ReadsDep,
    user: CurrentUser,
    filters: FiltersDep,
    granularity: Annotated[Granularity, Query()] = "month",
) -> Response:
    query = {"user_id": user.id, "filters": filters, "granularity": granularity}

    async def produce() -> CachedAnswer:
        metrics = await reads.run(partial(get_metrics_async, **query))
        return CachedAnswer(metrics.model_dump_json().encode())

    return await cached_answer(
        request, user, produce, query=f"{filters.model_dump_json()} {granularity}"
    )

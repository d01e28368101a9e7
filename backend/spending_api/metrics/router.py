"""GET /metrics."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from spending_api.cache import CachedAnswer, checked_answer
from spending_api.deps import TokenLoginDep, invalid_token
from spending_api.metrics.schemas import Granularity, Metrics
from spending_api.metrics.service import get_metrics_async
from spending_api.transactions.filters import FILTERS_OPENAPI, FiltersDep

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_model=Metrics, openapi_extra=FILTERS_OPENAPI)
async def read_metrics(
    request: Request,
    login: TokenLoginDep,
    filters: FiltersDep,
    granularity: Annotated[Granularity, Query()] = "month",
) -> Response:
    # The token's session is checked in the aggregate's own statement: one round trip.
    read = partial(get_metrics_async, filters=filters, granularity=granularity)

    async def produce() -> CachedAnswer:
        metrics = await login.reads.run(partial(read, **login.identity_key))
        if metrics is None:
            raise invalid_token()
        return CachedAnswer(metrics.model_dump_json().encode())

    return await checked_answer(
        request, login, produce, query=f"{filters.model_dump_json()} {granularity}"
    )

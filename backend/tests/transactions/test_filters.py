"""The filters dependency: the same answers as FastAPI's own query model parsing."""

from decimal import Decimal
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient

from spending_api.main import create_app
from spending_api.metrics.router import router as metrics_router
from spending_api.transactions.filters import FiltersDep, TransactionFilters, get_filters
from spending_api.transactions.repository import SortKey
from spending_api.transactions.router import get_listing
from spending_api.transactions.router import router as transactions_router

QUERIES = [
    "",
    "start=2024-01-01&end=2024-01-31",
    "category=Food&category=Rent&category=Food",
    "account=3&account=1&kind=income&kind=spending",
    "min_amount=-10.50&max_amount=99.99&q=bakery&review=true",
    "start=2024-01-01&start=2024-02-01",  # a repeated single value: the last one
    "limit=5&sort=amount&granularity=day",  # other routes' parameters are not filters
    "category=",
    "start=2024-03-01&end=2024-02-01",
    "min_amount=5&max_amount=1",
    "start=2024-02-30",
    "start=0",
    "end=yesterday",
    "min_amount=ten",
    "max_amount=NaN",
    "max_amount=99999999999",
    "q=",
    "q=a%00b",
    "account=0&account=main",
    "account=2147483648",
    "kind=savings&kind=income",
    "review=maybe",
    "start=bad&min_amount=bad&category=",
]


@pytest.fixture(scope="module")
def both() -> TestClient:
    """One route parsed by FastAPI (the reference), one by the dependency."""
    app = FastAPI()

    @app.get("/fastapi")
    def by_fastapi(filters: Annotated[TransactionFilters, Query()]) -> dict:
        return filters.model_dump(mode="json")

    @app.get("/ours")
    def by_dependency(filters: FiltersDep) -> dict:
        return filters.model_dump(mode="json")

    return TestClient(app)


@pytest.mark.parametrize("query", QUERIES)
def test_filters_parse_and_refuse_as_fastapi_does(both, query):
    reference = both.get(f"/fastapi?{query}")
    ours = both.get(f"/ours?{query}")
    assert (ours.status_code, ours.json()) == (reference.status_code, reference.json())


def test_filters_hold_the_typed_values(both):
    query = "min_amount=-10.50&account=3&account=1&kind=income&start=2024-01-01"
    filters = both.get(f"/ours?{query}").json()
    assert filters["min_amount"] == "-10.50" and Decimal(filters["min_amount"]) == Decimal("-10.5")
    assert filters["account"] == [3, 1] and filters["kind"] == ["income"]
    assert filters["start"] == "2024-01-01" and filters["end"] is None


LISTING_QUERIES = [
    "",
    "limit=5&offset=10&sort=amount",
    "limit=5&limit=7",  # a repeated single value: the last one
    "sort=size&limit=0&offset=-1",
    "limit=1001&offset=1000000001",
    "limit=ten&offset=1.5",
    "limit=5&start=bad",  # a bad filter: only the filters' errors
    "category=Food&sort=-category&limit=3",
]


@pytest.fixture(scope="module")
def both_listings() -> TestClient:
    """GET /transactions' parameters parsed by FastAPI (the reference: the filters'
    dependency, then plain parameters), and by the listing's one dependency."""
    app = FastAPI()

    @app.get("/fastapi")
    def by_fastapi(
        filters: FiltersDep,
        sort: Annotated[SortKey, Query()] = "-timestamp",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    ) -> dict:
        page = {"sort": sort, "limit": limit, "offset": offset}
        return {"filters": filters.model_dump(mode="json"), **page}

    @app.get("/ours")
    def by_dependency(listing: Annotated[object, Depends(get_listing)]) -> dict:
        filters = listing.filters.model_dump(mode="json")
        return {"filters": filters, **listing.paging.model_dump()}

    return TestClient(app)


@pytest.mark.parametrize("query", LISTING_QUERIES)
def test_the_listing_reads_its_parameters_as_fastapi_does(both_listings, query):
    reference = both_listings.get(f"/fastapi?{query}")
    ours = both_listings.get(f"/ours?{query}")
    assert (ours.status_code, ours.json()) == (reference.status_code, reference.json())


def _reads_filters(dependant) -> bool:
    readers = (get_filters, get_listing)
    return any(sub.call in readers or _reads_filters(sub) for sub in dependant.dependencies)


def test_every_route_reading_the_filters_documents_them(settings):
    """The dependency reads the query string itself: the routes' `openapi_extra` is what
    puts the parameters in /docs, exactly as FastAPI documents the query model."""
    reference = FastAPI()

    @reference.get("/")
    def by_fastapi(filters: Annotated[TransactionFilters, Query()]) -> None:
        """Never called."""

    expected = reference.openapi()["paths"]["/"]["get"]["parameters"]
    paths = create_app(settings).openapi()["paths"]
    routes = [
        route
        for router in (transactions_router, metrics_router)
        for route in router.routes
        if _reads_filters(route.dependant)
    ]
    assert {route.path for route in routes} >= {"/transactions", "/metrics", "/transactions/export"}
    for route in routes:
        for method in route.methods:
            operation = paths[route.path][method.lower()]
            for parameter in expected:
                assert parameter in operation["parameters"], (route.path, parameter["name"])
            assert "422" in operation["responses"], route.path

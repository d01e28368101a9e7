"""GET /transactions, GET /categories, DELETE /transactions/{id}, CSV import and export."""

from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.types import Message

from spending_api import errors
from spending_api.cache import CachedAnswer, cached_answer
from spending_api.deps import (
    CurrentUser,
    ReadsDep,
    SessionDep,
    SettingsDep,
    get_current_login,
    oauth2_scheme,
)
from spending_api.limits import body_responses
from spending_api.transactions import repository
from spending_api.transactions.exporter import csv_chunks
from spending_api.transactions.filters import FiltersDep, TransactionFilters
from spending_api.transactions.importer import (
    AmountSign,
    ImportFailed,
    ImportOptions,
    import_csv,
)
from spending_api.transactions.repository import SortKey
from spending_api.transactions.schemas import (
    CategoryCount,
    ImportErrorOut,
    ImportResult,
    TransactionOut,
)

router = APIRouter(tags=["transactions"])

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

_TRANSACTION_LIST = TypeAdapter(list[TransactionOut])
_CATEGORY_LIST = TypeAdapter(list[CategoryCount])


@router.get(
    "/transactions",
    response_model=list[TransactionOut],
    responses={200: {"headers": {"X-Total-Count": {"schema": {"type": "integer"}}}}},
)
async def list_transactions(
    request: Request,
    reads: ReadsDep,
    user: CurrentUser,
    filters: FiltersDep,
    sort: Annotated[SortKey, Query()] = "-timestamp",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    query = {"user_id": user.id, "filters": filters}
    page_query = {**query, "sort": sort, "limit": limit, "offset": offset}

    async def produce() -> CachedAnswer:
        rows = await reads.run(partial(repository.list_transactions_async, **page_query))
        total = await reads.run(partial(repository.count_transactions_async, **query))
        page = _TRANSACTION_LIST.validate_python(rows, from_attributes=True)
        return CachedAnswer(
            _TRANSACTION_LIST.dump_json(page), headers={"X-Total-Count": str(total)}
        )

    return await cached_answer(
        request, user, produce, query=f"{filters.model_dump_json()} {sort} {limit} {offset}"
    )


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
async def list_categories(request: Request, reads: ReadsDep, user: CurrentUser) -> Response:
    async def produce() -> CachedAnswer:
        rows = await reads.run(partial(repository.list_categories_async, user_id=user.id))
        categories = [
            CategoryCount(category=category, count=int(count)) for category, count in rows
        ]
        return CachedAnswer(_CATEGORY_LIST.dump_json(categories))

    return await cached_answer(request, user, produce, query="")


class UploadLimitRoute(APIRoute):
    """Checks the token before any of the body is read (FastAPI parses a form before the
    dependencies run), then stops reading past the upload limit (413), whatever
    Content-Length says, before the multipart parser spools it to disk."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited_handler(request: Request) -> Response:
            state = request.app.state
            # 401 without reading the upload; the route's own dependency repeats the check.
            await get_current_login(state.reads, state.settings, await oauth2_scheme(request))
            limit = request.app.state.settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(request.app.state.settings.max_upload_bytes)
            receive = request.receive
            received = 0

            async def counting_receive() -> Message:
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(request.app.state.settings.max_upload_bytes)
                return message

            return await handler(Request(request.scope, counting_receive))

        return limited_handler


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=errors.UPLOAD_TOO_LARGE,
        headers={"X-Max-Upload-Bytes": str(limit)},
    )


def import_transactions(
    settings: SettingsDep,
    session: SessionDep,
    user: CurrentUser,
    file: UploadFile,
    date_format: Annotated[
        str | None,
        Query(min_length=2, max_length=64, description="strftime pattern, e.g. %d/%m/%Y"),
    ] = None,
    amount_sign: Annotated[
        AmountSign | None,
        Query(description="How the file writes money spent (default: detected)"),
    ] = None,
) -> ImportResult:
    """Import a CSV bank export or the project's own format: all rows or none."""
    if file.size is not None and file.size > settings.max_upload_bytes:
        raise _too_large(settings.max_upload_bytes)
    options = ImportOptions(date_format=date_format, amount_sign=amount_sign)
    try:
        result = import_csv(session, user_id=user.id, stream=file.file, options=options)
    except ImportFailed as failed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=failed.detail())
    session.commit()
    return result


router.add_api_route(
    "/transactions/import",
    import_transactions,
    methods=["POST"],
    response_model=ImportResult,
    route_class_override=UploadLimitRoute,
    responses={
        400: {"description": "The multipart body cannot be parsed"},
        **body_responses(None),
        413: {"description": errors.UPLOAD_TOO_LARGE},
        422: {"model": ImportErrorOut, "description": "The file or some rows are invalid"},
    },
)


@router.get(
    "/transactions/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, oldest first"}},
)
def export_transactions(
    request: Request, user: CurrentUser, filters: FiltersDep
) -> StreamingResponse:
    """The user's transactions matching the filters, as a streamed CSV file."""
    return StreamingResponse(
        _export_rows(request, user_id=user.id, filters=filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
    )


def _export_rows(request: Request, *, user_id: int, filters: TransactionFilters) -> Iterator[bytes]:
    # Its own session: the request's one may be closed before the body is sent.
    with request.app.state.database.read_session() as session:
        rows = repository.iter_transactions(session, user_id=user_id, filters=filters)
        yield from csv_chunks(rows)

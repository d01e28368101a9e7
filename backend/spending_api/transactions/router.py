"""GET /transactions, the corrections (POST /transactions, PATCH /transactions and
/transactions/{id}, DELETE /transactions/{id}), import (and its preview), export."""

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.types import Message

from spending_api import errors
from spending_api.accounts.repository import account_exists, default_account_id
from spending_api.cache import CachedAnswer, checked_answer
from spending_api.deps import (
    CurrentUser,
    DatabaseDep,
    SessionDep,
    SettingsDep,
    TokenLoginDep,
    invalid_token,
    token_login,
)
from spending_api.suggestions import service as suggestions
from spending_api.limits import JSON_BODY_BYTES, body_responses
from spending_api.transactions import corrections, repository
from spending_api.transactions.exporter import csv_chunks
from spending_api.transactions.filters import (
    FILTERS_OPENAPI,
    FiltersDep,
    TransactionFilters,
    query_model,
    query_model_openapi,
)
from spending_api.ingest import ParseOptions
from spending_api.ingest.model import ROLES, AmountSign
from spending_api.transactions.importer import (
    ImportFailed,
    import_csv,
    mapping_from_json,
    preview_import,
)
from spending_api.transactions.repository import SortKey
from spending_api.transactions.schemas import (
    BulkCorrectionIn,
    BulkCorrectionOut,
    CorrectionErrorOut,
    ImportErrorOut,
    ImportPreview,
    ImportResult,
    ManualTransactionIn,
    TransactionChangeIn,
    TransactionOut,
)

router = APIRouter(tags=["transactions"])

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class Paging(BaseModel):
    """Which page of the matching transactions, in which order."""

    sort: SortKey = "-timestamp"
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000_000)


@dataclass(frozen=True)
class Listing:
    filters: TransactionFilters
    paging: Paging


async def get_listing(request: Request) -> Listing:
    """The filters, then the page, in one dependency (FastAPI's parsing of three plain
    parameters costs more than reading them all so); a bad filter is refused first, so
    its 422 lists the filters' errors only."""
    return Listing(query_model(TransactionFilters, request), query_model(Paging, request))


@router.get(
    "/transactions",
    response_model=list[TransactionOut],
    responses={200: {"headers": {"X-Total-Count": {"schema": {"type": "integer"}}}}},
    openapi_extra=query_model_openapi(Paging, TransactionFilters),
)
async def list_transactions(
    request: Request, login: TokenLoginDep, listing: Annotated[Listing, Depends(get_listing)]
) -> Response:
    # The token's session is checked in the page's own statement: one round trip.
    filters, paging = listing.filters, listing.paging

    async def produce() -> CachedAnswer:
        page = partial(repository.list_page_async, filters=filters, **paging.model_dump())
        listed = await login.reads.run(partial(page, **login.identity_key))
        if listed is None:
            raise invalid_token()
        return CachedAnswer(listed.page.encode(), headers={"X-Total-Count": str(listed.total)})

    query = f"{filters.model_dump_json()} {paging.sort} {paging.limit} {paging.offset}"
    return await checked_answer(request, login, produce, query=query)


TransactionIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
_NOT_FOUND = {404: {"description": errors.TRANSACTION_NOT_FOUND}}
# Every correction reads a JSON body.
_JSON_BODY = {
    400: {"description": "The body cannot be decoded (not UTF-8)"},
    **body_responses(JSON_BODY_BYTES),
}
_UNKNOWN_CATEGORY = {
    422: {
        "model": CorrectionErrorOut,
        "description": f"{errors.UNKNOWN_CATEGORY} (create it first), or an invalid field",
    }
}
_REFUSED_STATUS = {
    corrections.AccountNotFound: status.HTTP_404_NOT_FOUND,
    corrections.UnknownCategory: status.HTTP_422_UNPROCESSABLE_CONTENT,
    corrections.ImportedFieldLocked: status.HTTP_409_CONFLICT,
}


def _refused(refused: corrections.CorrectionRefused) -> HTTPException:
    return HTTPException(_REFUSED_STATUS[type(refused)], detail=refused.detail)


def _stored(session, *, user_id: int, transaction_id: int) -> TransactionOut:
    [row] = repository.transactions_by_id(session, user_id=user_id, ids=[transaction_id])
    return TransactionOut.model_validate(row, from_attributes=True)


@router.post(
    "/transactions",
    status_code=status.HTTP_201_CREATED,
    response_model=TransactionOut,
    responses={
        404: {"description": f"{errors.ACCOUNT_NOT_FOUND}: not one of the user's accounts"},
        **_UNKNOWN_CATEGORY,
        **_JSON_BODY,
    },
)
def create_transaction(
    manual: ManualTransactionIn,
    session: SessionDep,
    user: CurrentUser,
    database: DatabaseDep,
    background: BackgroundTasks,
) -> TransactionOut:
    """Add a transaction by hand (cash, anything no bank exports)."""
    try:
        transaction_id = corrections.create_manual_transaction(
            session, user_id=user.id, **manual.model_dump()
        )
    except corrections.CorrectionRefused as refused:
        raise _refused(refused) from None
    created = _stored(session, user_id=user.id, transaction_id=transaction_id)
    session.commit()
    suggestions.refresh_later(background, database, user.id)
    return created


@router.patch(
    "/transactions",
    response_model=BulkCorrectionOut,
    responses={**_UNKNOWN_CATEGORY, **_JSON_BODY},
)
def correct_transactions(
    bulk: BulkCorrectionIn,
    session: SessionDep,
    user: CurrentUser,
    database: DatabaseDep,
    background: BackgroundTasks,
) -> BulkCorrectionOut:
    """Set the category and/or notes of many transactions at once, chosen by id or by the
    shared filters; `dry_run` answers how many it would change and their total. A
    category that is not a transfer unlinks the transfer pairs of the rows it lands on
    (the other sides go back to their categories before pairing)."""
    try:
        outcome = corrections.bulk_update(
            session,
            user_id=user.id,
            ids=bulk.ids,
            filters=bulk.filters,
            changes=bulk.change.model_dump(exclude_unset=True),
            dry_run=bulk.dry_run,
        )
    except corrections.CorrectionRefused as refused:
        raise _refused(refused) from None
    session.commit()
    if outcome.updated and bulk.change.category is not None:
        suggestions.refresh_later(background, database, user.id)
    return BulkCorrectionOut(matched=outcome.matched, total=outcome.total, updated=outcome.updated)


@router.patch(
    "/transactions/{transaction_id}",
    response_model=TransactionOut,
    responses={
        **_NOT_FOUND,
        409: {"description": f"{errors.IMPORTED_FIELD_LOCKED}: an imported row's date or amount"},
        **_UNKNOWN_CATEGORY,
        **_JSON_BODY,
    },
)
def correct_transaction(
    transaction_id: TransactionIdPath,
    change: TransactionChangeIn,
    session: SessionDep,
    user: CurrentUser,
    database: DatabaseDep,
    background: BackgroundTasks,
) -> TransactionOut:
    """Change what was sent of category, description, notes, and for a manual transaction
    timestamp and amount. A new category counts as the user's choice (category_source
    "user"); an imported row keeps its duplicate key, so a re-import still skips it.
    A transfer pair the change breaks is unlinked, the other side back in its category
    before pairing: a category that is not a transfer, or a manual side's amount or date
    that no longer matches (the same amount the other way, within 4 days)."""
    query = {"user_id": user.id, "transaction_id": transaction_id}
    try:
        found = corrections.update_transaction(
            session, **query, changes=change.model_dump(exclude_unset=True)
        )
    except corrections.CorrectionRefused as refused:
        raise _refused(refused) from None
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.TRANSACTION_NOT_FOUND)
    changed = _stored(session, **query)
    session.commit()
    if "category" in change.model_fields_set:
        suggestions.refresh_later(background, database, user.id)
    return changed


@router.delete(
    "/transactions/{transaction_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def delete_transaction(
    session: SessionDep, user: CurrentUser, transaction_id: TransactionIdPath
) -> Response:
    """Delete a transaction; an imported one stays deleted when its file is imported again.
    Its transfer pair is unlinked, the other side back in its category before pairing."""
    query = {"user_id": user.id, "transaction_id": transaction_id}
    if not corrections.delete_transaction(session, **query):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.TRANSACTION_NOT_FOUND)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class UploadLimitRoute(APIRoute):
    """Checks the token before any of the body is read (FastAPI parses a form before the
    dependencies run), then stops reading past the upload limit (413), whatever
    Content-Length says, before the multipart parser spools it to disk."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited_handler(request: Request) -> Response:
            # 401 without reading the upload; the route's own dependency repeats the check.
            await token_login(request).user()
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


def import_options(
    date_format: Annotated[
        str | None,
        Query(min_length=2, max_length=64, description="strftime pattern, e.g. %d/%m/%Y"),
    ] = None,
    amount_sign: Annotated[
        AmountSign | None,
        Query(description="How the file writes money spent (default: detected)"),
    ] = None,
    mapping: Annotated[
        str | None,
        Query(
            max_length=4000,
            description="JSON object role -> header text or 0-based column index, e.g. "
            '{"date": "Booking date", "amount": 3}; roles: ' + ", ".join(ROLES),
        ),
    ] = None,
    has_header: Annotated[
        bool | None, Query(description="Whether the file has a header row (default: detected)")
    ] = None,
    encoding: Annotated[
        str | None,
        Query(min_length=2, max_length=40, description="e.g. utf-8, cp1252 (default: detected)"),
    ] = None,
) -> ParseOptions:
    """The import's options, shared by the import and its preview."""
    try:
        parsed_mapping = mapping_from_json(mapping)
    except ImportFailed as failed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=failed.detail())
    return ParseOptions(
        mapping=parsed_mapping,
        has_header=has_header,
        date_format=date_format,
        amount_sign=amount_sign,
        encoding=encoding,
    )


ImportOptionsDep = Annotated[ParseOptions, Depends(import_options)]


def _check_size(file: UploadFile, limit: int) -> None:
    if file.size is not None and file.size > limit:
        raise _too_large(limit)


def import_account(
    session: SessionDep,
    user: CurrentUser,
    account_id: Annotated[
        int | None,
        Form(ge=1, le=2**31 - 1, description="The account to import into (default: the first)"),
    ] = None,
) -> int:
    """The account an import goes to: the one named (404 when it is not the user's), else
    the user's first."""
    if account_id is None:
        return default_account_id(session, user_id=user.id)
    if not account_exists(session, user_id=user.id, account_id=account_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.ACCOUNT_NOT_FOUND)
    return account_id


ImportAccountDep = Annotated[int, Depends(import_account)]


def import_transactions(
    settings: SettingsDep,
    session: SessionDep,
    user: CurrentUser,
    file: UploadFile,
    options: ImportOptionsDep,
    account_id: ImportAccountDep,
    database: DatabaseDep,
    background: BackgroundTasks,
) -> ImportResult:
    """Import a bank export (CSV, OFX/QFX, QIF, CAMT.053) or the project's own format into
    an account: all rows or none; the answer lists the rows skipped on purpose. Options
    that read the file are saved for its layout on the account (an import profile) and
    used for the next such file sent without options; transfers to and from the user's
    other accounts are paired."""
    _check_size(file, settings.max_upload_bytes)
    try:
        result = import_csv(
            session,
            user_id=user.id,
            stream=file.file,
            options=options,
            filename=file.filename,
            account_id=account_id,
        )
    except ImportFailed as failed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=failed.detail())
    session.commit()
    if result.inserted:
        suggestions.refresh_later(background, database, user.id)
    return result


def preview_transactions_import(
    settings: SettingsDep,
    session: SessionDep,
    user: CurrentUser,
    file: UploadFile,
    options: ImportOptionsDep,
    account_id: ImportAccountDep,
) -> ImportPreview:
    """What importing the file into the account would do, storing nothing: the detected
    format and layout (read with the account's import profile when no options are
    given), the first 20 rows, the rows it would skip and the problems."""
    _check_size(file, settings.max_upload_bytes)
    try:
        return preview_import(
            session,
            user_id=user.id,
            stream=file.file,
            options=options,
            filename=file.filename,
            account_id=account_id,
        )
    except ImportFailed as failed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=failed.detail())


_UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The multipart body cannot be parsed"},
    **body_responses(None),
    404: {"description": errors.ACCOUNT_NOT_FOUND},
    413: {"description": errors.UPLOAD_TOO_LARGE},
    422: {"model": ImportErrorOut, "description": "The file, some rows or an option are invalid"},
}
router.add_api_route(
    "/transactions/import",
    import_transactions,
    methods=["POST"],
    response_model=ImportResult,
    route_class_override=UploadLimitRoute,
    responses=_UPLOAD_RESPONSES,
)
router.add_api_route(
    "/transactions/import/preview",
    preview_transactions_import,
    methods=["POST"],
    response_model=ImportPreview,
    route_class_override=UploadLimitRoute,
    responses=_UPLOAD_RESPONSES,
)


@router.get(
    "/transactions/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, oldest first"}},
    openapi_extra=FILTERS_OPENAPI,
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

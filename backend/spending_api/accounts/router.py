"""GET/POST/PATCH/DELETE /accounts: where the user's money is kept."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import TypeAdapter

from spending_api import errors
from spending_api.accounts import repository
from spending_api.accounts.schemas import AccountChange, AccountCreate, AccountOut
from spending_api.deps import CurrentUser, ReadsDep, SessionDep
from spending_api.limits import JSON_BODY_BYTES, body_responses
from spending_api.transfers import repository as transfers

router = APIRouter(tags=["accounts"])

_ACCOUNTS = TypeAdapter(list[AccountOut])
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_NOT_FOUND = {404: {"description": f"{errors.ACCOUNT_NOT_FOUND}: no such account of yours"}}
_NAME_TAKEN = {
    409: {"description": f"{errors.ACCOUNT_NAME_TAKEN}: you have an account of that name"}
}
_BODY = {
    400: {"description": "The body cannot be decoded (not UTF-8)"},
    **body_responses(JSON_BODY_BYTES),
}


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.ACCOUNT_NOT_FOUND)


def _name_taken() -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=errors.ACCOUNT_NAME_TAKEN)


@router.get("/accounts", response_model=list[AccountOut])
async def list_accounts(reads: ReadsDep, user: CurrentUser) -> Response:
    """Your accounts, oldest first (imports without an account go to the first)."""
    rows = await reads.run(partial(repository.list_accounts_async, user_id=user.id))
    page = _ACCOUNTS.validate_python(rows, from_attributes=True)
    return Response(_ACCOUNTS.dump_json(page), media_type="application/json")


@router.post(
    "/accounts",
    response_model=AccountOut,
    status_code=status.HTTP_201_CREATED,
    responses={**_NAME_TAKEN, **_BODY},
)
def create_account(body: AccountCreate, session: SessionDep, user: CurrentUser) -> AccountOut:
    try:
        account = repository.create_account(session, user_id=user.id, **body.model_dump())
    except repository.AccountNameTaken:
        raise _name_taken() from None
    session.commit()
    return AccountOut.model_validate(account)


@router.patch(
    "/accounts/{account_id}",
    response_model=AccountOut,
    responses={**_NOT_FOUND, **_NAME_TAKEN, **_BODY},
)
def change_account(
    account_id: AccountId, body: AccountChange, session: SessionDep, user: CurrentUser
) -> AccountOut:
    """Rename an account or change its kind, currency or institution (null clears it)."""
    changes = body.model_dump(include=body.model_fields_set)
    try:
        account = repository.update_account(
            session, user_id=user.id, account_id=account_id, changes=changes
        )
    except repository.AccountNameTaken:
        raise _name_taken() from None
    if account is None:
        raise _not_found()
    session.commit()
    return AccountOut.model_validate(account)


@router.delete(
    "/accounts/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **_NOT_FOUND,
        409: {
            "description": f"{errors.ACCOUNT_HAS_TRANSACTIONS}: the account has transactions; "
            "send ?with_transactions=true to delete them too. "
            f"{errors.LAST_ACCOUNT}: it is your only account; create another first"
        },
    },
)
def delete_account(
    account_id: AccountId,
    session: SessionDep,
    user: CurrentUser,
    with_transactions: Annotated[
        bool, Query(description="Also delete the account's transactions and imports")
    ] = False,
) -> Response:
    # Before the account rows, as an import takes it before it writes into its account.
    transfers.lock_ledger(session, user_id=user.id)
    accounts = repository.lock_accounts(session, user_id=user.id)
    if account_id not in accounts:
        raise _not_found()
    if len(accounts) == 1:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=errors.LAST_ACCOUNT)
    if not with_transactions and repository.has_transactions(
        session, user_id=user.id, account_id=account_id
    ):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=errors.ACCOUNT_HAS_TRANSACTIONS)
    # Its transfer pairs go first: the other sides get their categories back.
    transfers.unlink_pairs_of_account(session, user_id=user.id, account_id=account_id)
    repository.delete_account(session, user_id=user.id, account_id=account_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Dependencies shared by the routes, as `Annotated` aliases."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from spending_api import errors
from spending_api.auth.repository import UserIdentity, fetch_identity, get_identity
from spending_api.auth.security import InvalidToken, decode_access_token
from spending_api.db import Database
from spending_api.settings import Settings

# Only the Authorization header is read: a token in the query string is ignored.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="login", auto_error=False)


# Plain attribute reads are `async def`: a sync dependency would cost a thread-pool hop.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


def get_read_session(
    database: Annotated[Database, Depends(get_database)],
) -> Iterator[Session]:
    with database.request_read_session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _identity_in_thread(database: Database, user_id: int) -> UserIdentity | None:
    with database.request_read_session() as session:
        return get_identity(session, user_id=user_id)


async def get_current_user(request: Request, token: TokenDep) -> UserIdentity:
    """The token's user, read on the event loop (every authenticated request runs this)."""
    if not token:
        raise _unauthorized(errors.NOT_AUTHENTICATED)
    try:
        user_id = decode_access_token(token, secret_key=request.app.state.settings.secret_key)
    except InvalidToken:
        raise _unauthorized(errors.INVALID_TOKEN) from None
    pool = request.app.state.read_pool
    if pool is not None:
        async with pool.connection() as connection:
            user = await fetch_identity(connection, user_id=user_id)
    else:  # SQLite, or an app whose lifespan has not run: no async driver
        user = await run_in_threadpool(_identity_in_thread, request.app.state.database, user_id)
    if user is None:
        raise _unauthorized(errors.INVALID_TOKEN)
    return user


CurrentUser = Annotated[UserIdentity, Depends(get_current_user)]

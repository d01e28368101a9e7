"""Dependencies shared by the routes, as `Annotated` aliases."""

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session

from spending_api import errors
from spending_api.auth.identity import UserIdentity, get_identity_async, identity_params
from spending_api.auth.security import InvalidToken, TokenClaims, VerifiedTokens
from spending_api.auth.service import utcnow
from spending_api.db import Database, Reads
from spending_api.settings import Settings


# Plain attribute reads are `async def`: a sync dependency would cost a thread-pool hop.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_reads(request: Request) -> Reads:
    return request.app.state.reads


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadsDep = Annotated[Reads, Depends(get_reads)]


T = TypeVar("T")

# Per worker process: a token's signature is checked on its first request only.
verified_tokens = VerifiedTokens()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def invalid_token() -> HTTPException:
    """The 401 of a token that is wrongly signed, expired, revoked or outdated."""
    return _unauthorized(errors.INVALID_TOKEN)


@dataclass(frozen=True)
class TokenLogin:
    """A request's token, checked (signature, claims), its session not yet: a route whose
    read checks it in the same statement (auth.identity.with_identity) saves the round
    trip of `user()` and refuses with `invalid_token()` when that read finds no user."""

    claims: TokenClaims
    reads: Reads

    @property
    def identity_key(self) -> dict:
        return identity_params(
            user_id=self.claims.user_id,
            token_version=self.claims.token_version,
            session_id=self.claims.session_id,
        )

    async def user(self) -> UserIdentity:
        """The token's user, looked up: refuses a revoked session or a token older than
        the user's last password change."""
        user = await self.reads.run(partial(get_identity_async, **self.identity_key))
        if user is None:
            raise invalid_token()
        return user


@dataclass(frozen=True)
class CurrentLogin:
    """The user of a valid token, and the token's session (for /logout and /refresh)."""

    user: UserIdentity
    claims: TokenClaims


class BearerToken(OAuth2PasswordBearer, Generic[T]):
    """The token of the Authorization header (a token in the query string is ignored),
    checked, and what `resolve` makes of it, in one dependency: FastAPI solves every
    dependency anew on each request, and nested ones cost more CPU than the check itself.
    Under OAuth2PasswordBearer's own name it documents the same security scheme."""

    def __init__(self, resolve: Callable[[TokenLogin], Awaitable[T]]) -> None:
        super().__init__(tokenUrl="login", auto_error=False, scheme_name="OAuth2PasswordBearer")
        self.resolve = resolve

    async def __call__(self, request: Request) -> T:
        return await self.resolve(token_login(request))


def token_login(request: Request) -> TokenLogin:
    """The request's token, checked (no database): 401 when it is missing or invalid."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if not token or scheme.lower() != "bearer":
        raise _unauthorized(errors.NOT_AUTHENTICATED)
    reads: Reads = request.app.state.reads
    try:
        # The key is the settings' own, as `reads` holds them.
        claims = verified_tokens.claims(token, secret_key=reads.settings.secret_key)
    except InvalidToken:
        raise invalid_token() from None
    return TokenLogin(claims=claims, reads=reads)


async def _unchecked_session(login: TokenLogin) -> TokenLogin:
    return login


async def _current_login(login: TokenLogin) -> CurrentLogin:
    return CurrentLogin(user=await login.user(), claims=login.claims)


# A route whose read checks the session itself (TokenLogin), every other authenticated
# route (the user looked up: a revoked session or an outdated token is refused), and the
# session routes (/logout, /refresh), which also need the token's claims.
TokenLoginDep = Annotated[TokenLogin, Depends(BearerToken(_unchecked_session))]
CurrentUser = Annotated[UserIdentity, Depends(BearerToken(TokenLogin.user))]
LoginDep = Annotated[CurrentLogin, Depends(BearerToken(_current_login))]


async def get_client_address(request: Request) -> str:
    """The socket peer, or, behind a trusted proxy, the client it names (main.py installs
    uvicorn's ProxyHeadersMiddleware for `trusted_proxies` only)."""
    return request.client.host if request.client else "unknown"


ClientAddressDep = Annotated[str, Depends(get_client_address)]


async def get_clock() -> Callable[[], datetime]:
    """The clock of the login lock windows (naive UTC); tests override it to move time
    instead of waiting through a window."""
    return utcnow


ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]

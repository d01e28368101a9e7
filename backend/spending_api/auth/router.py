"""POST /login, /refresh, /logout, GET /me and POST /me/password."""

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import ValidationError

from spending_api import errors
from spending_api.auth import repository
from spending_api.auth.schemas import LoginRequest, PasswordChange, Token, UserPublic
from spending_api.auth.security import create_access_token, hash_password, new_session_id
from spending_api.auth.service import LoginLocked, authenticate
from spending_api.deps import (
    ClientAddressDep,
    ClockDep,
    CurrentUser,
    LoginDep,
    SessionDep,
    SettingsDep,
)
from spending_api.limits import JSON_BODY_BYTES, LOGIN_BODY_BYTES, body_responses
from spending_api.settings import Settings

router = APIRouter(tags=["auth"])

_FORM = "application/x-www-form-urlencoded"
_LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginRequest.model_json_schema()},
        _FORM: {
            "schema": {
                "title": "OAuth2PasswordForm",
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["password"]},
                    "username": {"type": "string", "minLength": 1, "maxLength": 150},
                    "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                },
            }
        },
    },
}


async def read_credentials(request: Request) -> LoginRequest:
    """Credentials from a JSON body or the OAuth2 password form of /docs."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        if content_type == _FORM:
            form = await request.form()
            data = {key: form.get(key) for key in ("username", "password")}
        elif content_type == "application/json":
            data = await request.json()
        else:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail=f"Send the credentials as application/json or {_FORM}",
            )
        return LoginRequest.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="The request body is not valid JSON",
        ) from None


def _issue(
    settings: Settings,
    *,
    user_id: int,
    token_version: int,
    session_id: str | None = None,
    auth_time: datetime | None = None,
) -> Token:
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    token = create_access_token(
        user_id=user_id,
        secret_key=settings.secret_key,
        lifetime=lifetime,
        token_version=token_version,
        session_id=session_id,
        auth_time=auth_time,
    )
    return Token(access_token=token, expires_in=int(lifetime.total_seconds()))


def _too_many_attempts(locked: LoginLocked) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=errors.TOO_MANY_ATTEMPTS,
        headers={"Retry-After": str(locked.retry_after_seconds)},
    )


_TOO_MANY = {429: {"description": errors.TOO_MANY_ATTEMPTS}}


@router.post(
    "/login",
    response_model=Token,
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses={
        401: {"description": errors.INCORRECT_CREDENTIALS},
        415: {"description": "Neither JSON nor a form"},
        422: {"description": "Missing or malformed username or password"},
        **_TOO_MANY,
        **body_responses(LOGIN_BODY_BYTES),
    },
)
def login(
    credentials: Annotated[LoginRequest, Depends(read_credentials)],
    session: SessionDep,
    settings: SettingsDep,
    client_address: ClientAddressDep,
    clock: ClockDep,
) -> Token:
    try:
        user = authenticate(
            session,
            username=credentials.username,
            password=credentials.password,
            client_address=client_address,
            settings=settings,
            clock=clock,
        )
    except LoginLocked as locked:
        raise _too_many_attempts(locked) from None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=errors.INCORRECT_CREDENTIALS,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _issue(settings, user_id=user.id, token_version=user.token_version)


@router.post(
    "/refresh",
    response_model=Token,
    responses={401: {"description": f"{errors.INVALID_TOKEN}, or {errors.SESSION_TOO_OLD}"}},
)
async def refresh(login: LoginDep, settings: SettingsDep) -> Token:
    """A new token for the same session, while the old one is still valid: a session stays
    alive while it is used, up to `session_max_hours` after its login."""
    claims = login.claims
    if datetime.now(timezone.utc) - claims.auth_time > timedelta(hours=settings.session_max_hours):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=errors.SESSION_TOO_OLD,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _issue(
        settings,
        user_id=claims.user_id,
        token_version=claims.token_version,
        session_id=claims.session_id,
        auth_time=claims.auth_time,
    )


_UNAUTHORIZED = {401: {"description": errors.INVALID_TOKEN}}


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_UNAUTHORIZED)
def logout(login: LoginDep, session: SessionDep, settings: SettingsDep) -> Response:
    """End the session on the server: every token of it (refreshed ones too) gets 401."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    # No token of the session outlives its last possible refresh.
    last_valid = (
        login.claims.auth_time.replace(tzinfo=None)
        + timedelta(hours=settings.session_max_hours)
        + timedelta(minutes=settings.access_token_expire_minutes)
    )
    repository.revoke_session(
        session,
        user_id=login.user.id,
        session_id=login.claims.session_id,
        expires_at=max(last_valid, now),
        now=now,
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/password",
    response_model=Token,
    responses={
        **_UNAUTHORIZED,
        400: {"description": "The body cannot be decoded (not UTF-8)"},
        403: {"description": errors.INCORRECT_CURRENT_PASSWORD},
        422: {"description": "Missing current password, or a new one under 8 characters"},
        **_TOO_MANY,
        **body_responses(JSON_BODY_BYTES),
    },
)
def change_password(
    change: PasswordChange,
    login: LoginDep,
    session: SessionDep,
    settings: SettingsDep,
    client_address: ClientAddressDep,
    clock: ClockDep,
) -> Token:
    """Set a new password: every session of the user ends, and this one continues with the
    returned token. The current password is checked under the login's brute-force limits."""
    try:
        user = authenticate(
            session,
            username=login.user.username,
            password=change.current_password,
            client_address=client_address,
            settings=settings,
            clock=clock,
        )
    except LoginLocked as locked:
        raise _too_many_attempts(locked) from None
    if user is None or user.id != login.user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=errors.INCORRECT_CURRENT_PASSWORD)
    version = repository.set_password(
        session, user_id=user.id, password_hash=hash_password(change.new_password)
    )
    session.commit()
    return _issue(settings, user_id=user.id, token_version=version, session_id=new_session_id())


@router.get(
    "/me", response_model=UserPublic, responses={401: {"description": errors.INVALID_TOKEN}}
)
async def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)

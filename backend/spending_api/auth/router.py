"""POST /login and GET /me."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import ValidationError

from spending_api import errors
from spending_api.auth.schemas import LoginRequest, Token, UserPublic
from spending_api.auth.security import create_access_token
from spending_api.auth.service import LoginLocked, authenticate
from spending_api.deps import CurrentUser, SessionDep, SettingsDep

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


@router.post(
    "/login",
    response_model=Token,
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses={
        401: {"description": errors.INCORRECT_CREDENTIALS},
        415: {"description": "Neither JSON nor a form"},
        422: {"description": "Missing or malformed username or password"},
        429: {"description": errors.TOO_MANY_ATTEMPTS},
    },
)
def login(
    credentials: Annotated[LoginRequest, Depends(read_credentials)],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    try:
        user = authenticate(
            session,
            username=credentials.username,
            password=credentials.password,
            settings=settings,
        )
    except LoginLocked as locked:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=errors.TOO_MANY_ATTEMPTS,
            headers={"Retry-After": str(locked.retry_after_seconds)},
        ) from None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=errors.INCORRECT_CREDENTIALS,
            headers={"WWW-Authenticate": "Bearer"},
        )
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    token = create_access_token(user_id=user.id, secret_key=settings.secret_key, lifetime=lifetime)
    return Token(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.get(
    "/me", response_model=UserPublic, responses={401: {"description": errors.INVALID_TOKEN}}
)
async def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)

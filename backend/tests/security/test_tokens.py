"""Forged, foreign, stale and misplaced tokens are all refused with 401."""

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from spending_api import errors
from spending_api.auth.security import create_access_token

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

PROTECTED = [("GET", "/me"), ("GET", "/transactions"), ("GET", "/metrics"), ("GET", "/categories")]


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(user_id: int, *, lifetime=timedelta(minutes=5)) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }


def _forged_tokens(user_id: int, secret: str) -> dict[str, str]:
    good = create_access_token(user_id=user_id, secret_key=secret, lifetime=timedelta(minutes=5))
    header, payload, signature = good.split(".")
    tampered_payload = _b64(_claims(user_id + 1))
    return {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user_id))}.",
        "alg-none-with-signature": (
            f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user_id))}.{signature}"
        ),
        "alg-None-capitalised": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(_claims(user_id))}.",
        "hs256-other-key": jwt.encode(
            _claims(user_id), "another-key-of-sufficient-length-00000000", algorithm="HS256"
        ),
        "hs512-our-key": jwt.encode(_claims(user_id), secret, algorithm="HS512"),
        "expired": create_access_token(
            user_id=user_id,
            secret_key=secret,
            lifetime=timedelta(minutes=5),
            now=datetime.now(timezone.utc) - timedelta(hours=1),
        ),
        "tampered-payload": f"{header}.{tampered_payload}.{signature}",
        "tampered-signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "missing-exp": jwt.encode({"sub": str(user_id)}, secret, algorithm="HS256"),
        "non-numeric-sub": jwt.encode(
            {**_claims(user_id), "sub": "alice' OR 1=1 --"}, secret, algorithm="HS256"
        ),
        "garbage": "not.a.jwt",
        "empty-segments": "..",
    }


FORGERIES = [
    "alg-none",
    "alg-none-with-signature",
    "alg-None-capitalised",
    "hs256-other-key",
    "hs512-our-key",
    "expired",
    "tampered-payload",
    "tampered-signature",
    "missing-exp",
    "non-numeric-sub",
    "garbage",
    "empty-segments",
]


def test_every_forgery_is_tested():
    assert sorted(_forged_tokens(1, "k" * 64)) == sorted(FORGERIES)


@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_or_stale_tokens_get_401(client, make_user, settings, kind):
    victim = make_user()
    token = _forged_tokens(victim.id, settings.secret_key)[kind]
    for method, path in PROTECTED:
        response = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (kind, path, response.text)
        assert response.json() == {"detail": errors.INVALID_TOKEN}
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_of_deleted_user_gets_401(client, make_user, auth_headers, database):
    from spending_api.models import User

    user = make_user()
    headers = auth_headers(user)
    assert client.get("/me", headers=headers).status_code == 200
    with database.session() as session:
        session.delete(session.get(User, user.id))
        session.commit()
    for method, path in PROTECTED:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, path
        assert response.json() == {"detail": errors.INVALID_TOKEN}


def test_token_of_deleted_user_never_reaches_a_new_user_with_the_same_name(
    client, make_user, auth_headers, database, settings, request
):
    """Ids are not reused: a re-created 'alice' is a different user to an old token."""
    from spending_api.models import User

    old = make_user("alice")
    headers = auth_headers(old)
    with database.session() as session:
        session.delete(session.get(User, old.id))
        session.commit()
    make_user("alice")
    assert client.get("/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "where",
    ["query-access_token", "query-token", "cookie", "body-less-header-name", "basic-scheme"],
)
def test_token_outside_the_authorization_header_is_ignored(client, make_user, auth_headers, where):
    user = make_user()
    token = auth_headers(user)["Authorization"].removeprefix("Bearer ")
    kwargs = {
        "query-access_token": {"params": {"access_token": token}},
        "query-token": {"params": {"token": token}},
        "cookie": {"cookies": {"access_token": token}},
        "body-less-header-name": {"headers": {"X-Access-Token": token}},
        "basic-scheme": {"headers": {"Authorization": f"Basic {token}"}},
    }[where]
    for method, path in PROTECTED:
        client.cookies.clear()
        response = client.request(method, path, **kwargs)
        assert response.status_code == 401, (where, path)
        assert response.json() == {"detail": errors.NOT_AUTHENTICATED}


def test_a_valid_token_is_accepted(client, make_user, auth_headers):
    """The control: the same requests with a genuine header succeed."""
    user = make_user()
    for method, path in PROTECTED:
        assert client.request(method, path, headers=auth_headers(user)).status_code == 200

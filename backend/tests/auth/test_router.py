"""POST /login and GET /me (forged, stale and misplaced tokens: tests/security/test_tokens.py)."""

from datetime import timedelta

import jwt
import pytest

from spending_api import errors
from spending_api.auth import security


def login(client, username, password, form=False):
    body = {"username": username, "password": password}
    return client.post("/login", data=body) if form else client.post("/login", json=body)


@pytest.mark.parametrize("form", [False, True], ids=["json", "oauth2-form"])
def test_login_returns_a_bearer_token_for_me(client, make_user, form):
    user = make_user("alice", "s3cret-pass")
    response = login(client, "alice", "s3cret-pass", form=form)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60  # short-lived; renewed with POST /refresh
    me = client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"id": user.id, "username": "alice"}


def test_token_claims_are_sub_iat_exp(client, make_user, settings):
    user = make_user("alice", "pw")
    token = login(client, "alice", "pw").json()["access_token"]
    claims = jwt.decode(token, settings.secret_key, algorithms=["HS256"])
    assert claims["sub"] == str(user.id)
    assert claims["exp"] - claims["iat"] == settings.access_token_expire_minutes * 60


def test_unknown_user_and_wrong_password_look_the_same(client, make_user, monkeypatch):
    make_user("alice", "right")
    verified = []
    real = security._hasher

    class CountingHasher:
        def verify(self, password_hash, password):
            verified.append(password_hash)
            return real.verify(password_hash, password)

    monkeypatch.setattr(security, "_hasher", CountingHasher())
    wrong = login(client, "alice", "wrong")
    unknown = login(client, "nobody", "wrong")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": errors.INCORRECT_CREDENTIALS}
    # Both paths pay for exactly one Argon2 verification, so they take the same time.
    assert len(verified) == 2


def test_password_is_stored_as_argon2_and_never_returned(client, make_user, session):
    from spending_api.models import User

    make_user("alice", "plain-text-password")
    stored = session.query(User).filter_by(username="alice").one()
    assert stored.password_hash.startswith("$argon2")
    assert "plain-text-password" not in stored.password_hash
    response = login(client, "alice", "plain-text-password")
    assert "password" not in response.text


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "alice"}, {"username": "", "password": "x"}, {"username": 3, "password": []}],
)
def test_malformed_credentials_are_422(client, body):
    assert client.post("/login", json=body).status_code == 422


def test_login_body_that_is_not_json_is_422(client):
    response = client.post("/login", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_login_with_another_content_type_is_415(client):
    response = client.post("/login", content=b"x", headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_five_failures_lock_the_name_with_retry_after(client, make_user, settings):
    make_user("alice", "right")
    for _ in range(settings.login_max_failures):
        assert login(client, "alice", "wrong").status_code == 401
    locked = login(client, "alice", "right")
    assert locked.status_code == 429
    assert locked.json() == {"detail": errors.TOO_MANY_ATTEMPTS}
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= settings.login_window_seconds
    # The lock is per name, and case does not get around it.
    assert login(client, "ALICE", "right").status_code == 429


def test_the_lock_lifts_after_the_window(database, make_user, settings):
    from spending_api.auth.service import LoginLocked, authenticate, utcnow

    make_user("alice", "right")
    start = utcnow()
    alice_from_one_address = {
        "username": "alice",
        "client_address": "192.0.2.1",
        "settings": settings,
    }
    with database.session() as session:
        for _ in range(settings.login_max_failures):
            assert (
                authenticate(session, password="bad", clock=lambda: start, **alice_from_one_address)
                is None
            )
        with pytest.raises(LoginLocked):
            authenticate(session, password="right", clock=lambda: start, **alice_from_one_address)
        later = start + timedelta(seconds=settings.login_window_seconds + 1)
        user = authenticate(
            session, password="right", clock=lambda: later, **alice_from_one_address
        )
        assert user is not None and user.username == "alice"


def test_success_below_the_limit_clears_the_count(client, make_user, settings):
    make_user("alice", "right")
    for _ in range(settings.login_max_failures - 1):
        login(client, "alice", "wrong")
    assert login(client, "alice", "right").status_code == 200
    for _ in range(settings.login_max_failures - 1):
        assert login(client, "alice", "wrong").status_code == 401


def test_missing_token_and_token_in_query_string_are_401(client, make_user, auth_headers):
    user = make_user()
    token = auth_headers(user)["Authorization"].removeprefix("Bearer ")
    for response in (
        client.get("/me"),
        client.get("/me", params={"access_token": token}),
        client.get("/me", params={"token": token}),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": errors.NOT_AUTHENTICATED}
        assert response.headers["WWW-Authenticate"] == "Bearer"

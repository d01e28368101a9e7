"""Sessions that end: logout revokes on the server, a password change ends every session,
and an active session is refreshed instead of thrown out. PostgreSQL only (issue #12)."""

import io
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from fastapi.testclient import TestClient

from spending_api import errors
from spending_api.auth.security import create_access_token
from spending_api.main import create_app
from spending_api.settings import get_settings

PASSWORD = "correct horse"
NEW_PASSWORD = "battery staple 42"
CSV = "date,amount,category,description\n2024-06-01,9.99,Food,Lunch\n"


def _login(client, password=PASSWORD) -> str:
    response = client.post("/login", json={"username": "owner", "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _every_protected_request(client, token):
    headers = _bearer(token)
    return {
        "GET /me": client.get("/me", headers=headers),
        "GET /transactions": client.get("/transactions", headers=headers),
        "GET /metrics": client.get("/metrics", headers=headers),
        "GET /categories": client.get("/categories", headers=headers),
        "GET /transactions/export": client.get("/transactions/export", headers=headers),
        "DELETE /transactions/1": client.delete("/transactions/1", headers=headers),
        "POST /transactions/import": client.post(
            "/transactions/import",
            headers=headers,
            files={"file": ("t.csv", io.BytesIO(CSV.encode()), "text/csv")},
        ),
        "POST /refresh": client.post("/refresh", headers=headers),
        "POST /logout": client.post("/logout", headers=headers),
        "POST /me/password": client.post(
            "/me/password",
            headers=headers,
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        ),
    }


def _assert_refused_everywhere(client, token):
    for name, response in _every_protected_request(client, token).items():
        assert response.status_code == 401, (name, response.text)
        assert response.json() == {"detail": errors.INVALID_TOKEN}, name


def test_logout_revokes_the_token_on_the_server(client, make_user):
    make_user("owner", password=PASSWORD)
    token, other_tab = _login(client), _login(client)
    assert client.get("/me", headers=_bearer(token)).status_code == 200
    assert client.post("/logout", headers=_bearer(token)).status_code == 204
    _assert_refused_everywhere(client, token)
    # Another login of the same user (another tab, another device) goes on.
    assert client.get("/me", headers=_bearer(other_tab)).json()["username"] == "owner"


def test_logout_ends_the_tokens_refreshed_from_the_session_too(client, make_user):
    make_user("owner", password=PASSWORD)
    first = _login(client)
    refreshed = client.post("/refresh", headers=_bearer(first))
    assert refreshed.status_code == 200
    second = refreshed.json()["access_token"]
    assert client.post("/logout", headers=_bearer(second)).status_code == 204
    _assert_refused_everywhere(client, first)
    _assert_refused_everywhere(client, second)


def test_refresh_keeps_an_active_session_alive(client, make_user, settings):
    """A token about to expire, of a session that began two hours ago, becomes a fresh token
    of the same session: whoever keeps working is not thrown out after the token lifetime."""
    user = make_user("owner", password=PASSWORD)
    now = datetime.now(timezone.utc)
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    old = create_access_token(
        user_id=user.id,
        secret_key=settings.secret_key,
        lifetime=lifetime,
        session_id="two-hours-of-work",
        auth_time=now - timedelta(hours=2),
        now=now - lifetime + timedelta(seconds=30),  # 30 s left
    )
    response = client.post("/refresh", headers=_bearer(old))
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == lifetime.total_seconds()
    new = response.json()["access_token"]
    claims = jwt.decode(new, settings.secret_key, algorithms=["HS256"])
    assert claims["exp"] >= (now + lifetime).timestamp() - 5
    assert claims["sid"] == "two-hours-of-work"
    assert claims["auth_time"] == int((now - timedelta(hours=2)).timestamp())
    assert client.get("/me", headers=_bearer(new)).status_code == 200


def test_refresh_stops_at_the_session_maximum_and_after_expiry(client, make_user, settings):
    user = make_user("owner", password=PASSWORD)
    now = datetime.now(timezone.utc)
    too_old = create_access_token(
        user_id=user.id,
        secret_key=settings.secret_key,
        lifetime=timedelta(minutes=5),
        auth_time=now - timedelta(hours=settings.session_max_hours, seconds=1),
    )
    response = client.post("/refresh", headers=_bearer(too_old))
    assert response.status_code == 401
    assert response.json() == {"detail": errors.SESSION_TOO_OLD}
    expired = create_access_token(
        user_id=user.id,
        secret_key=settings.secret_key,
        lifetime=timedelta(minutes=5),
        now=now - timedelta(minutes=6),
    )
    assert client.post("/refresh", headers=_bearer(expired)).status_code == 401


def test_password_change_ends_every_session(client, make_user):
    make_user("owner", password=PASSWORD)
    this_tab, other_device = _login(client), _login(client)
    wrong = client.post(
        "/me/password",
        headers=_bearer(this_tab),
        json={"current_password": "not it", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": errors.INCORRECT_CURRENT_PASSWORD}
    short = client.post(
        "/me/password",
        headers=_bearer(this_tab),
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert short.status_code == 422
    assert client.get("/me", headers=_bearer(other_device)).status_code == 200  # nothing changed

    changed = client.post(
        "/me/password",
        headers=_bearer(this_tab),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    _assert_refused_everywhere(client, this_tab)
    _assert_refused_everywhere(client, other_device)
    # This tab continues with the token of the answer; the old password is gone.
    assert client.get("/me", headers=_bearer(changed.json()["access_token"])).status_code == 200
    old = client.post("/login", json={"username": "owner", "password": PASSWORD})
    assert old.status_code == 401
    assert _login(client, NEW_PASSWORD)


def test_set_password_from_the_cli_ends_every_session(
    client, make_user, database_url, monkeypatch, capsys
):
    from spending_api import cli

    make_user("owner", password=PASSWORD)
    token = _login(client)
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{NEW_PASSWORD}\n"))
        assert cli.main(["set-password", "owner", "--password-stdin"]) == 0
        assert "Password of 'owner' changed" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{NEW_PASSWORD}\n"))
        assert cli.main(["set-password", "nobody", "--password-stdin"]) == 1
        assert "No user named 'nobody'" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    _assert_refused_everywhere(client, token)
    assert _login(client, NEW_PASSWORD)


def test_session_routes_act_on_the_callers_own_account(client, make_user):
    """Bob's logout, refresh and password change touch nothing of Alice's."""
    make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)

    def login(name):
        response = client.post("/login", json={"username": name, "password": PASSWORD})
        return response.json()["access_token"]

    alice, bob = login("alice"), login("bob")
    refreshed = client.post("/refresh", headers=_bearer(bob)).json()["access_token"]
    assert client.get("/me", headers=_bearer(refreshed)).json()["username"] == "bob"
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("/me/password", headers=_bearer(bob), json=change).status_code == 200
    assert client.post("/logout", headers=_bearer(refreshed)).status_code == 401  # ended
    assert client.get("/me", headers=_bearer(alice)).json()["username"] == "alice"
    assert login("alice")


@pytest.mark.parametrize("cache_mb", [0, 32], ids=["cache off", "cache on"])
def test_the_reads_refuse_an_ended_session_with_the_answer_cache_off_and_on(
    settings, database, make_user, add_transactions, cache_mb
):
    """/transactions checks the session in the page's own statement when the cache is off,
    and before the cache when it is on: either way a logout or a password change ends the
    reads at once, even of an answer served a moment before."""
    owner = make_user("owner", password=PASSWORD)
    add_transactions(owner, [("2024-06-01T12:00", "9.99", "Food", "Lunch")])
    app = create_app(settings.model_copy(update={"response_cache_mb": cache_mb}), database)
    with TestClient(app) as client:
        logged_out, password_changed = _login(client), _login(client)
        for token in (logged_out, password_changed):
            listed = client.get("/transactions", headers=_bearer(token))
            assert listed.status_code == 200, listed.text
            assert [row["description"] for row in listed.json()] == ["Lunch"]
            assert listed.headers["X-Total-Count"] == "1"
            assert client.get("/metrics", headers=_bearer(token)).status_code == 200

        assert client.post("/logout", headers=_bearer(logged_out)).status_code == 204
        change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        changed = client.post("/me/password", headers=_bearer(password_changed), json=change)
        assert changed.status_code == 200, changed.text

        for token in (logged_out, password_changed):
            for path in ("/transactions", "/metrics"):
                refused = client.get(path, headers=_bearer(token))
                assert refused.status_code == 401, (path, refused.text)
                assert refused.json() == {"detail": errors.INVALID_TOKEN}
                assert refused.headers["WWW-Authenticate"] == "Bearer"
        fresh = client.get("/transactions", headers=_bearer(changed.json()["access_token"]))
        assert [row["description"] for row in fresh.json()] == ["Lunch"]


@pytest.mark.parametrize("cache_mb", [0, 32], ids=["cache off", "cache on"])
def test_a_token_of_a_deleted_user_lists_nothing(settings, database, make_user, cache_mb):
    """A signed token whose user is gone: 401, as for a revoked session."""
    app = create_app(settings.model_copy(update={"response_cache_mb": cache_mb}), database)
    gone = create_access_token(
        user_id=2**31 - 1, secret_key=settings.secret_key, lifetime=timedelta(minutes=5)
    )
    with TestClient(app) as client:
        refused = client.get("/transactions?q=x", headers=_bearer(gone))
    assert refused.status_code == 401
    assert refused.json() == {"detail": errors.INVALID_TOKEN}

"""GET /health, the 503 contract when the database is down, and the OpenAPI docs."""

from fastapi.testclient import TestClient

from spending_api import errors
from spending_api.db import Database
from spending_api.main import create_app
from spending_api.settings import Settings


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def _app_without_database() -> TestClient:
    # Nothing listens on port 9 of loopback: every connection is refused at once.
    settings = Settings(
        _env_file=None,
        environment="test",
        database_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere",
        db_connect_timeout_seconds=1,
    )
    return TestClient(create_app(settings, Database.from_settings(settings)))


def test_health_is_503_without_a_database():
    with _app_without_database() as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_requests_fail_fast_with_503_json_without_a_database():
    with _app_without_database() as client:
        response = client.post("/login", json={"username": "a", "password": "b"})
    assert response.status_code == 503
    assert response.json() == {"detail": errors.DATABASE_UNAVAILABLE}


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/login", "/me", "/transactions", "/metrics", "/categories", "/health"):
        assert path in paths
    assert "application/x-www-form-urlencoded" in paths["/login"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200


def test_a_non_finite_number_in_a_body_is_a_422_not_a_500(client, make_user, auth_headers):
    """Python's JSON reader takes NaN and Infinity; the 422 that echoes them is still JSON."""
    headers = {**auth_headers(make_user()), "Content-Type": "application/json"}
    for literal, shown in (("NaN", "nan"), ("Infinity", "inf"), ("-1e400", "-inf")):
        body = f'{{"current_password": {literal}, "new_password": "long enough"}}'
        response = client.post("/me/password", content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["input"] == shown

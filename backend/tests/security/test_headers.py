"""CORS admits only the configured dashboard origin; every answer carries security headers."""

import pytest

from spending_api.main import create_app

DASHBOARD = "http://localhost:8501"


@pytest.fixture
def cors_client(settings, database):
    from fastapi.testclient import TestClient

    configured = settings.model_copy(update={"cors_origins": [DASHBOARD]})
    with TestClient(create_app(settings=configured, database=database)) as client:
        yield client


def _preflight(client, origin: str, method: str = "GET", headers: str = "authorization"):
    return client.options(
        "/transactions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_preflight_from_the_dashboard_is_allowed(cors_client):
    response = _preflight(cors_client, DASHBOARD)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    # Tokens travel in a header, never in cookies: no credentialed CORS.
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost:8502",
        "http://localhost:8501.evil.example",
        "http://evil-localhost:8501",
        "null",
        "http://LOCALHOST:8501/",
    ],
)
def test_other_origins_are_refused(cors_client, make_user, auth_headers, origin):
    preflight = _preflight(cors_client, origin)
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = cors_client.get("/me", headers={"Origin": origin, **auth_headers(make_user())})
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("method", ["PUT", "TRACE"])
def test_only_the_used_methods_are_allowed_cross_origin(cors_client, method):
    assert _preflight(cors_client, DASHBOARD, method=method).status_code == 400


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_the_correction_methods_are_allowed_cross_origin(cors_client, method):
    assert _preflight(cors_client, DASHBOARD, method=method).status_code == 200


def test_no_wildcard_origin(settings):
    assert "*" not in settings.cors_origins


REQUIRED = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


@pytest.mark.parametrize(
    "method,path,expected_status",
    [
        ("GET", "/health", 200),
        ("GET", "/me", 401),
        ("GET", "/transactions", 200),
        ("GET", "/transactions?limit=0", 422),
        ("GET", "/transactions?start=yesterday", 422),
        ("GET", "/transactions/export", 200),
        ("GET", "/metrics", 200),
        ("GET", "/no-such-page", 404),
        ("DELETE", "/transactions/999999", 404),
        ("POST", "/login", 415),
        ("GET", "/openapi.json", 200),
    ],
)
def test_security_headers_on_every_kind_of_answer(
    client, make_user, auth_headers, method, path, expected_status
):
    headers = {} if path == "/me" else auth_headers(make_user())
    response = client.request(method, path, headers=headers)
    assert response.status_code == expected_status
    for name, value in REQUIRED.items():
        assert response.headers[name] == value, (path, name)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"


def test_docs_csp_lets_swagger_ui_load_but_nothing_else(client):
    response = client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in csp
    assert "frame-ancestors 'none'" in csp
    # Every script the page loads comes from a source the policy allows.
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist" in response.text


def test_api_csp_does_not_affect_the_dashboard():
    """The dashboard (Panel) calls the API from its server process, not from the browser,
    so the API's `default-src 'none'` never applies to the dashboard's page; the
    dashboard's own headers are tested in frontend/tests."""
    from spending_api.main import API_CSP

    assert API_CSP == "default-src 'none'; frame-ancestors 'none'"

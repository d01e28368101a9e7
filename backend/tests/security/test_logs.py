"""Passwords and tokens never reach the logs, wherever a client puts them."""

import logging

import httpx
import pytest

from spending_api.main import RedactSecrets, redact

PASSWORD = "correct horse battery staple 42!"
WRONG_PASSWORD = "Tr0ub4dor&3-wrong"


def _secrets_in(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret and secret in text]


@pytest.mark.slow
def test_no_password_or_token_in_the_server_logs(api_server, database_url, make_user):
    """A real uvicorn at debug level (access log on): a login, a failed login, a form login,
    the token in the header and in the query string; then the whole log is searched."""
    make_user("alice", password=PASSWORD)
    server = api_server(
        database_url=database_url, extra_env={"LOG_LEVEL": "DEBUG", "UVICORN_LOG_LEVEL": "debug"}
    )
    with httpx.Client(base_url=server.url, timeout=10) as http:
        ok = http.post("/login", json={"username": "alice", "password": PASSWORD})
        assert ok.status_code == 200
        token = ok.json()["access_token"]
        assert (
            http.post("/login", json={"username": "alice", "password": WRONG_PASSWORD}).status_code
            == 401
        )
        form = http.post("/login", data={"username": "alice", "password": WRONG_PASSWORD})
        assert form.status_code == 401
        assert http.post(f"/login?password={WRONG_PASSWORD}", json={}).status_code == 422
        assert http.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert http.get("/me", params={"access_token": token}).status_code == 401
        assert http.get("/me", params={"token": token}).status_code == 401
        assert http.get(f"/transactions/{token}").status_code in (401, 404, 405, 422)
    server.stop()
    log = server.log_text()
    assert "POST /login" in log, "the access log must be on for this test to mean anything"
    assert "GET /me?access_token=[REDACTED]" in log
    leaked = _secrets_in(log, [PASSWORD, WRONG_PASSWORD, token, token.split(".")[2]])
    assert not leaked, f"secrets in the log: {leaked}\n{log}"


def test_redaction_filter_on_records(caplog):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    logger = logging.getLogger("spending_api.test_logs")
    logger.addFilter(RedactSecrets())
    with caplog.at_level(logging.INFO, logger="spending_api.test_logs"):
        logger.info("GET %s", f"/me?access_token={token}&x=1")
        logger.info("header Authorization: Bearer %s", token)
        logger.info('body {"username": "a", "password": "%s"}' % PASSWORD)
        logger.info("form username=a&password=%s", WRONG_PASSWORD)
    text = caplog.text
    assert not _secrets_in(text, [token, PASSWORD, WRONG_PASSWORD])
    assert "access_token=[REDACTED]&x=1" in text


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1:5 - "GET /me?token=abc HTTP/1.1" 401',
        "password=hunter2",
        "Authorization: Bearer abc.def",
        '{"password":"x\\"y"}',
    ],
)
def test_redact_removes_the_secret(line):
    assert not _secrets_in(redact(line), ["abc", "hunter2", "abc.def", 'x\\"y'])

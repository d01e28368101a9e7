"""VerifiedTokens: a token's claims are reused until its exp, and only for that token."""

from datetime import datetime, timedelta, timezone

import pytest

from spending_api.auth.security import (
    InvalidToken,
    VerifiedTokens,
    create_access_token,
    decode_access_token,
)

SECRET = "a-test-secret-key-that-is-long-enough-for-hs256"
ISSUED = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def _token(user_id: int = 7, *, lifetime=timedelta(minutes=30), secret=SECRET) -> str:
    now = datetime.now(timezone.utc)
    return create_access_token(user_id=user_id, secret_key=secret, lifetime=lifetime, now=now)


def test_the_claims_are_those_of_a_full_decode():
    token = _token()
    tokens = VerifiedTokens()
    first = tokens.claims(token, secret_key=SECRET)
    assert first == decode_access_token(token, secret_key=SECRET)
    assert tokens.claims(token, secret_key=SECRET) is first  # the second time from memory
    assert len(tokens) == 1


def test_from_its_exp_on_a_remembered_token_is_verified_afresh():
    token = _token(lifetime=timedelta(minutes=30))
    exp = decode_access_token(token, secret_key=SECRET).expires_at
    clock = Clock(datetime.now(timezone.utc))
    tokens = VerifiedTokens(clock=clock)
    remembered = tokens.claims(token, secret_key=SECRET)
    clock.now = datetime.fromtimestamp(exp - 1, timezone.utc)
    assert tokens.claims(token, secret_key=SECRET) is remembered
    clock.now = datetime.fromtimestamp(exp, timezone.utc)
    # A new decode (PyJWT checks exp on the real clock, where this token is still valid;
    # an expired one is refused: security/test_tokens.py).
    again = tokens.claims(token, secret_key=SECRET)
    assert again is not remembered and again == remembered


def test_an_expired_token_is_refused_and_not_remembered():
    expired = create_access_token(
        user_id=7, secret_key=SECRET, lifetime=timedelta(minutes=5), now=ISSUED
    )
    tokens = VerifiedTokens()
    with pytest.raises(InvalidToken):
        tokens.claims(expired, secret_key=SECRET)
    assert len(tokens) == 0


def test_a_token_is_remembered_only_with_its_own_key():
    token = _token()
    tokens = VerifiedTokens()
    tokens.claims(token, secret_key=SECRET)
    with pytest.raises(InvalidToken):
        tokens.claims(token, secret_key="another-secret-key-that-is-long-enough-too")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidToken):
        tokens.claims(forged, secret_key=SECRET)
    assert len(tokens) == 1


def test_the_least_recently_used_token_goes_first():
    first, second, third = (_token(user_id) for user_id in (1, 2, 3))
    tokens = VerifiedTokens(max_entries=2)
    kept = tokens.claims(first, secret_key=SECRET)
    tokens.claims(second, secret_key=SECRET)
    assert tokens.claims(first, secret_key=SECRET) is kept  # first is now the most recent
    tokens.claims(third, secret_key=SECRET)  # evicts second
    assert len(tokens) == 2
    assert tokens.claims(first, secret_key=SECRET) is kept
    assert set(key[1] for key in tokens._entries) == {first, third}

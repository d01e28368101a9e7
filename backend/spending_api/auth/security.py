"""Password hashing (Argon2) and JWT access tokens (HS256)."""

import os
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"


class FairSlots:
    """A counting semaphore that serves waiters first come, first served.

    threading.Semaphore lets a newly arriving thread take a slot before one that has been
    waiting, which under a steady stream of logins starves some of them for a minute.
    Here a released slot is handed straight to the oldest waiter.
    """

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiters: deque[threading.Event] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()

    def __exit__(self, *exc) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._free += 1


_hasher = PasswordHasher()
# Argon2 is CPU- and memory-hard on purpose (64 MiB each): a burst of logins must not take
# every core and gigabytes from the other requests, so at most one hash per CPU runs.
_HASH_SLOTS = FairSlots(os.cpu_count() or 1)
# Verified when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("timing-equaliser-for-unknown-users")


class InvalidToken(Exception):
    """The token is missing a claim, expired, malformed or wrongly signed."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        with _HASH_SLOTS:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and (
                password_hash is not None
            )
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, and which login session it belongs to."""

    user_id: int
    # Must equal users.token_version: a password change bumps it and ends every session.
    token_version: int
    # One per login, kept by /refresh; POST /logout revokes it (revoked_sessions).
    session_id: str
    # When the session's password check happened; /refresh stops at session_max_hours.
    auth_time: datetime
    # The token's `exp`, in seconds since the epoch: it is refused from then on.
    expires_at: int


def new_session_id() -> str:
    return uuid.uuid4().hex


def create_access_token(
    *,
    user_id: int,
    secret_key: str,
    lifetime: timedelta,
    token_version: int = 0,
    session_id: str | None = None,
    auth_time: datetime | None = None,
    now: datetime | None = None,
) -> str:
    issued_at = now or datetime.now(timezone.utc)
    claims = {
        "sub": str(user_id),
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "ver": token_version,
        "sid": session_id or new_session_id(),
        # Seconds, like iat and exp (PyJWT converts only the registered time claims).
        "auth_time": int((auth_time or issued_at).timestamp()),
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret_key: str) -> TokenClaims:
    """The claims of a valid token; only HS256 with our key is accepted."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "ver", "sid", "auth_time"]},
        )
        if not isinstance(claims["sid"], str) or not 0 < len(claims["sid"]) <= 64:
            raise ValueError("bad sid")
        return TokenClaims(
            user_id=int(claims["sub"]),
            token_version=int(claims["ver"]),
            session_id=claims["sid"],
            auth_time=datetime.fromtimestamp(int(claims["auth_time"]), timezone.utc),
            expires_at=int(claims["exp"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError) as exc:
        raise InvalidToken(str(exc)) from exc


class VerifiedTokens:
    """The claims of tokens this process has verified, each until its `exp`.

    Every authenticated request shows its token again; checking the signature and the
    claims each time is a sizeable share of a cheap read's CPU. A hit needs the exact
    token string (and key) verified before, so it is exactly as trusted; revocation and
    password changes are still checked per request, by the identity lookup. Invalid
    tokens are never stored; the least recently used entry goes when `max_entries`
    are held.
    """

    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], TokenClaims] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def claims(self, token: str, *, secret_key: str) -> TokenClaims:
        """What decode_access_token returns for `token`, or raises (InvalidToken)."""
        key = (secret_key, token)
        with self._lock:
            claims = self._entries.get(key)
            if claims is not None:
                if self.clock() < claims.expires_at:
                    self._entries.move_to_end(key)
                    return claims
                del self._entries[key]
        claims = decode_access_token(token, secret_key=secret_key)
        with self._lock:
            self._entries[key] = claims
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return claims

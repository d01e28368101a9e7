"""Who is asking: the per-request check of a token's session, and the user it yields.

Its own module, without the other repositories' imports, so that any repository can put
the check into its own statement (with_identity)."""

from dataclasses import dataclass

from psycopg import AsyncConnection


@dataclass(frozen=True)
class UserIdentity:
    """Who is asking: all a request needs of its user (no password hash in memory)."""

    id: int
    username: str
    # Changes with every change to the user's transactions (see spending_api.cache).
    data_version: int


# Two primary-key probes: the whole per-request cost of revocation. `me` is the token's
# user while the token is valid (same token version, session not revoked), else no row.
_ME = """me AS (
SELECT id, username, data_version FROM users
WHERE id = %(user_id)s AND token_version = %(token_version)s
  AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE session_id = %(session_id)s))"""


def identity_cte() -> str:
    """`me`, as a CTE for a statement of many rows that checks the token itself: joined
    from `me`, its rows come only for a valid token (see metrics.repository)."""
    return _ME


def with_identity(select: str) -> str:
    """A statement whose one row is the token's user (id, username, data_version), then
    `select` (scalar subqueries, evaluated only for that row): no row at all, and nothing
    computed, for a token that is no longer valid. Its parameters are
    `identity_params(...)` plus those of `select` (which shares `%(user_id)s`)."""
    return f"WITH {_ME} SELECT me.id, me.username, me.data_version, {select} FROM me"


def identity_params(*, user_id: int, token_version: int, session_id: str) -> dict:
    return {"user_id": user_id, "token_version": token_version, "session_id": session_id}


_IDENTITY_SQL = f"WITH {_ME} SELECT id, username, data_version FROM me"


async def get_identity_async(
    connection: AsyncConnection, *, user_id: int, token_version: int, session_id: str
) -> UserIdentity | None:
    """The user of a token that is still valid (same token version, session not revoked)
    and their data version: the per-request check of the routes that read nothing else."""
    params = identity_params(user_id=user_id, token_version=token_version, session_id=session_id)
    cursor = await connection.execute(_IDENTITY_SQL, params)
    row = await cursor.fetchone()
    return UserIdentity(*row) if row else None

"""SQL for transactions: listing, counting and bulk inserts (the user's corrections
are in corrections.py).

Every function takes the user's id and applies it, so no caller can forget it.
"""

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from decimal import Decimal
from typing import Literal

from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from sqlalchemy import text
from sqlalchemy.orm import Session

from spending_api.accounts.repository import default_account_id
from spending_api.auth.identity import UserIdentity, identity_params, with_identity
from spending_api.transactions.filters import TransactionFilters

SortKey = Literal[
    "timestamp",
    "-timestamp",
    "amount",
    "-amount",
    "description",
    "-description",
    "category",
    "-category",
]

# Text sorts ignore case and compare code points (COLLATE "C"), so the order does not
# depend on the server's locale; rows without a description come last either way. Ties
# fall back to newest first, then id, so paging is deterministic.
_NEWEST_FIRST = '"timestamp" DESC, id DESC'
_SORT = {
    "timestamp": '"timestamp" ASC, id ASC',
    "-timestamp": _NEWEST_FIRST,
    "amount": "amount ASC, id ASC",
    "-amount": "amount DESC, id DESC",
    "description": f'lower(description) COLLATE "C" ASC NULLS LAST, {_NEWEST_FIRST}',
    "-description": f'lower(description) COLLATE "C" DESC NULLS LAST, {_NEWEST_FIRST}',
    "category": f'lower(category) COLLATE "C" ASC, {_NEWEST_FIRST}',
    "-category": f'lower(category) COLLATE "C" DESC, {_NEWEST_FIRST}',
}
# A row of GET /transactions. The kind is the category's (a record exists for every name
# in use; the fallback by sign is the rollup trigger's rule, should one be missing); the
# stored suggestion comes as one JSON object, or NULL.
_LISTED = """id, account_id, amount, category,
coalesce(
    (SELECT c.kind FROM categories AS c
     WHERE c.user_id = transactions.user_id AND c.name = transactions.category),
    CASE WHEN amount < 0 THEN 'income' ELSE 'spending' END
) AS kind,
"timestamp", description, notes, category_source,
CASE WHEN suggested_category IS NOT NULL THEN json_build_object(
    'category', suggested_category, 'confidence', suggestion_confidence
) END AS suggestion"""
# What the export writes (exporter.HEADER).
_EXPORTED = 'amount, category, "timestamp", description'


# The page as the JSON array GET /transactions answers with, built by the database from
# the listed columns (their names are TransactionOut's fields): no row is decoded into
# Python objects and encoded again. Text, so the driver hands it over unparsed.
def _page_json_sql(where: str, sort: SortKey) -> str:
    return (
        f"SELECT CAST(coalesce(json_agg(page ORDER BY {_SORT[sort]}), '[]') AS text) "
        f"FROM (SELECT {_LISTED} FROM transactions "
        f"WHERE {where} ORDER BY {_SORT[sort]} LIMIT %(limit)s OFFSET %(offset)s) AS page"
    )


def _count_sql(where: str, *, rollup: bool) -> str:
    if rollup:
        return f"SELECT coalesce(sum(transaction_count), 0) FROM daily_category_spend WHERE {where}"
    return f"SELECT count(*) FROM transactions WHERE {where}"


@lru_cache(maxsize=256)
def _listing_sql(where: str, count_where: str, rollup: bool, sort: SortKey) -> str:
    """The token's user, the page and the count in one statement (one per filter shape)."""
    page, count = _page_json_sql(where, sort), _count_sql(count_where, rollup=rollup)
    return with_identity(f"({page}), ({count})")


def _page_query(
    *, user_id: int, filters: TransactionFilters, sort: SortKey, limit: int, offset: int
) -> tuple[str, dict]:
    """The page and its count (from the rollup when it answers the filters exactly) as
    one statement that checks the token first, and its parameters but the token's."""
    rollup = filters.uses_rollup
    where, params = filters.postgresql_where(user_id=user_id, rollup=False)
    count_where, count_params = filters.postgresql_where(user_id=user_id, rollup=rollup)
    sql = _listing_sql(where, count_where, rollup, sort)
    return sql, {**params, **count_params, "limit": limit, "offset": offset}


@dataclass(frozen=True)
class ListedPage:
    user: UserIdentity
    page: str  # the JSON array, as text
    total: int


async def list_page_async(
    connection: AsyncConnection,
    *,
    user_id: int,
    token_version: int,
    session_id: str,
    filters: TransactionFilters,
    sort: SortKey = "-timestamp",
    limit: int = 100,
    offset: int = 0,
) -> ListedPage | None:
    """One page of the user's matching transactions as a JSON array (text), and how many
    match in all, in the statement that checks the token (auth.identity.with_identity):
    None, and nothing read, if it is no longer valid."""
    sql, params = _page_query(
        user_id=user_id, filters=filters, sort=sort, limit=limit, offset=offset
    )
    key = identity_params(user_id=user_id, token_version=token_version, session_id=session_id)
    cursor = await connection.execute(sql, {**params, **key})
    row = await cursor.fetchone()
    if row is None:
        return None
    *identity, page, total = row
    return ListedPage(user=UserIdentity(*identity), page=page, total=int(total))


def transactions_by_id(session: Session, *, user_id: int, ids: Iterable[int]) -> list:
    """The user's transactions with these ids, as GET /transactions lists them (oldest
    first; ids of other users' rows are left out): what a write answers with."""
    sql = (
        f"SELECT {_LISTED} FROM transactions "
        f"WHERE user_id = %(user_id)s AND id = ANY(%(ids)s) ORDER BY {_SORT['timestamp']}"
    )
    driver = session.connection().connection.driver_connection
    with driver.cursor(row_factory=namedtuple_row) as cursor:
        return cursor.execute(sql, {"user_id": user_id, "ids": list(ids)}).fetchall()


def iter_transactions(
    session: Session,
    *,
    user_id: int,
    filters: TransactionFilters,
    batch_size: int = 5000,
) -> Iterator:
    """All matching rows, oldest first, fetched in batches through a server-side cursor
    (for the export; needs the session's transaction)."""
    where, params = filters.postgresql_where(user_id=user_id, rollup=False)
    sql = f"SELECT {_EXPORTED} FROM transactions WHERE {where} ORDER BY {_SORT['timestamp']}"
    driver = session.connection().connection.driver_connection
    with driver.cursor(name="export", row_factory=namedtuple_row) as cursor:
        cursor.itersize = batch_size
        yield from cursor.execute(sql, params)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs a setattr per field per row
class NewTransaction:
    """One parsed row on its way in; `line_no` orders identical rows. `external_id` is the
    bank's own id for the row (the duplicate key when given); `kind_hint` ('income',
    'transfer', 'card_payment') is what the file said about the row's kind.
    `category_kind` is the kind a category that does not exist yet is created with
    (None: by the row's sign); `category_source` says who chose the category."""

    timestamp: datetime
    amount: Decimal
    category: str
    description: str | None
    line_no: int
    external_id: str | None = None
    kind_hint: str | None = None
    notes: str | None = None
    category_source: str = "default"
    category_kind: str | None = None


@dataclass(frozen=True)
class InsertCounts:
    inserted: int
    total: int

    @property
    def skipped(self) -> int:
        return self.total - self.inserted


EXTERNAL_KEY_PREFIX = "id:"


@lru_cache(maxsize=65536)  # a large file repeats few distinct descriptions
def _comparable(description: str) -> str:
    return " ".join(description.split()).casefold()


def dedup_base(row: NewTransaction) -> str:
    """What makes two rows the same purchase: the bank's id for it when the file gives
    one, else when, how much, and for what."""
    if row.external_id:
        digest = hashlib.md5(row.external_id.encode(), usedforsecurity=False).hexdigest()
        return EXTERNAL_KEY_PREFIX + digest
    description = _comparable(row.description or "")
    fingerprint = f"{row.timestamp.isoformat()}|{row.amount}|{description}"
    return hashlib.md5(fingerprint.encode(), usedforsecurity=False).hexdigest()


class FileKeys:
    """The duplicate keys of one file's rows, given as the rows stream by in file order
    (`line_no` never decreasing), exactly as _INSERT_FROM_STAGING numbers them: a row
    with the bank's id is keyed by it and only the file's first row with an id is kept
    (None for the others); any other row is "<fingerprint>:<n>", n counting that
    fingerprint's rows so far.

    Memory stays small for a million rows: a key is remembered as its 128-bit md5 (the
    key itself, not a shorter hash, so two keys are never taken for one), and a count
    only for fingerprints seen more than once."""

    __slots__ = ("_seen", "_repeats", "_line_no")
    _ID_BIT = 1 << 128  # an id's md5 and a fingerprint's md5 are different keys

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._repeats: dict[int, int] = {}
        self._line_no: int | None = None

    def key(self, row: NewTransaction) -> str | None:
        if self._line_no is not None and row.line_no < self._line_no:
            raise ValueError("rows must come in line_no order to be keyed as they stream")
        self._line_no = row.line_no
        base = dedup_base(row)
        if base.startswith(EXTERNAL_KEY_PREFIX):
            digest = int(base[len(EXTERNAL_KEY_PREFIX) :], 16) | self._ID_BIT
            if digest in self._seen:
                return None
            self._seen.add(digest)
            return base
        digest = int(base, 16)
        if digest not in self._seen:
            self._seen.add(digest)
            return base + ":1"
        occurrence = self._repeats[digest] = self._repeats.get(digest, 1) + 1
        return f"{base}:{occurrence}"


_STAGING_COLUMNS = (
    "line_no, ts, amount, category, category_kind, category_source, description, notes, key_base"
)
_STAGING_TYPES = ("int8", "timestamp", "numeric", "text", "text", "text", "text", "text", "text")

# Categories the rows name that the user does not have yet, with the kind the import
# chose (else by sign). Before the rows, so every row's category has a record; the names
# made are returned for _UNUSED_CATEGORIES.
_CATEGORIES_FROM_STAGING = """
INSERT INTO categories (user_id, name, kind)
SELECT :user_id, category,
       coalesce(min(category_kind), CASE WHEN sum(amount) < 0 THEN 'income' ELSE 'spending' END)
FROM import_staging
GROUP BY category
ORDER BY category
ON CONFLICT (user_id, name) DO NOTHING
RETURNING name
"""
# After the rows: a category made above that no stored row names goes again (its rows
# were all duplicates or deleted by the user), so a re-import does not bring back one
# merged away. It did not exist before this import, so only the rows just stored can
# name it (one index probe each).
_UNUSED_CATEGORIES = """
DELETE FROM categories AS c
WHERE c.user_id = :user_id AND c.name = ANY(:made)
  AND NOT EXISTS (
      SELECT 1 FROM transactions AS t WHERE t.user_id = :user_id AND t.category = c.name
  )
"""

# The n-th identical row of a file gets key "<fingerprint>:<n>", so a re-import
# of the same rows collides with what is stored, while two identical purchases
# within one file stay two. A row with the bank's id is keyed by that id alone: the
# same id twice is the same transaction, in one file or across imports (the file's
# first one is kept). Rows the user deleted stay deleted (removed_import_keys). Rows go
# in (key_base, line_no) order: the order the window already sorted them in (no second
# sort). No conflict target: a key is unique in the account through two indexes (by
# timestamp, and the bank's ids on their own: migration 0005).
#
# Only for an account with stored or removed keys: one with none (a new account, or its
# first import) has nothing a row could collide with, so its rows are COPied straight
# into transactions, keyed by FileKeys (the same numbering), while the file is read.
# Imports of one user take turns (the ledger lock), so no other import adds keys
# between the check and the insert, and overlapping imports cannot deadlock on the keys.
_INSERT_FROM_STAGING = """
INSERT INTO transactions (user_id, account_id, import_id, amount, category, category_source,
                          "timestamp", description, notes, dedup_key)
SELECT :user_id, :account_id, :import_id, amount, category, category_source,
       ts, description, notes, dedup_key
FROM (
    SELECT *,
           CASE WHEN is_id THEN key_base
                ELSE key_base || ':' || CAST(occurrence AS TEXT) END AS dedup_key
    FROM (
        SELECT *, starts_with(key_base, 'id:') AS is_id,
               row_number() OVER (PARTITION BY key_base ORDER BY line_no) AS occurrence
        FROM import_staging
    ) AS numbered
    WHERE occurrence = 1 OR NOT is_id
) AS keyed
WHERE NOT EXISTS (
    SELECT 1 FROM removed_import_keys AS removed
    WHERE removed.account_id = :account_id AND removed.dedup_key = keyed.dedup_key
)
ORDER BY key_base, line_no
ON CONFLICT DO NOTHING
"""
_ACCOUNT_HAS_KEYS = """
SELECT EXISTS (
    SELECT 1 FROM transactions WHERE account_id = :account_id AND dedup_key IS NOT NULL
) OR EXISTS (SELECT 1 FROM removed_import_keys WHERE account_id = :account_id)
"""

# The key space of the ledger lock (pg_advisory_xact_lock(space, user id)); the two-key
# form never meets the one-key locks elsewhere (auth takes hashtextextended ones).
LEDGER_LOCK_SPACE = 0x5350


def lock_ledger(session: Session, *, user_id: int) -> None:
    """Wait for, then hold until the transaction ends, the user's ledger lock. Taken
    before any row lock (so never in a deadlock), by the import, by every change that
    pairs or unlinks and by category renames, merges and deletes; taking it again in the
    same transaction is free."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :user_id)"),
        {"space": LEDGER_LOCK_SPACE, "user_id": user_id},
    )


# A million-row file is one or two statements (the COPY, which lasts as long as the file
# takes to read, and for an account with keys the INSERT from staging): their sorts get
# room in memory, and the API's statement timeout (meant for reads, 30 s) gives way to a
# bulk one: a 50 MB upload (about a million rows) takes 10-40 s on 2 cores, longer when
# they are busy. Both only for those statements.
BULK_SETTINGS = {"work_mem": "256MB", "statement_timeout": "10min"}


def insert_transactions(
    session: Session,
    *,
    user_id: int,
    rows: Iterable[NewTransaction],
    account_id: int | None = None,
    import_id: int | None = None,
) -> InsertCounts:
    """Insert rows (in `line_no` order) into the account (default: the user's first),
    skipping ones already stored; one statement into transactions, in the caller's
    transaction, so the rollup triggers run once and nothing is half-written.
    `import_id` records which import added them.

    Rows stream through COPY, so a million-row file never sits in memory: into an
    account with no keys yet straight into transactions (the server stores rows while
    the file is still being read), else into a temporary staging table and from there
    past the stored and removed keys."""
    if account_id is None:
        account_id = default_account_id(session, user_id=user_id)
    connection = session.connection()
    params = {"user_id": user_id, "account_id": account_id, "import_id": import_id}
    with local_settings(connection, BULK_SETTINGS):
        lock_ledger(session, user_id=user_id)  # held already by an import: free
        if not connection.execute(text(_ACCOUNT_HAS_KEYS), params).scalar():
            return _copy_into_fresh_account(connection, rows, **params)
        total = _stage(connection, rows)  # one COPY, as long as the file takes to read
        made = connection.execute(text(_CATEGORIES_FROM_STAGING), params).scalars().all()
        result = connection.execute(text(_INSERT_FROM_STAGING), params)
    if made:
        connection.execute(text(_UNUSED_CATEGORIES), {"user_id": user_id, "made": made})
    connection.execute(text("TRUNCATE import_staging"))
    return InsertCounts(inserted=result.rowcount, total=total)


_COPIED_COLUMNS = (
    'user_id, account_id, import_id, amount, category, category_source, "timestamp", '
    "description, notes, dedup_key"
)
_COPIED_TYPES = (
    "int4",
    "int4",
    "int8",
    "numeric",
    "text",
    "text",
    "timestamp",
    "text",
    "text",
    "text",
)


@contextmanager
def _binary_copy(connection, table: str, columns: str, types: tuple[str, ...]):
    """COPY FROM STDIN in binary format: the server stores the values the driver already
    has as numbers and timestamps, instead of parsing text for each one."""
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        yield copy


# After the COPY straight into transactions, what _CATEGORIES_FROM_STAGING does before
# the INSERT: the rollup trigger (at the end of the COPY) has given each name without a
# record one, of the kind by its rows' sign; the names that had none before the COPY get
# the kind the import chose (else by the sign of the stored rows of that name); as on
# the staged path, only a stored row makes a category (not a dropped repeat of a bank id).
_CATEGORIES_AFTER_COPY = """
INSERT INTO categories (user_id, name, kind)
SELECT :user_id, name, kind
FROM unnest(CAST(:names AS text[]), CAST(:kinds AS text[])) AS new (name, kind)
ORDER BY name
ON CONFLICT (user_id, name) DO UPDATE SET kind = EXCLUDED.kind
WHERE categories.kind <> EXCLUDED.kind
"""


def _copy_into_fresh_account(
    connection, rows: Iterable[NewTransaction], *, user_id: int, account_id: int, import_id
) -> InsertCounts:
    """Rows into an account with no stored or removed keys: one COPY into transactions,
    keyed as they stream by (FileKeys). The caller holds the ledger lock."""
    had_record = set(
        connection.execute(
            text("SELECT name FROM categories WHERE user_id = :user_id"), {"user_id": user_id}
        ).scalars()
    )
    keys = FileKeys()
    named: dict[str, list] = {}  # category -> [the least kind chosen, sum of amounts]
    total = inserted = 0
    with _binary_copy(connection, "transactions", _COPIED_COLUMNS, _COPIED_TYPES) as copy:
        for row in rows:
            total += 1
            dedup_key = keys.key(row)
            if dedup_key is None:
                continue  # the bank's id again: the file's first row with it is kept
            tally = named.get(row.category)
            if tally is None:
                named[row.category] = [row.category_kind, row.amount]
            else:
                kind = row.category_kind
                if kind is not None and (tally[0] is None or kind < tally[0]):
                    tally[0] = kind
                tally[1] += row.amount
            copy.write_row(
                (
                    user_id,
                    account_id,
                    import_id,
                    row.amount,
                    row.category,
                    row.category_source,
                    row.timestamp,
                    row.description,
                    row.notes,
                    dedup_key,
                )
            )
            inserted += 1
    new = sorted(name for name in named if name not in had_record)
    if new:
        kinds = [named[name][0] or ("income" if named[name][1] < 0 else "spending") for name in new]
        connection.execute(
            text(_CATEGORIES_AFTER_COPY), {"user_id": user_id, "names": new, "kinds": kinds}
        )
    return InsertCounts(inserted=inserted, total=total)


@contextmanager
def local_settings(connection, settings: dict[str, str]) -> Iterator[None]:
    """Transaction-local settings for the statements inside, then the previous values.
    When the statements fail the transaction is aborted (no statement runs until the
    rollback, which undoes the settings too), so the error goes on unmasked."""
    previous = {
        name: connection.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar()
        for name in settings
    }
    set_config = text("SELECT set_config(:name, :value, true)")
    for name, value in settings.items():
        if name == "statement_timeout" and previous[name] == "0":
            continue  # no timeout at all is already enough
        connection.execute(set_config, {"name": name, "value": value})
    yield
    for name, value in previous.items():
        connection.execute(set_config, {"name": name, "value": value})


def _stage(connection, rows: Iterable[NewTransaction]) -> int:
    connection.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS import_staging ("
            "line_no bigint, ts timestamp, amount numeric(12, 2), "
            "category text, category_kind text, category_source text, "
            'description text, notes text, key_base text COLLATE "C"'
            ") ON COMMIT DELETE ROWS"
        )
    )
    connection.execute(text("TRUNCATE import_staging"))
    total = 0
    with _binary_copy(connection, "import_staging", _STAGING_COLUMNS, _STAGING_TYPES) as copy:
        for row in rows:
            copy.write_row(
                (
                    row.line_no,
                    row.timestamp,
                    row.amount,
                    row.category,
                    row.category_kind,
                    row.category_source,
                    row.description,
                    row.notes,
                    dedup_base(row),
                )
            )
            total += 1
    return total

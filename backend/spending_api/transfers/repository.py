"""SQL for transfer pairs; every function is scoped to the user.

A pair holds while it still looks like one: money out of one account, the same amount
in to another within PAIRING_DAYS, both sides in a transfer-kind category. An edit that
breaks that (another kind of category, a manual side's new amount or date) unlinks the
pair, and deleting a side unlinks it first; an unlinked side the user did not set goes
back to its category before pairing (or, when that category is gone, Uncategorized or
Uncategorized income by its sign).

Every write that pairs, unlinks or names categories of the user takes the user's ledger
lock first (lock_ledger): two imports into two accounts then pair one after the other,
the second seeing the first's rows, and a category cannot go while an import writes it.

Pairing is set-based: each round links the candidate pairs that are each other's best
(nearest in time, then lowest ids); with a strict order on the candidates, repeating
rounds until none is left gives the same one-to-one pairs as taking them nearest first.
"""

from contextlib import nullcontext

from sqlalchemy import text
from sqlalchemy.orm import Session

from spending_api.categories.defaults import (
    CARD_PAYMENT,
    TRANSFER,
    UNCATEGORIZED,
    UNCATEGORIZED_INCOME,
)
from spending_api.transactions.repository import BULK_SETTINGS, lock_ledger, local_settings

PAIRING_DAYS = 4
# Pairs linked per round are disjoint; a few rounds settle even long chains of equal
# amounts. The bound only keeps a pathological file from looping for long.
MAX_ROUNDS = 50


def _candidates_from(side: str, scope: str) -> str:
    """Candidate pairs whose `side` ('o' or 'i') is a row of the import (`scope`
    import_id) or of the account (account_id); the other side is found through the
    (user_id, timestamp) index (the days around it; the index holds the amount), and pairs
    already made through one hashed list, whatever the planner's statistics say about a
    table that just grew."""
    other = "i" if side == "o" else "o"
    return f"""
    SELECT o.id AS out_id, i.id AS in_id, o.category AS out_category, i.category AS in_category,
           abs(extract(epoch FROM o."timestamp" - i."timestamp")) AS gap
    FROM transactions AS {side}
    JOIN transactions AS {other}
      ON {other}.user_id = :user_id AND {other}.amount = -{side}.amount
     AND {other}.account_id <> {side}.account_id
     AND {other}."timestamp" BETWEEN {side}."timestamp" - interval '{PAIRING_DAYS} days'
                                 AND {side}."timestamp" + interval '{PAIRING_DAYS} days'
    WHERE {side}.{scope} = :scope_id AND {side}.user_id = :user_id AND o.amount > 0
      AND o.category_source <> 'user' AND i.category_source <> 'user'
      AND o.id NOT IN (SELECT out_transaction_id FROM transfer_pairs WHERE user_id = :user_id)
      AND i.id NOT IN (SELECT in_transaction_id FROM transfer_pairs WHERE user_id = :user_id)
    """


def _pair_round(scope: str) -> str:
    """Money out (amount > 0) in one account and the same amount in to another account of
    the user within PAIRING_DAYS, neither side paired yet nor categorized by the user; one
    side is a row of the import (or account) just stored (two branches, so each can use
    its index; both sides of one pair are never in one import: an import is one account).
    Each round links the candidates that are each other's best."""
    return f"""
WITH candidates AS ({_candidates_from("o", scope)} UNION ALL {_candidates_from("i", scope)}),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY out_id ORDER BY gap, in_id) AS out_rank,
           row_number() OVER (PARTITION BY in_id ORDER BY gap, out_id) AS in_rank
    FROM candidates
)
INSERT INTO transfer_pairs
    (user_id, out_transaction_id, in_transaction_id, out_previous_category, in_previous_category)
SELECT :user_id, out_id, in_id, out_category, in_category
FROM ranked WHERE out_rank = 1 AND in_rank = 1
ORDER BY out_id
RETURNING id
"""


_PAIR_ROUND = {scope: _pair_round(scope) for scope in ("import_id", "account_id")}
_ENSURE_CATEGORIES = """
INSERT INTO categories (user_id, name, kind)
VALUES (:user_id, :transfer, 'transfer'), (:user_id, :card_payment, 'transfer')
ON CONFLICT (user_id, name) DO NOTHING
"""
# Both sides move to "Transfer", or "Credit card payment" when money goes in to a card;
# a side already in a transfer category of its own (the bank's or a rule's "Savings")
# keeps it.
_CATEGORIZE_PAIRS = """
UPDATE transactions AS t
SET category = sides.category
FROM (
    SELECT unnest(ARRAY[p.out_transaction_id, p.in_transaction_id]) AS id,
           CASE WHEN a.kind = 'credit_card' THEN :card_payment ELSE :transfer END AS category
    FROM transfer_pairs AS p
    JOIN transactions AS money_in ON money_in.id = p.in_transaction_id
    JOIN accounts AS a ON a.id = money_in.account_id
    WHERE p.user_id = :user_id AND p.id = ANY(:pair_ids)
) AS sides
WHERE t.id = sides.id AND t.user_id = :user_id
  AND NOT EXISTS (
      SELECT 1 FROM categories AS c
      WHERE c.user_id = t.user_id AND c.name = t.category AND c.kind = 'transfer'
        AND c.name NOT IN (:transfer, :card_payment)
  )
"""
_ACCOUNT_COUNT = "SELECT count(*) FROM accounts WHERE user_id = :user_id"


# Above this many new rows, a round hash-joins them with the user's rows instead of one
# index probe per row: the plan a table just grown by the import would not get from its
# statistics (not analyzed yet) on its own.
HASH_JOIN_ROWS = 2000


def pair_transfers(
    session: Session,
    *,
    user_id: int,
    new_rows: int,
    import_id: int | None = None,
    account_id: int | None = None,
) -> int:
    """Link the `new_rows` rows of the import (or, for rows stored without one, of the
    account) with their other sides in the user's other accounts; the number of pairs
    linked. Under the user's ledger lock: what a concurrent import into another account
    stored is committed, and paired, before these rows are."""
    if (import_id is None) == (account_id is None):
        raise ValueError("give either import_id or account_id")
    if new_rows == 0:
        return 0
    lock_ledger(session, user_id=user_id)
    if session.scalar(text(_ACCOUNT_COUNT), {"user_id": user_id}) < 2:
        return 0  # nothing to pair with (a large import pays nothing)
    scope = "import_id" if import_id is not None else "account_id"
    params = {"user_id": user_id, "scope_id": import_id if account_id is None else account_id}
    pair_ids: list[int] = []
    large = new_rows > HASH_JOIN_ROWS
    # A large import's pairing gets the import's own room (time, sort memory) and hash joins.
    settings = {**BULK_SETTINGS, "enable_nestloop": "off"} if large else None
    with local_settings(session.connection(), settings) if large else nullcontext():
        for _ in range(MAX_ROUNDS):
            linked = session.scalars(text(_PAIR_ROUND[scope]), params).all()
            if not linked:
                break
            pair_ids.extend(linked)
        if pair_ids:
            names = {"transfer": TRANSFER, "card_payment": CARD_PAYMENT}
            session.execute(text(_ENSURE_CATEGORIES), {"user_id": user_id, **names})
            session.execute(
                text(_CATEGORIZE_PAIRS), {"user_id": user_id, "pair_ids": pair_ids, **names}
            )
    return len(pair_ids)


_SIDE = (
    "{t}.id AS {t}_id, {t}.account_id AS {t}_account_id, {t}.amount AS {t}_amount, "
    '{t}.category AS {t}_category, {t}c.kind AS {t}_kind, {t}."timestamp" AS {t}_timestamp, '
    "{t}.description AS {t}_description, {t}.notes AS {t}_notes, "
    "{t}.category_source AS {t}_category_source, {t}.suggested_category AS {t}_suggested, "
    "{t}.suggestion_confidence AS {t}_suggestion_confidence"
)
_LIST = f"""
SELECT p.id, {_SIDE.format(t="o")}, {_SIDE.format(t="i")}
FROM transfer_pairs AS p
JOIN transactions AS o ON o.id = p.out_transaction_id
JOIN transactions AS i ON i.id = p.in_transaction_id
LEFT JOIN categories AS oc ON oc.user_id = o.user_id AND oc.name = o.category
LEFT JOIN categories AS ic ON ic.user_id = i.user_id AND ic.name = i.category
WHERE p.user_id = :user_id
ORDER BY o."timestamp" DESC, p.id DESC
"""


def list_pairs(session: Session, *, user_id: int) -> list:
    """The user's pairs, newest first: one row each, columns o_* and i_* for the sides."""
    return list(session.execute(text(_LIST), {"user_id": user_id}).mappings())


# A side the user re-categorized since keeps the user's choice, and so does a side
# {kept} selects (one a rule or a category change just moved); a category gone since
# pairing gives way to the uncategorized one of the side's sign.
_RESTORE = """
UPDATE transactions AS t
SET category = CASE
        WHEN EXISTS (
            SELECT 1 FROM categories AS c WHERE c.user_id = t.user_id AND c.name = sides.category
        ) THEN sides.category
        WHEN t.amount < 0 THEN :uncategorized_income
        ELSE :uncategorized
    END
FROM (
    SELECT unnest(ARRAY[p.out_transaction_id, p.in_transaction_id]) AS id,
           unnest(ARRAY[p.out_previous_category, p.in_previous_category]) AS category
    FROM transfer_pairs AS p
    WHERE p.user_id = :user_id AND p.id = ANY(:pair_ids)
) AS sides
WHERE t.id = sides.id AND t.user_id = :user_id AND t.category_source <> 'user'
  AND NOT ({kept})
"""
_PICK = "SELECT p.id FROM transfer_pairs AS p WHERE p.user_id = :user_id AND {which}"
_DELETE = "DELETE FROM transfer_pairs WHERE user_id = :user_id AND id = ANY(:pair_ids)"
_OF_PAIR = "p.id = :pair_id"


def _of_rows_with(column: str) -> str:
    """Pairs with a side whose `column` (import_id, account_id) is the parameter of that name."""
    return (
        "p.id IN (SELECT p.id FROM transfer_pairs AS p JOIN transactions AS t"
        f" ON t.id = p.out_transaction_id WHERE t.{column} = :{column}"
        " UNION ALL SELECT p.id FROM transfer_pairs AS p JOIN transactions AS t"
        f" ON t.id = p.in_transaction_id WHERE t.{column} = :{column})"
    )


_OF_TRANSACTIONS = (
    "(p.out_transaction_id = ANY(:transaction_ids) OR p.in_transaction_id = ANY(:transaction_ids))"
)
_IN_CATEGORY = "(o.category = :category OR i.category = :category)"


def _broken(of: str) -> str:
    """Pairs `of` selects (o, i: the sides) that no longer look like one (what pairing
    would link, both sides in a transfer-kind category)."""
    return f"""p.id IN (
    SELECT p.id FROM transfer_pairs AS p
    JOIN transactions AS o ON o.id = p.out_transaction_id
    JOIN transactions AS i ON i.id = p.in_transaction_id
    LEFT JOIN categories AS oc ON oc.user_id = o.user_id AND oc.name = o.category
    LEFT JOIN categories AS ic ON ic.user_id = i.user_id AND ic.name = i.category
    WHERE p.user_id = :user_id AND {of}
      AND NOT (
          o.amount > 0 AND i.amount = -o.amount AND o.account_id <> i.account_id
          AND i."timestamp" BETWEEN o."timestamp" - interval '{PAIRING_DAYS} days'
                                AND o."timestamp" + interval '{PAIRING_DAYS} days'
          AND oc.kind IS NOT DISTINCT FROM 'transfer' AND ic.kind IS NOT DISTINCT FROM 'transfer'
      )
)"""


_BROKEN = {"transactions": _broken(_OF_TRANSACTIONS), "category": _broken(_IN_CATEGORY)}
# Which sides keep the category they are in when their pair is unlinked.
_KEPT = {
    "none": "false",
    "transactions": "t.id = ANY(:transaction_ids)",
    "category": "t.category = :category",
}
_DEFAULTS = {"uncategorized": UNCATEGORIZED, "uncategorized_income": UNCATEGORIZED_INCOME}


def _unlink(session: Session, which: str, params: dict, *, kept: str = "none") -> int:
    """Unlink the pairs `which` selects (chosen once, before any side changes), their
    sides back as _RESTORE says (but those _KEPT[kept] selects); how many."""
    pair_ids = list(session.scalars(text(_PICK.format(which=which)), params))
    if not pair_ids:
        return 0
    chosen = {"user_id": params["user_id"], "pair_ids": pair_ids}
    restore = _RESTORE.format(kept=_KEPT[kept])
    session.execute(text(restore), {**params, **chosen, **_DEFAULTS})
    return session.execute(text(_DELETE), chosen).rowcount


def unlink_pair(session: Session, *, user_id: int, pair_id: int) -> bool:
    """Unlink the pair, both sides back in their previous categories."""
    lock_ledger(session, user_id=user_id)
    return _unlink(session, _OF_PAIR, {"user_id": user_id, "pair_id": pair_id}) > 0


def unlink_pairs_of_import(session: Session, *, user_id: int, import_id: int) -> None:
    """Unlink every pair a row of the import is in (before the import is deleted)."""
    lock_ledger(session, user_id=user_id)
    _unlink(session, _of_rows_with("import_id"), {"user_id": user_id, "import_id": import_id})


def unlink_pairs_of_account(session: Session, *, user_id: int, account_id: int) -> None:
    """Unlink every pair a row of the account is in (before the account goes with its
    transactions); the caller holds the ledger lock, taken before it locked the account."""
    _unlink(session, _of_rows_with("account_id"), {"user_id": user_id, "account_id": account_id})


def unlink_pairs_of(session: Session, *, user_id: int, transaction_ids: list[int]) -> int:
    """Unlink every pair these transactions are in (before they are deleted); the caller
    holds the ledger lock. How many were unlinked."""
    params = {"user_id": user_id, "transaction_ids": list(transaction_ids)}
    return _unlink(session, _OF_TRANSACTIONS, params)


def unlink_broken_pairs(
    session: Session, *, user_id: int, transaction_ids: list[int], keep_categories: bool = False
) -> int:
    """After an edit of these transactions: unlink their pairs that are no longer one (a
    side moved to a category that is not a transfer, or a manual side's amount or date no
    longer matches); the caller holds the ledger lock. With `keep_categories` these
    transactions keep the categories they now have (a rule run's, which is not the
    user's), only their other sides go back. How many were unlinked."""
    params = {"user_id": user_id, "transaction_ids": list(transaction_ids)}
    kept = "transactions" if keep_categories else "none"
    return _unlink(session, _BROKEN["transactions"], params, kept=kept)


def unlink_broken_pairs_in(session: Session, *, user_id: int, category: str) -> int:
    """After a category change (its kind, or a merge into it): unlink the pairs with a
    side in the category that are no longer one; the sides in it keep it, the other sides
    go back. The caller holds the ledger lock. How many were unlinked."""
    params = {"user_id": user_id, "category": category}
    return _unlink(session, _BROKEN["category"], params, kept="category")

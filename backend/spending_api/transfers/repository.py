"""SQL for transfer pairs; every function is scoped to the user.

Pairing is set-based: each round links the candidate pairs that are each other's best
(nearest in time, then lowest ids); with a strict order on the candidates, repeating
rounds until none is left gives the same one-to-one pairs as taking them nearest first.
"""

from contextlib import nullcontext

from sqlalchemy import text
from sqlalchemy.orm import Session

from spending_api.categories.defaults import CARD_PAYMENT, TRANSFER
from spending_api.transactions.repository import BULK_SETTINGS, local_settings

PAIRING_DAYS = 4
# Pairs linked per round are disjoint; a few rounds settle even long chains of equal
# amounts. The bound only keeps a pathological file from looping for long.
MAX_ROUNDS = 50


def _candidates_from(side: str) -> str:
    """Candidate pairs whose `side` ('o' or 'i') is a row of the import; the other side is
    found through the (user_id, amount) index, and pairs already made through one hashed
    list, whatever the planner's statistics say about a table that just grew."""
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
    WHERE {side}.import_id = :import_id AND {side}.user_id = :user_id AND o.amount > 0
      AND o.category_source <> 'user' AND i.category_source <> 'user'
      AND o.id NOT IN (SELECT out_transaction_id FROM transfer_pairs WHERE user_id = :user_id)
      AND i.id NOT IN (SELECT in_transaction_id FROM transfer_pairs WHERE user_id = :user_id)
    """


# Money out (amount > 0) in one account and the same amount in to another account of the
# user within PAIRING_DAYS, neither side paired yet nor categorized by the user; one side
# is a row of the import just stored (two branches, so each can use the import's index;
# both sides of one pair are never in one import: an import is one account).
_CANDIDATES = f"""
candidates AS ({_candidates_from("o")} UNION ALL {_candidates_from("i")}),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY out_id ORDER BY gap, in_id) AS out_rank,
           row_number() OVER (PARTITION BY in_id ORDER BY gap, out_id) AS in_rank
    FROM candidates
)
"""
_PAIR_ROUND = f"""
WITH {_CANDIDATES}
INSERT INTO transfer_pairs
    (user_id, out_transaction_id, in_transaction_id, out_previous_category, in_previous_category)
SELECT :user_id, out_id, in_id, out_category, in_category
FROM ranked WHERE out_rank = 1 AND in_rank = 1
ORDER BY out_id
RETURNING id
"""
_ENSURE_CATEGORIES = """
INSERT INTO categories (user_id, name, kind)
VALUES (:user_id, :transfer, 'transfer'), (:user_id, :card_payment, 'transfer')
ON CONFLICT (user_id, name) DO NOTHING
"""
# Both sides move to "Transfer", or "Credit card payment" when money goes in to a card.
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
"""
_ACCOUNT_COUNT = "SELECT count(*) FROM accounts WHERE user_id = :user_id"


# Above this many new rows, a round hash-joins them with the user's rows instead of one
# index probe per row: the plan a table just grown by the import would not get from its
# statistics (not analyzed yet) on its own.
HASH_JOIN_ROWS = 2000


def pair_transfers(session: Session, *, user_id: int, import_id: int, new_rows: int) -> int:
    """Link the import's `new_rows` rows with their other sides in the user's other
    accounts; the number of pairs linked."""
    if new_rows == 0 or session.scalar(text(_ACCOUNT_COUNT), {"user_id": user_id}) < 2:
        return 0  # nothing new, or nothing to pair with (a large import pays nothing)
    params = {"user_id": user_id, "import_id": import_id}
    pair_ids: list[int] = []
    large = new_rows > HASH_JOIN_ROWS
    # A large import's pairing gets the import's own room (time, sort memory) and hash joins.
    settings = {**BULK_SETTINGS, "enable_nestloop": "off"} if large else None
    with local_settings(session.connection(), settings) if large else nullcontext():
        for _ in range(MAX_ROUNDS):
            linked = session.scalars(text(_PAIR_ROUND), params).all()
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


# A side the user re-categorized since keeps the user's choice.
_RESTORE = """
UPDATE transactions AS t
SET category = sides.category
FROM (
    SELECT unnest(ARRAY[p.out_transaction_id, p.in_transaction_id]) AS id,
           unnest(ARRAY[p.out_previous_category, p.in_previous_category]) AS category
    FROM transfer_pairs AS p
    WHERE p.user_id = :user_id AND {which}
) AS sides
WHERE t.id = sides.id AND t.user_id = :user_id AND t.category_source <> 'user'
"""
_DELETE = "DELETE FROM transfer_pairs AS p WHERE p.user_id = :user_id AND {which}"
_OF_PAIR = "p.id = :pair_id"
_OF_IMPORT = (
    "p.id IN (SELECT p.id FROM transfer_pairs AS p JOIN transactions AS t"
    " ON t.id = p.out_transaction_id WHERE t.import_id = :import_id"
    " UNION ALL SELECT p.id FROM transfer_pairs AS p JOIN transactions AS t"
    " ON t.id = p.in_transaction_id WHERE t.import_id = :import_id)"
)


def unlink_pair(session: Session, *, user_id: int, pair_id: int) -> bool:
    """Unlink the pair, both sides back in their previous categories."""
    params = {"user_id": user_id, "pair_id": pair_id}
    session.execute(text(_RESTORE.format(which=_OF_PAIR)), params)
    return session.execute(text(_DELETE.format(which=_OF_PAIR)), params).rowcount > 0


def unlink_pairs_of_import(session: Session, *, user_id: int, import_id: int) -> None:
    """Unlink every pair a row of the import is in (before the import is deleted)."""
    params = {"user_id": user_id, "import_id": import_id}
    session.execute(text(_RESTORE.format(which=_OF_IMPORT)), params)
    session.execute(text(_DELETE.format(which=_OF_IMPORT)), params)

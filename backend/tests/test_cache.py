"""The answer cache: bounded, per user, and never older than the user's data."""

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from spending_api.cache import ENTRY_OVERHEAD_BYTES, CachedAnswer, ResponseCache
from spending_api.main import create_app
from spending_api.models import User

ROWS = [
    ("2025-03-01T09:00", "10.00", "Groceries", "Market"),
    ("2025-03-02T12:30", "4.50", "Dining out", "Cafe"),
]


def answer(size: int) -> CachedAnswer:
    return CachedAnswer(b"x" * (size - ENTRY_OVERHEAD_BYTES))


def test_the_cache_keeps_the_recently_used_answers_within_its_byte_budget():
    cache = ResponseCache(max_bytes=8 * 1000)
    for index in range(8):
        cache.put((1, 0, "/metrics", str(index)), answer(1000))
    assert len(cache) == 8 and cache.size_bytes == 8000

    assert cache.get((1, 0, "/metrics", "0")) is not None  # now the most recently used
    cache.put((1, 0, "/metrics", "new"), answer(1000))

    assert len(cache) == 8 and cache.size_bytes == 8000
    assert cache.get((1, 0, "/metrics", "1")) is None  # the least recently used went
    assert cache.get((1, 0, "/metrics", "0")) is not None
    assert (cache.hits, cache.misses) == (2, 1)


def test_an_answer_larger_than_an_eighth_of_the_budget_is_not_kept():
    cache = ResponseCache(max_bytes=8000)
    cache.put((1, 0, "/transactions", ""), answer(1001))
    assert len(cache) == 0 and cache.size_bytes == 0


def test_replacing_an_entry_counts_its_bytes_once():
    cache = ResponseCache(max_bytes=8000)
    key = (1, 0, "/metrics", "")
    cache.put(key, answer(900))
    cache.put(key, answer(700))
    assert len(cache) == 1 and cache.size_bytes == 700


def data_version(database, user_id: int) -> int:
    with database.session() as session:
        return session.scalar(select(User.data_version).where(User.id == user_id))


def test_every_change_to_a_users_transactions_bumps_only_that_users_version(
    database, make_user, add_transactions
):
    alice, bob = make_user(), make_user()
    assert data_version(database, alice.id) == 0

    add_transactions(alice, ROWS)
    after_insert = data_version(database, alice.id)
    assert after_insert > 0

    with database.session() as session:
        session.execute(
            text("UPDATE transactions SET category = 'Rent' WHERE user_id = :u"), {"u": alice.id}
        )
        session.commit()
    after_update = data_version(database, alice.id)
    assert after_update > after_insert

    with database.session() as session:
        session.execute(text("DELETE FROM transactions WHERE user_id = :u"), {"u": alice.id})
        session.commit()
    assert data_version(database, alice.id) > after_update

    assert data_version(database, bob.id) == 0


def test_an_unchanged_query_is_answered_from_the_cache(
    client, make_user, add_transactions, auth_headers
):
    user = make_user()
    add_transactions(user, ROWS)
    cache = client.app.state.response_cache

    first = client.get("/metrics", headers=auth_headers(user))
    hits = cache.hits
    second = client.get("/metrics", headers=auth_headers(user))

    assert cache.hits == hits + 1
    assert second.status_code == 200 and second.content == first.content
    assert second.headers["content-type"] == "application/json"


def test_the_key_is_the_validated_parameters_not_the_raw_query_string(
    client, make_user, add_transactions, auth_headers
):
    user = make_user()
    add_transactions(user, ROWS)
    cache = client.app.state.response_cache
    first = client.get("/metrics?start=2025-03-01&granularity=week", headers=auth_headers(user))
    entries = len(cache)
    # Reordered, defaulted or unknown parameters ask the same question: one entry.
    for query in ("granularity=week&start=2025-03-01", "start=2025-03-01&granularity=week&x=1"):
        again = client.get(f"/metrics?{query}", headers=auth_headers(user))
        assert again.content == first.content
    assert len(cache) == entries
    other = client.get("/metrics?start=2025-03-02&granularity=week", headers=auth_headers(user))
    assert other.json()["transaction_count"] == 1 and len(cache) == entries + 1


@pytest.mark.parametrize("path", ["/metrics", "/transactions", "/categories"])
def test_a_cached_answer_is_never_served_after_the_data_changed(
    client, make_user, add_transactions, auth_headers, path
):
    user = make_user()
    add_transactions(user, ROWS[:1])
    before = client.get(path, headers=auth_headers(user))
    assert client.get(path, headers=auth_headers(user)).content == before.content  # cached

    add_transactions(user, ROWS[1:])
    after = client.get(path, headers=auth_headers(user))
    assert after.content != before.content
    if path == "/metrics":
        assert Decimal(str(after.json()["total_spend"])) == Decimal("14.50")
        assert after.json()["transaction_count"] == 2
    if path == "/transactions":
        assert after.headers["X-Total-Count"] == "2"

    # A delete through the API changes the answer too.
    listed = client.get("/transactions", headers=auth_headers(user)).json()
    deleted = client.delete(f"/transactions/{listed[0]['id']}", headers=auth_headers(user))
    assert deleted.status_code == 204
    assert client.get(path, headers=auth_headers(user)).content != after.content


def test_two_users_asking_the_same_question_get_their_own_answers(
    client, make_user, add_transactions, auth_headers
):
    alice, bob = make_user(), make_user()
    add_transactions(alice, ROWS)
    add_transactions(bob, ROWS[:1])
    for _ in range(2):  # the second round comes from the cache
        assert client.get("/metrics", headers=auth_headers(alice)).json()["transaction_count"] == 2
        assert client.get("/metrics", headers=auth_headers(bob)).json()["transaction_count"] == 1


def test_with_the_cache_turned_off_every_answer_is_computed(
    settings, database, make_user, add_transactions, auth_headers
):
    app = create_app(
        settings=settings.model_copy(update={"response_cache_mb": 0}), database=database
    )
    user = make_user()
    add_transactions(user, ROWS[:1])
    with TestClient(app) as client:
        assert app.state.response_cache is None
        assert client.get("/metrics", headers=auth_headers(user)).json()["transaction_count"] == 1
        add_transactions(user, ROWS[1:])
        assert client.get("/metrics", headers=auth_headers(user)).json()["transaction_count"] == 2

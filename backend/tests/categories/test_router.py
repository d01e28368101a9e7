"""GET/POST/PATCH/DELETE /categories and the merge: validation, conflicts, and renames,
merges and deletes that move every transaction while /metrics, the rollup and the
cached answers stay exact."""

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from spending_api import errors
from spending_api.categories.defaults import DEFAULT_CATEGORIES
from spending_api.models import Transaction, TransferPair
from spending_api.transactions.repository import NewTransaction, insert_transactions

FIELDS = {"id", "name", "kind", "count", "colour", "parent_id"}
# Spending categories only, so /metrics counts every row whatever the kinds' rules.
SPENDING = ["Groceries", "Dining out", "Transport", "Shopping", "Café ☕"]


@pytest.fixture
def alice(new_user):
    return new_user("alice")


@pytest.fixture
def headers(alice, auth_headers):
    return auth_headers(alice)


def random_rows(seed: int, count: int = 120) -> list[tuple[datetime, Decimal, str]]:
    rng = random.Random(seed)
    first = datetime(2024, 1, 28, 8, 0)
    rows = []
    for _ in range(count):
        moment = first + timedelta(days=rng.randrange(90), minutes=rng.randrange(24 * 60))
        cents = rng.choice([rng.randrange(1, 30000), rng.randrange(-4000, 0), 1])
        rows.append((moment, Decimal(cents).scaleb(-2), rng.choice(SPENDING)))
    return rows


def store(database, user, rows, account_id=None) -> None:
    new = [
        NewTransaction(moment, amount, category, f"row {line}", line)
        for line, (moment, amount, category) in enumerate(rows, start=1)
    ]
    with database.session() as session:
        insert_transactions(session, user_id=user.id, rows=new, account_id=account_id)
        session.commit()


def by_name(client, headers) -> dict[str, dict]:
    response = client.get("/categories", headers=headers)
    assert response.status_code == 200
    return {c["name"]: c for c in response.json()}


def totals(rows) -> dict[str, Decimal]:
    """The independent computation: each category's sum, straight from the rows."""
    summed = defaultdict(Decimal)
    for _, amount, category in rows:
        summed[category] += amount
    return dict(summed)


def assert_metrics_match(client, headers, rows, step: str) -> None:
    metrics = client.get("/metrics", headers=headers).json()
    expected = totals(rows)
    got = {c["category"]: Decimal(str(c["total"])) for c in metrics["top_categories"]}
    assert got == expected, step
    assert Decimal(str(metrics["total_spend"])) == sum(expected.values()), step
    assert metrics["transaction_count"] == len(rows), step
    counts = Counter(category for _, _, category in rows)
    listed = by_name(client, headers)
    assert {n: c["count"] for n, c in listed.items() if c["count"]} == dict(counts), step


def stored_categories(database, user) -> list[str]:
    with database.session() as session:
        statement = select(Transaction.category).where(Transaction.user_id == user.id)
        return sorted(session.scalars(statement))


def test_a_new_user_lists_the_default_set_by_name(client, headers):
    response = client.get("/categories", headers=headers)
    assert response.status_code == 200
    listed = response.json()
    assert all(set(c) == FIELDS for c in listed)
    assert [c["name"] for c in listed] == sorted((n for n, _ in DEFAULT_CATEGORIES), key=str.lower)
    assert {(c["name"], c["kind"]) for c in listed} == set(DEFAULT_CATEGORIES)
    assert all(c["count"] == 0 and c["colour"] is None and c["parent_id"] is None for c in listed)


def test_counts_are_transactions_per_category(client, headers, alice, database):
    rows = random_rows(1)
    store(database, alice, rows)
    listed = by_name(client, headers)
    assert listed["Café ☕"]["kind"] == "spending"  # created by the import, kind by sign
    assert_metrics_match(client, headers, rows, "imported")


def test_create_with_colour_and_parent(client, headers, alice, database):
    groceries = by_name(client, headers)["Groceries"]
    response = client.post(
        "/categories",
        json={
            "name": " Organic ",
            "kind": "spending",
            "colour": "#12abEF",
            "parent_id": groceries["id"],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "id": created["id"],
        "name": "Organic",
        "kind": "spending",
        "count": 0,
        "colour": "#12abEF",
        "parent_id": groceries["id"],
    }
    assert by_name(client, headers)["Organic"] == created
    bonus = client.post("/categories", json={"name": "Bonus", "kind": "income"}, headers=headers)
    assert bonus.status_code == 201 and bonus.json()["kind"] == "income"


@pytest.mark.parametrize(
    "body, named",
    [
        ({"name": "", "kind": "spending"}, "name"),
        ({"name": " \t ", "kind": "spending"}, "name"),
        ({"name": "x" * 101, "kind": "spending"}, "name"),
        ({"name": "a\x00b", "kind": "spending"}, "name"),
        ({"name": "Gym"}, "kind"),
        ({"name": "Gym", "kind": "expense"}, "kind"),
        ({"name": "Gym", "kind": "spending", "colour": "red"}, "colour"),
        ({"name": "Gym", "kind": "spending", "colour": "#12345"}, "colour"),
        ({"name": "Gym", "kind": "spending", "colour": "#gggggg"}, "colour"),
        ({"name": "Gym", "kind": "spending", "parent_id": 0}, "parent_id"),
        ({"name": "Gym", "kind": "spending", "count": 3}, "count"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(client, headers, body, named):
    response = client.post("/categories", json=body, headers=headers)
    assert response.status_code == 422
    assert named in response.text
    assert "Gym" not in by_name(client, headers)


def test_duplicate_names_are_409(client, headers):
    before = by_name(client, headers)
    for name in ("Groceries", "  Groceries "):
        response = client.post(
            "/categories", json={"name": name, "kind": "income"}, headers=headers
        )
        assert response.status_code == 409
        assert response.json() == {"detail": errors.CATEGORY_NAME_TAKEN}
    assert by_name(client, headers) == before


def test_rename_moves_every_transaction_suggestion_and_pair(
    client, headers, alice, database, assert_rollup_exact
):
    rows = random_rows(2)
    store(database, alice, rows)
    with database.session() as session:
        ids = session.scalars(
            select(Transaction.id).where(Transaction.user_id == alice.id).order_by(Transaction.id)
        ).all()
        session.execute(
            text("UPDATE transactions SET suggested_category = 'Dining out' WHERE id = ANY(:ids)"),
            {"ids": ids[:5]},
        )
        session.add(
            TransferPair(
                user_id=alice.id,
                out_transaction_id=ids[0],
                in_transaction_id=ids[1],
                out_previous_category="Dining out",
                in_previous_category="Groceries",
            )
        )
        session.commit()
    before = client.get("/metrics", headers=headers).json()
    listed = by_name(client, headers)  # cached now: the rename must show anyway
    dining = listed["Dining out"]

    response = client.patch(
        f"/categories/{dining['id']}", json={"name": "Restaurants"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**dining, "name": "Restaurants"}
    renamed = [(m, a, "Restaurants" if c == "Dining out" else c) for m, a, c in rows]
    assert_rollup_exact("after a rename")
    assert_metrics_match(client, headers, renamed, "after a rename")
    after = client.get("/metrics", headers=headers).json()
    assert after["total_spend"] == before["total_spend"]
    assert after["spend_over_time"] == before["spend_over_time"]
    assert "Dining out" not in by_name(client, headers)
    assert "Dining out" not in stored_categories(database, alice)
    old = client.get("/transactions", params={"category": "Dining out"}, headers=headers)
    new = client.get("/transactions", params={"category": "Restaurants"}, headers=headers)
    assert old.headers["X-Total-Count"] == "0"
    assert int(new.headers["X-Total-Count"]) == sum(c == "Dining out" for _, _, c in rows)
    with database.session() as session:
        suggested = session.scalars(
            select(Transaction.suggested_category).where(Transaction.id.in_(ids[:5]))
        ).all()
        pair = session.scalars(select(TransferPair)).one()
    assert suggested == ["Restaurants"] * 5
    assert (pair.out_previous_category, pair.in_previous_category) == ("Restaurants", "Groceries")


def test_rename_onto_an_existing_name_is_409_and_changes_nothing(client, headers, alice, database):
    rows = random_rows(3, count=30)
    store(database, alice, rows)
    listed = by_name(client, headers)
    response = client.patch(
        f"/categories/{listed['Transport']['id']}", json={"name": "Shopping "}, headers=headers
    )
    assert response.status_code == 409
    assert response.json() == {"detail": errors.CATEGORY_NAME_TAKEN}
    assert by_name(client, headers) == listed
    assert stored_categories(database, alice) == sorted(c for _, _, c in rows)


def test_patch_kind_colour_and_parent(client, headers):
    listed = by_name(client, headers)
    travel, health = listed["Travel"], listed["Health"]
    url = f"/categories/{travel['id']}"
    response = client.patch(
        url,
        json={"kind": "transfer", "colour": "#00ff00", "parent_id": health["id"]},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json() == {
        **travel,
        "kind": "transfer",
        "colour": "#00ff00",
        "parent_id": health["id"],
    }
    cleared = client.patch(url, json={"colour": None, "parent_id": None}, headers=headers)
    assert cleared.json() == {**travel, "kind": "transfer"}
    assert by_name(client, headers)["Travel"] == {**travel, "kind": "transfer"}
    for body in ({"kind": None}, {"name": None}, {"colour": "#fff"}, {"parent_id": -1}):
        assert client.patch(url, json=body, headers=headers).status_code == 422, body


def test_parents_never_make_a_loop(client, headers):
    listed = by_name(client, headers)
    a, b, c = (listed[n]["id"] for n in ("Travel", "Health", "Fees"))
    assert (
        client.patch(f"/categories/{b}", json={"parent_id": a}, headers=headers).status_code == 200
    )
    assert (
        client.patch(f"/categories/{c}", json={"parent_id": b}, headers=headers).status_code == 200
    )
    for child, parent in ((a, c), (a, b), (a, a)):
        response = client.patch(f"/categories/{child}", json={"parent_id": parent}, headers=headers)
        assert response.status_code == 409, (child, parent)
        assert response.json() == {"detail": errors.CATEGORY_PARENT_CYCLE}
    assert by_name(client, headers)["Travel"]["parent_id"] is None


def test_merge_moves_every_transaction_and_deletes_the_source(
    client, headers, alice, database, assert_rollup_exact
):
    rows = random_rows(4)
    store(database, alice, rows)
    listed = by_name(client, headers)
    source, target = listed["Café ☕"], listed["Dining out"]
    expected_count = source["count"] + target["count"]
    response = client.post(
        f"/categories/{source['id']}/merge", json={"into": target["id"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**target, "count": expected_count}
    merged = [(m, a, "Dining out" if c == "Café ☕" else c) for m, a, c in rows]
    assert_rollup_exact("after a merge")
    assert_metrics_match(client, headers, merged, "after a merge")
    moved = sum(a for _, a, c in rows if c in ("Café ☕", "Dining out"))
    top = client.get("/metrics", headers=headers).json()["top_categories"]
    assert Decimal(str(next(c["total"] for c in top if c["category"] == "Dining out"))) == moved
    assert "Café ☕" not in by_name(client, headers)
    gone = client.post(
        f"/categories/{source['id']}/merge", json={"into": target["id"]}, headers=headers
    )
    assert gone.status_code == 404 and gone.json() == {"detail": errors.CATEGORY_NOT_FOUND}


def test_merge_refusals(client, headers):
    listed = by_name(client, headers)
    fees = listed["Fees"]["id"]
    itself = client.post(f"/categories/{fees}/merge", json={"into": fees}, headers=headers)
    assert itself.status_code == 409
    assert itself.json() == {"detail": errors.CATEGORY_MERGE_INTO_ITSELF}
    nowhere = client.post(
        f"/categories/{fees}/merge", json={"into": fees + 10_000}, headers=headers
    )
    assert nowhere.status_code == 404
    assert nowhere.json() == {"detail": errors.TARGET_CATEGORY_NOT_FOUND}
    for body in ({}, {"into": 0}, {"into": "Fees"}, {"into": fees, "also": 1}):
        response = client.post(f"/categories/{fees}/merge", json=body, headers=headers)
        assert response.status_code == 422, body
    assert by_name(client, headers) == listed


def test_delete_unused_used_and_moved(client, headers, alice, database, assert_rollup_exact):
    rows = random_rows(5)
    store(database, alice, rows)
    listed = by_name(client, headers)
    # A default category like any other.
    assert client.delete(f"/categories/{listed['Fees']['id']}", headers=headers).status_code == 204
    used = client.delete(f"/categories/{listed['Transport']['id']}", headers=headers)
    assert used.status_code == 409 and used.json() == {"detail": errors.CATEGORY_IN_USE}
    assert_metrics_match(client, headers, rows, "after a refused delete")
    response = client.delete(
        f"/categories/{listed['Transport']['id']}",
        params={"move_to": listed["Shopping"]["id"]},
        headers=headers,
    )
    assert response.status_code == 204
    moved = [(m, a, "Shopping" if c == "Transport" else c) for m, a, c in rows]
    assert_rollup_exact("after a delete with move_to")
    assert_metrics_match(client, headers, moved, "after a delete with move_to")
    left = by_name(client, headers)
    assert "Fees" not in left and "Transport" not in left
    assert left["Shopping"]["count"] == listed["Shopping"]["count"] + listed["Transport"]["count"]
    missing = client.delete(
        f"/categories/{listed['Shopping']['id']}", params={"move_to": 2**31 - 1}, headers=headers
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": errors.TARGET_CATEGORY_NOT_FOUND}


def test_delete_clears_suggestions_of_the_deleted_category(client, headers, alice, database):
    store(database, alice, [(datetime(2024, 3, 1, 12), Decimal("5.00"), "Groceries")])
    with database.session() as session:
        session.execute(
            text("UPDATE transactions SET suggested_category = 'Fees', suggestion_confidence = 0.9")
        )
        session.commit()
    fees = by_name(client, headers)["Fees"]["id"]
    assert client.delete(f"/categories/{fees}", headers=headers).status_code == 204
    with database.session() as session:
        row = session.execute(
            select(Transaction.suggested_category, Transaction.suggestion_confidence)
        ).one()
    assert tuple(row) == (None, None)


@pytest.mark.parametrize("name", ["Uncategorized", "Uncategorized income"])
def test_the_fallback_categories_always_exist(client, headers, alice, database, name):
    listed = by_name(client, headers)
    fallback, other = listed[name]["id"], listed["Groceries"]["id"]
    other_kind = "transfer"
    for method, url, kwargs in (
        ("DELETE", f"/categories/{fallback}", {}),
        ("DELETE", f"/categories/{fallback}", {"params": {"move_to": other}}),
        ("POST", f"/categories/{fallback}/merge", {"json": {"into": other}}),
        ("PATCH", f"/categories/{fallback}", {"json": {"name": "Unsorted"}}),
        ("PATCH", f"/categories/{fallback}", {"json": {"kind": other_kind}}),
    ):
        response = client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 409, (method, kwargs)
        assert response.json() == {"detail": errors.CATEGORY_REQUIRED}
    assert by_name(client, headers) == listed
    # What does not take them away is allowed: a colour, a group, merging into them.
    assert (
        client.patch(
            f"/categories/{fallback}", json={"colour": "#999999"}, headers=headers
        ).status_code
        == 200
    )
    merged = client.post(f"/categories/{other}/merge", json={"into": fallback}, headers=headers)
    assert merged.status_code == 200


def test_another_users_categories_are_a_plain_404(
    client, alice, headers, new_user, auth_headers, database
):
    """Bob can neither change nor use Alice's categories, and cannot tell they exist; his
    own categories of the same names are his alone."""
    bob = new_user("bob")
    bob_headers = auth_headers(bob)
    store(database, alice, [(datetime(2024, 3, 1, 12), Decimal("7.00"), "Groceries")])
    store(database, bob, [(datetime(2024, 3, 2, 12), Decimal("3.00"), "Groceries")])
    alices = by_name(client, headers)
    bobs = by_name(client, bob_headers)
    never_used = max(c["id"] for c in [*alices.values(), *bobs.values()]) + 1000
    mine = bobs["Shopping"]["id"]
    for theirs in (alices["Groceries"]["id"], never_used):
        answers = [
            client.patch(f"/categories/{theirs}", json={"name": "Taken"}, headers=bob_headers),
            client.delete(f"/categories/{theirs}", headers=bob_headers),
            client.post(f"/categories/{theirs}/merge", json={"into": mine}, headers=bob_headers),
        ]
        assert [(r.status_code, r.json()) for r in answers] == [
            (404, {"detail": errors.CATEGORY_NOT_FOUND})
        ] * 3
        as_target = [
            client.post(f"/categories/{mine}/merge", json={"into": theirs}, headers=bob_headers),
            client.delete(f"/categories/{mine}", params={"move_to": theirs}, headers=bob_headers),
        ]
        assert [(r.status_code, r.json()) for r in as_target] == [
            (404, {"detail": errors.TARGET_CATEGORY_NOT_FOUND})
        ] * 2
        for url, body in (
            ("/categories", {"name": "Sub", "kind": "spending", "parent_id": theirs}),
        ):
            response = client.post(url, json=body, headers=bob_headers)
            assert (response.status_code, response.json()) == (
                404,
                {"detail": errors.PARENT_CATEGORY_NOT_FOUND},
            )
        response = client.patch(
            f"/categories/{mine}", json={"parent_id": theirs}, headers=bob_headers
        )
        assert (response.status_code, response.json()) == (
            404,
            {"detail": errors.PARENT_CATEGORY_NOT_FOUND},
        )
    assert by_name(client, headers) == alices
    # Bob renaming his Groceries leaves Alice's transactions where they are.
    renamed = client.patch(
        f"/categories/{bobs['Groceries']['id']}", json={"name": "Food"}, headers=bob_headers
    )
    assert renamed.status_code == 200
    assert stored_categories(database, alice) == ["Groceries"]
    assert stored_categories(database, bob) == ["Food"]
    assert by_name(client, headers)["Groceries"]["count"] == 1


def test_every_route_needs_a_token(client):
    for method, path in (
        ("GET", "/categories"),
        ("POST", "/categories"),
        ("PATCH", "/categories/1"),
        ("DELETE", "/categories/1"),
        ("POST", "/categories/1/merge"),
    ):
        assert client.request(method, path, json={"into": 2}).status_code == 401


def test_random_renames_merges_and_deletes_keep_every_figure_exact(
    client, alice, headers, new_user, auth_headers, database, assert_rollup_exact
):
    """A seeded sequence of renames, merges and deletes with move_to over rows in two
    accounts; a second user has categories of the same names. After every step the rollup
    equals the base table and both users' /metrics and counts equal a computation over the
    rows as the steps left them (Bob's never move)."""
    rng = random.Random(7)
    bob = new_user("bob")
    bob_headers = auth_headers(bob)
    card = client.post("/accounts", json={"name": "Card", "kind": "credit_card"}, headers=headers)
    alice_rows = random_rows(11, count=80)
    store(database, alice, alice_rows[:40])
    store(database, alice, alice_rows[40:], account_id=card.json()["id"])
    bob_rows = random_rows(12, count=40)
    store(database, bob, bob_rows)
    fresh = iter(f"Renamed {n}" for n in range(100))
    done = Counter()
    for step in range(12):
        used = sorted({c for _, _, c in alice_rows})
        ids = {n: c["id"] for n, c in by_name(client, headers).items()}
        action = rng.choice(["rename", "merge", "delete"] if len(used) > 2 else ["rename"])
        source = rng.choice(used)
        if action == "rename":
            new = next(fresh)
            response = client.patch(
                f"/categories/{ids[source]}", json={"name": new}, headers=headers
            )
            assert response.status_code == 200, response.text
        else:
            target = rng.choice([n for n in used if n != source])
            new = target
            if action == "merge":
                response = client.post(
                    f"/categories/{ids[source]}/merge", json={"into": ids[target]}, headers=headers
                )
                assert response.status_code == 200, response.text
            else:
                response = client.delete(
                    f"/categories/{ids[source]}", params={"move_to": ids[target]}, headers=headers
                )
                assert response.status_code == 204, response.text
        done[action] += 1
        alice_rows = [(m, a, new if c == source else c) for m, a, c in alice_rows]
        label = f"step {step}: {action} {source} -> {new}"
        assert_rollup_exact(label)
        assert_metrics_match(client, headers, alice_rows, label)
        assert_metrics_match(client, bob_headers, bob_rows, label)
    assert set(done) == {"rename", "merge", "delete"}


def rule_body(set_category: str, condition_categories: list[str]) -> dict:
    return {
        "name": "Coffee",
        "conditions": [
            {"type": "text", "field": "description", "operator": "contains", "value": "coffee"},
            {"type": "category", "categories": condition_categories},
        ],
        "actions": {"set_category": set_category},
    }


def stored_rule(client, headers) -> dict:
    [rule] = client.get("/rules", headers=headers).json()
    return {"set": rule["actions"]["set_category"], "when": rule["conditions"][1]["categories"]}


def test_rules_follow_renames_and_merges_and_keep_a_category_in_use(client, headers):
    listed = by_name(client, headers)
    body = rule_body("Dining out", ["Uncategorized", "Dining out", "Groceries"])
    assert client.post("/rules", json=body, headers=headers).status_code == 201
    dining = listed["Dining out"]["id"]
    assert client.patch(f"/categories/{dining}", json={"name": "Cafés"}, headers=headers).is_success
    assert stored_rule(client, headers) == {
        "set": "Cafés",
        "when": ["Uncategorized", "Cafés", "Groceries"],
    }
    # The rule sets it: deleting needs a category to move the rule to.
    refused = client.delete(f"/categories/{dining}", headers=headers)
    assert refused.status_code == 409 and refused.json() == {"detail": errors.CATEGORY_IN_USE}
    merged = client.delete(
        f"/categories/{dining}", params={"move_to": listed["Shopping"]["id"]}, headers=headers
    )
    assert merged.status_code == 204
    assert stored_rule(client, headers) == {
        "set": "Shopping",
        "when": ["Uncategorized", "Shopping", "Groceries"],
    }

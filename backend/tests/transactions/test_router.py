"""GET /transactions and DELETE /transactions/{id}."""

import pytest

from spending_api import errors

ROWS = [
    ("2024-01-31T23:59:59", "10.00", "Food", "Corner bakery"),
    ("2024-02-01T00:00:00", "25.50", "Travel", "Train ticket"),
    ("2024-02-29T12:00:00", "0.10", "Food", "Gum at the BAKERY"),
    ("2024-02-29T18:30:00", "0.20", "Fun", "Arcade 100% fun_time"),
    ("2024-03-15T09:00:00", "-5.00", "Food", "Refund: bakery"),
    ("2024-03-16T09:00:00", "120.00", "Rent", None),
]


@pytest.fixture
def alice(make_user, add_transactions):
    user = make_user("alice")
    add_transactions(user, ROWS)
    return user


def get(client, headers, **params):
    return client.get("/transactions", headers=headers, params=params)


def descriptions(response):
    return [row["description"] for row in response.json()]


def test_lists_newest_first_with_total_count(client, alice, auth_headers):
    response = get(client, auth_headers(alice))
    assert response.status_code == 200
    body = response.json()
    assert response.headers["X-Total-Count"] == str(len(ROWS))
    assert [row["timestamp"] for row in body] == sorted((r[0] for r in ROWS), reverse=True)
    assert set(body[0]) == {"id", "amount", "category", "timestamp", "description"}
    assert body[0]["amount"] == 120.0 and body[1]["amount"] == -5.0


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {"start": "2024-02-01", "end": "2024-02-29"},
            {"Train ticket", "Gum at the BAKERY", "Arcade 100% fun_time"},
        ),
        ({"end": "2024-01-31"}, {"Corner bakery"}),  # end covers the whole day
        ({"start": "2024-03-16"}, {None}),
        ({"category": ["Food"]}, {"Corner bakery", "Gum at the BAKERY", "Refund: bakery"}),
        ({"category": ["Fun", "Rent"]}, {"Arcade 100% fun_time", None}),
        (
            {"min_amount": "0.10", "max_amount": "10"},
            {"Corner bakery", "Gum at the BAKERY", "Arcade 100% fun_time"},
        ),
        ({"max_amount": "0"}, {"Refund: bakery"}),
        ({"q": "bakery"}, {"Corner bakery", "Gum at the BAKERY", "Refund: bakery"}),
        ({"q": "100%"}, {"Arcade 100% fun_time"}),  # % and _ are literal, not wildcards
        ({"q": "0% f"}, {"Arcade 100% fun_time"}),
        ({"q": "_"}, {"Arcade 100% fun_time"}),
        (
            {"q": "bakery", "category": ["Food"], "start": "2024-02-01"},
            {"Gum at the BAKERY", "Refund: bakery"},
        ),
    ],
)
def test_filters(client, alice, auth_headers, params, expected):
    response = get(client, auth_headers(alice), **params)
    assert response.status_code == 200, response.text
    assert set(descriptions(response)) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    "sort, key, reverse",
    [("amount", 1, False), ("-amount", 1, True), ("timestamp", 0, False)],
)
def test_sort(client, alice, auth_headers, sort, key, reverse):
    from decimal import Decimal

    response = get(client, auth_headers(alice), sort=sort)
    expected = sorted(ROWS, key=lambda r: Decimal(r[key]) if key == 1 else r[key], reverse=reverse)
    assert descriptions(response) == [r[3] for r in expected]


# Ties on purpose: the same text in another case, the same category, the same moment.
TEXT_SORT_ROWS = ROWS + [
    ("2024-03-16T09:00:00", "3.00", "food", "corner BAKERY"),
    ("2024-03-16T09:00:00", "4.00", "Food", "Corner bakery"),
    ("2024-01-01T08:00:00", "7.00", "Zoo", "zebra"),
    ("2024-01-02T08:00:00", "8.00", "rent", None),
    ("2024-01-03T08:00:00", "9.00", "Élan", "Éclair"),
]


def expected_text_order(rows, column, descending):
    """Python's own order: by the column ignoring case (code points, missing last), then
    newest first, then the highest id (sorts are stable, so sort by the tiebreaks first)."""
    tiebroken = sorted(rows, key=lambda row: (row["timestamp"], row["id"]), reverse=True)
    present = [row for row in tiebroken if row[column] is not None]
    missing = [row for row in tiebroken if row[column] is None]
    present.sort(key=lambda row: row[column].lower(), reverse=descending)
    return [row["id"] for row in present + missing]


@pytest.mark.parametrize("column", ["description", "category"])
@pytest.mark.parametrize("descending", [False, True])
def test_text_sort_ignores_case_with_a_stable_tiebreak(
    client, make_user, add_transactions, auth_headers, column, descending
):
    user = make_user("texts")
    add_transactions(user, TEXT_SORT_ROWS)
    headers = auth_headers(user)
    every_row = get(client, headers, limit=1000).json()
    assert len(every_row) == len(TEXT_SORT_ROWS)
    sort = f"-{column}" if descending else column

    response = get(client, headers, sort=sort, limit=1000)

    assert response.status_code == 200, response.text
    assert [row["id"] for row in response.json()] == expected_text_order(
        every_row, column, descending
    )
    pages = [get(client, headers, sort=sort, limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [row["id"] for page in pages for row in page.json()] == [
        row["id"] for row in response.json()
    ]
    assert {page.headers["X-Total-Count"] for page in pages} == {str(len(TEXT_SORT_ROWS))}


def test_pagination_keeps_the_total(client, alice, auth_headers):
    headers = auth_headers(alice)
    first = get(client, headers, limit=4, offset=0, sort="timestamp")
    rest = get(client, headers, limit=4, offset=4, sort="timestamp")
    assert len(first.json()) == 4 and len(rest.json()) == 2
    assert first.headers["X-Total-Count"] == rest.headers["X-Total-Count"] == "6"
    assert descriptions(first) + descriptions(rest) == [r[3] for r in ROWS]


@pytest.mark.parametrize(
    "params, named",
    [
        ({"start": "2024-03-01", "end": "2024-02-01"}, "start"),
        ({"min_amount": "5", "max_amount": "1"}, "min_amount"),
        ({"sort": "merchant"}, "sort"),
        ({"sort": "-Description"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"start": "2024-02-30"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"min_amount": "ten"}, "min_amount"),
        ({"max_amount": "NaN"}, "max_amount"),
        ({"q": "a\x00b"}, "q"),
        ({"category": ""}, "category"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, alice, auth_headers, params, named):
    response = get(client, auth_headers(alice), **params)
    assert response.status_code == 422
    assert named in response.text


def test_users_never_see_each_other(client, make_user, add_transactions, auth_headers):
    alice, bob = make_user("alice"), make_user("bob")
    add_transactions(alice, ROWS)
    add_transactions(bob, [("2024-02-10T10:00:00", "99.99", "Secret", "bob only")])
    bob_rows = get(client, auth_headers(bob)).json()
    assert [r["description"] for r in bob_rows] == ["bob only"]
    for params in ({}, {"category": ["Food"]}, {"q": "bakery"}, {"min_amount": "0"}):
        response = get(client, auth_headers(bob), **params)
        assert all(r["description"] == "bob only" for r in response.json())
    categories = client.get("/categories", headers=auth_headers(bob)).json()
    assert [(c["name"], c["count"]) for c in categories] == [("Secret", 1)]
    alice_id = get(client, auth_headers(alice)).json()[0]["id"]
    deleted = client.delete(f"/transactions/{alice_id}", headers=auth_headers(bob))
    assert deleted.status_code == 404
    assert deleted.json() == {"detail": errors.TRANSACTION_NOT_FOUND}
    assert get(client, auth_headers(alice)).headers["X-Total-Count"] == str(len(ROWS))


def test_delete_removes_the_row_and_its_share_of_the_metrics(client, alice, auth_headers):
    headers = auth_headers(alice)
    rent = get(client, headers, category=["Rent"]).json()[0]
    assert client.delete(f"/transactions/{rent['id']}", headers=headers).status_code == 204
    assert get(client, headers).headers["X-Total-Count"] == "5"
    metrics = client.get("/metrics", headers=headers).json()
    assert "Rent" not in [c["category"] for c in metrics["top_categories"]]
    assert client.delete(f"/transactions/{rent['id']}", headers=headers).status_code == 404


@pytest.mark.parametrize("path", ["/transactions", "/metrics"])
def test_every_read_needs_a_token(client, path):
    assert client.get(path).status_code == 401

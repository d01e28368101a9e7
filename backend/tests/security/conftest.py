"""Fixtures for the attack tests: a second user with data."""

import pytest


@pytest.fixture
def alice_and_bob(make_user, add_transactions):
    """Two users with data; Alice's is larger, so any leak shows in Bob's numbers."""
    alice = make_user("alice")
    bob = make_user("bob")
    add_transactions(
        alice,
        [
            ("2024-01-05T09:00", "1000.00", "Rent", "Alice flat"),
            ("2024-01-06T10:00", "55.10", "Food", "Alice market"),
            ("2024-02-07T11:00", "9.99", "Secret", "Alice only category"),
            ("2024-03-08T12:00", "-20.00", "Refund", "Alice refund"),
        ],
    )
    add_transactions(
        bob,
        [
            ("2024-01-10T08:30", "12.50", "Food", "Bob bakery"),
            ("2024-02-11T19:45", "30.00", "Fun", "Bob cinema"),
        ],
    )
    return alice, bob

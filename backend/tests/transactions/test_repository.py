"""The import's write path (transactions/repository.py insert_transactions): a category
the file names is created only for a row actually stored, so a re-import after a merge or
a delete does not bring the category back empty."""

import pytest

from spending_api.categories.repository import create_default_categories

HEADER = "Date,Description,Amount,Category\n"
DINING = "2025-04-01,NOODLE BAR,-12.00,Dining\n"
HOBBY = "2025-04-02,MODEL KIT,-30.00,Hobby\n"


@pytest.fixture
def api(client, auth_headers, make_user, upload, database):
    """(user, send(method, path, **kw) -> response, take(content) -> import answer)"""
    user = make_user()
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        session.commit()
    headers = auth_headers(user)

    def send(method: str, path: str, **kwargs):
        return client.request(method, path, headers=headers, **kwargs)

    def take(content: str) -> dict:
        answer = upload(user, content.encode(), amount_sign="spend_negative")
        assert answer.status_code == 200, answer.text
        return answer.json()

    return user, send, take


def _kinds(send) -> dict[str, str]:
    return {c["name"]: c["kind"] for c in send("GET", "/categories").json()}


def _merge(send, source: str, target: str) -> None:
    ids = {c["name"]: c["id"] for c in send("GET", "/categories").json()}
    merged = send("POST", f"/categories/{ids[source]}/merge", json={"into": ids[target]})
    assert merged.status_code == 200, merged.text


def test_a_reimport_after_a_merge_and_a_delete_brings_no_category_back(api):
    user, send, take = api
    assert take(HEADER + DINING + HOBBY)["inserted"] == 2
    assert {"Dining", "Hobby"} <= set(_kinds(send))
    _merge(send, "Dining", "Groceries")
    rows = {r["description"]: r for r in send("GET", "/transactions").json()}
    assert send("DELETE", f"/transactions/{rows['MODEL KIT']['id']}").status_code == 204
    ids = {c["name"]: c["id"] for c in send("GET", "/categories").json()}
    assert send("DELETE", f"/categories/{ids['Hobby']}").status_code == 204
    before = _kinds(send)

    again = take(HEADER + DINING + HOBBY)

    # One a duplicate, one the user deleted: both skipped.
    assert (again["inserted"], again["skipped_duplicates"]) == (0, 2)
    assert _kinds(send) == before
    assert [(r["description"], r["category"]) for r in send("GET", "/transactions").json()] == [
        ("NOODLE BAR", "Groceries")
    ]


def test_only_the_rows_stored_create_categories_with_their_kind(api):
    user, send, take = api
    take(HEADER + DINING)
    _merge(send, "Dining", "Groceries")

    # One duplicate (Dining) and two new rows of a new category (income, by its name).
    answer = take(
        HEADER + DINING + "2025-04-03,TUTORING,40.00,Gehalt\n2025-04-04,TUTORING,25.00,Gehalt\n"
    )

    assert answer["inserted"] == 2
    kinds = _kinds(send)
    assert "Dining" not in kinds and kinds["Gehalt"] == "income"


def test_a_second_identical_row_is_stored_and_brings_its_category(api):
    user, send, take = api
    take(HEADER + "2025-04-05,PET SHOP,-9.00,Pets\n")
    _merge(send, "Pets", "Shopping")

    # The same purchase twice in the new file: the first is stored, the second is new.
    answer = take(HEADER + "2025-04-05,PET SHOP,-9.00,Pets\n" * 2)

    assert (answer["inserted"], answer["skipped_duplicates"]) == (1, 1)
    assert _kinds(send)["Pets"] == "spending"
    listed = sorted(r["category"] for r in send("GET", "/transactions").json())
    assert listed == ["Pets", "Shopping"]

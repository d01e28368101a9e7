"""One random sequence (seeded) of everything that changes a user's ledger, through the
API: imports, undone imports, re-imports, single and bulk edits (by ids and by filter),
category merges and deletes with a target, new categories, rules created and run, manual
transactions and deletes, transfer unlinks. After every step the API's figures and lists
are checked against a plain-Python model of the rows, and the rollup against a GROUP BY
over the base table. A failure names the seed and the step; RANDOM_LEDGER_SEED=<seed>
runs that sequence again (or another one)."""

import os
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from spending_api import errors
from spending_api.categories.defaults import DEFAULT_CATEGORIES
from spending_api.categories.repository import create_default_categories
from spending_api.models import Account
from testkit import metrics_reference

UNCATEGORIZED, UNCATEGORIZED_INCOME = "Uncategorized", "Uncategorized income"
TRANSFER, CARD_PAYMENT = "Transfer", "Credit card payment"
REQUIRED = {UNCATEGORIZED, UNCATEGORIZED_INCOME}
# Words no default rule or kind hint reads anything into.
DESCRIPTIONS = ["BAKERY", "Corner shop", "Pizzeria", "Café ☕", "Pharmacy", "Pot"]
NEW_CATEGORIES = [("Gifts", "spending"), ("Hobbies", "spending"), ("Side job", "income")]
NEW_CATEGORIES += [("Rainy day", "transfer")]
MOVES = [Decimal("50.00"), Decimal("120.00"), Decimal("250.00")]
FIRST_DAY = datetime(2024, 1, 1)
DAYS = 120
PAIRING = timedelta(days=4)
STEPS = 40
ACTIONS = [
    "import",
    "import",
    "import",
    "undo_import",
    "reimport",
    "edit",
    "bulk_ids",
    "bulk_filter",
    "merge",
    "delete_category",
    "new_category",
    "rule",
    "manual",
    "move",
    "delete",
    "unlink",
]


class Ledger:
    """The model: what every figure must come from."""

    def __init__(self, accounts: dict[str, int]) -> None:
        self.accounts = accounts  # kind -> id
        self.kinds = dict(DEFAULT_CATEGORIES)
        self.rows: dict[int, dict] = {}
        self.pairs: dict[int, dict] = {}  # id -> {"out", "in", "previous": {side: name}}
        self.imports: dict[int, dict] = {}  # live: id -> {"file", "account", "ids"}
        self.rules: list[tuple[int, str, str]] = []  # (id, description, category), in order
        self.used_moments: set[tuple[int, datetime]] = set()
        self.paired = self.unlinked = 0  # in all, for the guard at the end

    # what the documented behaviour does to the model

    def paired_with(self, row_id: int) -> list[int]:
        return [p for p, pair in self.pairs.items() if row_id in (pair["out"], pair["in"])]

    def unlink(self, pair_id: int, kept=frozenset()) -> None:
        """Both sides back in their categories before pairing, unless the user chose one
        or the side is `kept` (a rule run or a category change just put it where it is);
        a category gone since gives way to the uncategorized one of the side's sign."""
        pair = self.pairs.pop(pair_id)
        self.unlinked += 1
        for side, previous in pair["previous"].items():
            row = self.rows.get(side)
            if row is None or row["source"] == "user" or side in kept:
                continue
            if previous not in self.kinds:
                previous = UNCATEGORIZED_INCOME if row["amount"] < 0 else UNCATEGORIZED
            row["category"] = previous

    def is_pair(self, out_row: dict, in_row: dict) -> bool:
        return (
            out_row["amount"] > 0
            and in_row["amount"] == -out_row["amount"]
            and out_row["account"] != in_row["account"]
            and abs(out_row["timestamp"] - in_row["timestamp"]) <= PAIRING
        )

    def unlink_broken(self, row_ids, kept=frozenset()) -> None:
        for pair_id in sorted({p for row_id in row_ids for p in self.paired_with(row_id)}):
            pair = self.pairs[pair_id]
            out_row, in_row = self.rows[pair["out"]], self.rows[pair["in"]]
            both_transfers = all(self.kinds[r["category"]] == "transfer" for r in (out_row, in_row))
            if not (both_transfers and self.is_pair(out_row, in_row)):
                self.unlink(pair_id, kept)

    def remove(self, row_id: int) -> None:
        for pair_id in self.paired_with(row_id):
            self.unlink(pair_id)
        row = self.rows.pop(row_id)
        if row["import"] in self.imports:
            self.imports[row["import"]]["ids"].discard(row_id)

    def set_by_user(self, row_ids, category: str) -> None:
        for row_id in row_ids:
            self.rows[row_id].update(category=category, source="user")
        self.unlink_broken(row_ids)

    def run_rules(self, row_ids, rules) -> int:
        """Rules in order over the rows (each sees what the earlier did), never over a
        user's category; how many rows a rule changed on the way (an end state equal to
        the start, after two rules undid each other, counts too). A pair a rule broke is
        unlinked: the rule's side keeps the rule's category, the other goes back (an
        import's new rows are in no pair yet)."""
        changed: list[int] = []
        for row_id in sorted(row_ids):
            row = self.rows[row_id]
            before, fired = row["category"], False
            for _, description, category in rules:
                if row["source"] == "user" or row["description"].lower() != description.lower():
                    continue
                if (row["category"], row["source"]) != (category, "rule"):
                    row.update(category=category, source="rule")
                    fired = True
            if fired:
                changed.append(row_id)
                if self.kinds[before] == "transfer":
                    # A rule's change to a transfer makes sure "Transfer" exists.
                    self.kinds.setdefault(TRANSFER, "transfer")
        self.unlink_broken(changed, kept=set(changed))
        return len(changed)

    def rename_category(self, old: str, new: str) -> None:
        """A merge: rows, pairs' previous categories and rules follow the name; a pair no
        longer one (a transfer category merged into another kind) is unlinked, its sides
        in `new` staying there."""
        for row in self.rows.values():
            if row["category"] == old:
                row["category"] = new
        for pair in self.pairs.values():
            for side, previous in pair["previous"].items():
                if previous == old:
                    pair["previous"][side] = new
        self.rules = [(i, d, new if c == old else c) for i, d, c in self.rules]
        del self.kinds[old]
        moved = {i for i, row in self.rows.items() if row["category"] == new}
        self.unlink_broken(moved, kept=moved)

    def as_reference_rows(self) -> list[tuple]:
        return [
            (
                r["timestamp"].isoformat(),
                str(r["amount"]),
                r["category"],
                r["description"],
                r["account"],
            )
            for r in self.rows.values()
        ]


def _moment(rng: random.Random, ledger: Ledger, account: int) -> datetime:
    while True:
        moment = FIRST_DAY + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        if (account, moment) not in ledger.used_moments:
            ledger.used_moments.add((account, moment))
            return moment


def _file_categories(ledger: Ledger) -> list[str]:
    """What a bank column may say: any of the user's categories but the fallbacks and the
    generic transfer ones (those the file's words decide)."""
    return sorted(set(ledger.kinds) - REQUIRED - {TRANSFER, CARD_PAYMENT})


def _random_file(rng: random.Random, ledger: Ledger, account: int) -> tuple[bytes, list[dict]]:
    lines, rows = ["timestamp,amount,category,description"], []
    others = [r for r in ledger.rows.values() if r["account"] != account]
    for _ in range(rng.randrange(5, 25)):
        if others and rng.random() < 0.2:  # the other side of a move already stored
            mirror = rng.choice(others)
            moment = mirror["timestamp"] + timedelta(hours=rng.randrange(-80, 80))
            amount = -mirror["amount"]
            if (account, moment) in ledger.used_moments:
                continue
            ledger.used_moments.add((account, moment))
        elif rng.random() < 0.15:  # one side of a move, the other may come later
            moment = _moment(rng, ledger, account)
            amount = rng.choice(MOVES) * rng.choice([1, -1])
        else:
            moment = _moment(rng, ledger, account)
            amount = Decimal(rng.choice([rng.randrange(1, 20000), rng.randrange(-5000, 0)]))
            amount = amount.scaleb(-2)
        category, description = rng.choice(_file_categories(ledger)), rng.choice(DESCRIPTIONS)
        lines.append(f"{moment.isoformat()},{amount},{category},{description}")
        rows.append(
            {
                "timestamp": moment,
                "amount": amount,
                "category": category,
                "description": description,
                "account": account,
            }
        )
    return ("\n".join(lines) + "\n").encode(), rows


class Api:
    def __init__(self, client, headers) -> None:
        self.client, self.headers = client, headers

    def __call__(self, method: str, path: str, expect: int = 200, **kwargs):
        response = self.client.request(method, path, headers=self.headers, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def category_ids(self) -> dict[str, int]:
        return {c["name"]: c["id"] for c in self("GET", "/categories")}

    def listed(self) -> dict[int, dict]:
        answer = self.client.get("/transactions", headers=self.headers, params={"limit": 1000})
        assert answer.status_code == 200
        assert int(answer.headers["X-Total-Count"]) == len(answer.json()) < 1000
        return {row["id"]: row for row in answer.json()}


def _import(api: Api, ledger: Ledger, content: bytes, account: int) -> tuple[int, int]:
    result = api(
        "POST",
        "/transactions/import",
        files={"file": ("bank.csv", content, "text/csv")},
        data={"account_id": str(account)},
    )
    return result["import_id"], result["inserted"]


def _take_import(api: Api, ledger: Ledger, rng: random.Random) -> None:
    """A new file: its rows as the file says, the user's rules over them, then the pairs
    (checked: each is a pair, and none that could be made is missing)."""
    account = rng.choice(sorted(ledger.accounts.values()))
    content, rows = _random_file(rng, ledger, account)
    known = set(ledger.rows)
    import_id, inserted = _import(api, ledger, content, account)
    assert inserted == len(rows)
    new = {i: r for i, r in api.listed().items() if i not in known}
    expected = sorted((r["timestamp"], r["amount"], r["description"], r["account"]) for r in rows)
    stored = sorted(
        (
            datetime.fromisoformat(r["timestamp"]),
            Decimal(str(r["amount"])),
            r["description"],
            r["account_id"],
        )
        for r in new.values()
    )
    assert stored == expected, "the import stored other rows than the file's"
    by_key = {(r["timestamp"], r["amount"], r["account"]): r for r in rows}
    for row_id, listed in new.items():
        key = (datetime.fromisoformat(listed["timestamp"]), Decimal(str(listed["amount"])), account)
        ledger.rows[row_id] = {**by_key[key], "source": "bank", "import": import_id}
    ledger.imports[import_id] = {"file": content, "account": account, "ids": set(new)}
    ledger.run_rules(new, ledger.rules)
    _take_pairs(api, ledger, set(new))


def _take_pairs(api: Api, ledger: Ledger, new_ids: set[int]) -> None:
    card = ledger.accounts["credit_card"]
    for pair in api("GET", "/transfers"):
        if pair["id"] in ledger.pairs:
            continue
        out_id, in_id = pair["out"]["id"], pair["in"]["id"]
        out_row, in_row = ledger.rows[out_id], ledger.rows[in_id]
        assert ledger.is_pair(out_row, in_row), f"not a transfer: {pair}"
        assert (
            {out_id, in_id} & new_ids
            and not ledger.paired_with(out_id)
            and not ledger.paired_with(in_id)
        ), f"paired twice or not from this import: {pair}"
        assert "user" not in (out_row["source"], in_row["source"])
        ledger.paired += 1
        ledger.pairs[pair["id"]] = {
            "out": out_id,
            "in": in_id,
            "previous": {out_id: out_row["category"], in_id: in_row["category"]},
        }
        generic = CARD_PAYMENT if in_row["account"] == card else TRANSFER
        # Pairing makes sure both generic transfer categories exist.
        ledger.kinds.setdefault(TRANSFER, "transfer")
        ledger.kinds.setdefault(CARD_PAYMENT, "transfer")
        for row in (out_row, in_row):
            own = ledger.kinds[row["category"]] == "transfer" and row["category"] not in (
                TRANSFER,
                CARD_PAYMENT,
            )
            if not own:
                row["category"] = generic
    # Nothing left that could pair: no unpaired row of the import has an unpaired other side.
    paired = {side for pair in ledger.pairs.values() for side in (pair["out"], pair["in"])}
    free = [i for i, r in ledger.rows.items() if i not in paired and r["source"] != "user"]
    for new_id in new_ids - paired:
        row = ledger.rows[new_id]
        if row["source"] == "user":
            continue
        for other_id in free:
            other = ledger.rows[other_id]
            assert not (
                ledger.is_pair(row, other) or ledger.is_pair(other, row)
            ), f"a transfer left unpaired: {new_id}, {other_id}"


def _check(api: Api, ledger: Ledger, rng: random.Random, assert_rollup_exact) -> None:
    listed = api.listed()
    assert {
        i: (r["category"], Decimal(str(r["amount"])), r["account_id"]) for i, r in listed.items()
    } == {
        i: (r["category"], r["amount"], r["account"]) for i, r in ledger.rows.items()
    }, "GET /transactions differs from the model"
    categories = {c["name"]: c["kind"] for c in api("GET", "/categories")}
    assert categories == ledger.kinds, "the categories differ from the model"
    pairs = {p["id"]: (p["out"]["id"], p["in"]["id"]) for p in api("GET", "/transfers")}
    assert pairs == {i: (p["out"], p["in"]) for i, p in ledger.pairs.items()}
    rows = ledger.as_reference_rows()
    day = date(2024, 1, 1) + timedelta(days=rng.randrange(DAYS))
    kinds = ("spending", "income", "transfer")
    specs = [
        {"accounts": (rng.choice(sorted(ledger.accounts.values())),)},
        {"kind": tuple(rng.sample(kinds, rng.randrange(1, 3)))},
        {"kind": ("spending",), "accounts": tuple(rng.sample(sorted(ledger.accounts.values()), 2))},
        {"start": day, "end": day + timedelta(days=rng.randrange(40)), "granularity": "week"},
        {"categories": tuple(rng.sample(sorted(ledger.kinds), 2))},
        # Amount and text filters are answered from the base table, the rest from the rollup.
        {"min_amount": Decimal(rng.randrange(-50, 50)), "granularity": "day"},
        {"q": rng.choice(["shop", "café", "POT"]), "kind": ("spending", "transfer")},
    ]
    for spec in [{}, *rng.sample(specs, 2)]:
        params = metrics_reference.as_params({k: v for k, v in spec.items() if k != "accounts"}, {})
        if "accounts" in spec:
            params["account"] = list(spec["accounts"])
        expected = metrics_reference.reference_metrics(rows, ledger.kinds, **spec)
        assert api("GET", "/metrics", params=params) == expected, f"/metrics {params}"
        params.pop("granularity", None)
        counted = api.client.get(
            "/transactions", headers=api.headers, params={**params, "limit": 1}
        )
        assert int(counted.headers["X-Total-Count"]) == expected["transaction_count"], params
    assert_rollup_exact("the rollup")


def _step(action: str, api: Api, ledger: Ledger, rng: random.Random, step: int) -> bool:
    """Do `action` through the API and to the model; False when it cannot apply now."""
    ids = sorted(ledger.rows)
    categories = sorted(ledger.kinds)
    if action == "import":
        _take_import(api, ledger, rng)
    elif action == "undo_import":
        if not ledger.imports:
            return False
        import_id = rng.choice(sorted(ledger.imports))
        api("DELETE", f"/imports/{import_id}", expect=204)
        for row_id in sorted(ledger.imports[import_id]["ids"]):
            ledger.remove(row_id)
        del ledger.imports[import_id]
    elif action == "reimport":
        # Edited rows keep their keys and deleted ones are remembered: nothing comes back,
        # not even a category the file names that was merged away since (no row brings it;
        # _check compares the categories with the model's).
        if not ledger.imports:
            return False
        live = ledger.imports[rng.choice(sorted(ledger.imports))]
        _, inserted = _import(api, ledger, live["file"], live["account"])
        assert inserted == 0
    elif action == "edit":
        if not ids:
            return False
        target, category = rng.choice(ids), rng.choice(categories)
        api("PATCH", f"/transactions/{target}", json={"category": category, "notes": f"{step}"})
        ledger.set_by_user([target], category)
    elif action == "bulk_ids":
        if not ids:
            return False
        chosen = rng.sample(ids, min(len(ids), rng.randrange(1, 12)))
        category = rng.choice(categories)
        answer = api(
            "PATCH", "/transactions", json={"ids": chosen, "change": {"category": category}}
        )
        total = sum((ledger.rows[i]["amount"] for i in chosen), Decimal(0))
        assert answer == {"matched": len(chosen), "total": str(total), "updated": len(chosen)}
        ledger.set_by_user(chosen, category)
    elif action == "bulk_filter":
        source, category = rng.choice(categories), rng.choice(categories)
        account = rng.choice(sorted(ledger.accounts.values()))
        start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        filters = {"category": [source], "account": [account], "start": start.date().isoformat()}
        chosen = [
            i
            for i, r in ledger.rows.items()
            if r["category"] == source and r["account"] == account and r["timestamp"] >= start
        ]
        dry_run = rng.random() < 0.25
        answer = api(
            "PATCH",
            "/transactions",
            json={"filters": filters, "change": {"category": category}, "dry_run": dry_run},
        )
        total = sum((ledger.rows[i]["amount"] for i in chosen), Decimal(0))
        assert answer == {
            "matched": len(chosen),
            "total": str(total.quantize(Decimal("0.01"))),
            "updated": 0 if dry_run else len(chosen),
        }
        if not dry_run:
            ledger.set_by_user(chosen, category)
    elif action in ("merge", "delete_category"):
        movable = [c for c in categories if c not in REQUIRED]
        source = rng.choice(movable)
        target = rng.choice([c for c in categories if c != source])
        known = api.category_ids()
        if action == "merge":
            api("POST", f"/categories/{known[source]}/merge", json={"into": known[target]})
        else:
            api(
                "DELETE",
                f"/categories/{known[source]}",
                params={"move_to": known[target]},
                expect=204,
            )
        ledger.rename_category(source, target)
    elif action == "new_category":
        missing = [(n, k) for n, k in NEW_CATEGORIES if n not in ledger.kinds]
        if not missing:
            return False
        name, kind = rng.choice(missing)
        api("POST", "/categories", json={"name": name, "kind": kind}, expect=201)
        ledger.kinds[name] = kind
    elif action == "rule":
        description, category = rng.choice(DESCRIPTIONS), rng.choice(categories)
        rule = api(
            "POST",
            "/rules",
            json={
                "name": f"rule {step}",
                "conditions": [
                    {
                        "type": "text",
                        "field": "description",
                        "operator": "equals",
                        "value": description.upper() if rng.random() < 0.5 else description,
                    }
                ],
                "actions": {"set_category": category},
            },
            expect=201,
        )
        ledger.rules.append((rule["id"], description, category))
        only_new = rng.random() < 0.5
        body = {"rule_ids": [rule["id"]]} if only_new else {}
        rules = [ledger.rules[-1]] if only_new else ledger.rules
        answer = api("POST", "/rules/apply", json=body)
        assert answer == {"updated": ledger.run_rules(ledger.rows, rules)}
    elif action == "manual":
        account = rng.choice(sorted(ledger.accounts.values()))
        moment = _moment(rng, ledger, account)
        amount = Decimal(rng.randrange(-3000, 3000) or 1).scaleb(-2)
        category, description = rng.choice(categories), rng.choice(DESCRIPTIONS)
        created = api(
            "POST",
            "/transactions",
            json={
                "timestamp": moment.isoformat(),
                "amount": str(amount),
                "category": category,
                "description": description,
                "account_id": account,
            },
            expect=201,
        )
        ledger.rows[created["id"]] = {
            "timestamp": moment,
            "amount": amount,
            "category": category,
            "description": description,
            "account": account,
            "source": "user",
            "import": None,
        }
    elif action == "move":
        # A manual row's amount and day change; an imported row's are the bank's (409).
        if not ids:
            return False
        target = rng.choice(ids)
        row = ledger.rows[target]
        amount = Decimal(rng.randrange(1, 9000)).scaleb(-2)
        moment = row["timestamp"] + timedelta(days=rng.randrange(-5, 5), minutes=rng.randrange(60))
        manual = row["import"] is None
        answer = api(
            "PATCH",
            f"/transactions/{target}",
            json={"amount": str(amount), "timestamp": moment.isoformat()},
            expect=200 if manual else 409,
        )
        if not manual:
            assert answer == {"detail": errors.IMPORTED_FIELD_LOCKED}
            return True
        ledger.used_moments.add((row["account"], moment))
        row.update(amount=amount, timestamp=moment)
        ledger.unlink_broken([target])
    elif action == "delete":
        if not ids:
            return False
        target = rng.choice(ids)
        api("DELETE", f"/transactions/{target}", expect=204)
        ledger.remove(target)
    elif action == "unlink":
        if not ledger.pairs:
            return False
        pair_id = rng.choice(sorted(ledger.pairs))
        api("DELETE", f"/transfers/{pair_id}", expect=204)
        ledger.unlink(pair_id)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("seed", [int(os.environ.get("RANDOM_LEDGER_SEED", "3"))])
def test_a_random_ledger_keeps_every_figure_exact(
    client, make_user, database, auth_headers, assert_rollup_exact, seed
):
    rng = random.Random(seed)
    user, other = make_user(), make_user()
    accounts = {}
    with database.session() as session:
        for owner in (user, other):
            create_default_categories(session, user_id=owner.id)
        for kind in ("checking", "savings", "credit_card"):
            account = Account(user_id=user.id, name=kind, kind=kind)
            session.add(account)
            session.flush()
            accounts[kind] = account.id
        session.commit()
    # Another user's rows are in every table and in no answer.
    other_file = b"timestamp,amount,category,description\n2024-01-05T10:00:00,9.99,Groceries,X\n"
    other_api = Api(client, auth_headers(other))
    other_api("POST", "/transactions/import", files={"file": ("o.csv", other_file, "text/csv")})
    api, ledger = Api(client, auth_headers(user)), Ledger(accounts)
    # Two imports first, then every action at least once and random ones, shuffled.
    kinds_of_step = sorted(set(ACTIONS))
    schedule = [rng.choice(ACTIONS) for _ in range(STEPS - 2 - len(kinds_of_step))]
    schedule += kinds_of_step
    rng.shuffle(schedule)
    done: list[str] = []
    for step, action in enumerate(["import", "import", *schedule]):
        try:
            if _step(action, api, ledger, rng, step):
                done.append(action)
                _check(api, ledger, rng, assert_rollup_exact)
        except AssertionError as failure:
            raise AssertionError(f"seed {seed}, step {step} ({action}): {failure}") from failure
    # The sequence did what it is for (a guard against a test that checks nothing).
    assert set(done) >= set(ACTIONS) - {"unlink", "reimport"}, done
    assert ledger.paired and ledger.unlinked, (ledger.paired, ledger.unlinked)
    assert any(r["source"] == "user" for r in ledger.rows.values())
    assert any(r["source"] == "rule" for r in ledger.rows.values())
    with database.session() as session:
        others = session.scalar(
            text("SELECT count(*) FROM transactions WHERE user_id = :u"), {"u": other.id}
        )
    assert others == 1

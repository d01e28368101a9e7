"""Deterministic, realistic demo money: personas, the generators, and `seed-demo`.

`generate_transactions` turns (seed, end date, days, persona) into the same spending
rows every time: rent and subscriptions on fixed days of the month, a weekly grocery
shop, irregular dining and transport, summer and winter travel, occasional large
purchases and a few refunds (negative amounts). Amounts are whole cents (Decimal). It
is lazy and cheap per row, so the benchmark uses it for millions of rows (`per_day`).

`generate_income_and_savings` adds what comes in and what is put aside, from its own
random stream (so the spending rows stay the same): a monthly salary and other regular
income, the odd other income, a monthly move from checking to a savings account (both
sides: they pair as a transfer) and the savings account's interest.
"""

import logging
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from spending_api.accounts.repository import default_account_id
from spending_api.auth import repository as users
from spending_api.auth.security import hash_password
from spending_api.models import Account
from spending_api.transactions.exporter import write_csv
from spending_api.transactions.repository import NewTransaction, insert_transactions
from spending_api.transfers.repository import pair_transfers

logger = logging.getLogger(__name__)

DEMO_SEED = 20240101
DEMO_DAYS = 730

__all__ = [
    "DEMO_USERS",
    "generate_income_and_savings",
    "generate_transactions",
    "seed_demo_users",
    "write_csv",
]

# Categories of the default set (categories.defaults) the money in and the moves use.
SALARY, OTHER_INCOME, SAVINGS = "Salary", "Other income", "Savings"
CHECKING_ACCOUNT, SAVINGS_ACCOUNT = "checking", "savings"
SAVINGS_ACCOUNT_NAME = "Savings"
INTEREST_PER_YEAR = Decimal("0.02")


@dataclass(frozen=True)
class Persona:
    """How one person spends; amounts in cents, rates per day."""

    rent: tuple[str, str, int, int]  # category, description, cents, day of month
    subscriptions: tuple[tuple[str, str, int, int], ...]
    grocery_weekday: int  # 0 = Monday
    grocery_cents: tuple[int, int]  # mean, spread
    grocery_shops: tuple[str, ...]
    top_ups_per_day: float  # small grocery runs between the weekly shops
    dining_per_day: float
    dining_cents: tuple[int, int]
    dining_places: tuple[str, ...]
    transport_per_day: float
    transport_cents: tuple[int, int]
    transport_kinds: tuple[str, ...]
    shopping_per_day: float
    shopping_cents: tuple[int, int]
    shops: tuple[str, ...]
    travel_months: tuple[int, ...]
    large_per_year: float
    large_purchases: tuple[tuple[str, str, int], ...]
    refund_share: float  # of shopping purchases later refunded
    # Money in, into checking: (category, description, cents, day of month) every month,
    # and (description, mean cents, spread, times a year) as "Other income" now and then.
    regular_income: tuple[tuple[str, str, int, int], ...]
    odd_income: tuple[tuple[str, int, int, float], ...]
    savings: tuple[int, int]  # cents moved to the savings account monthly, day of month


PERSONAS: dict[str, Persona] = {
    # A city renter who eats out and takes the train.
    "demo": Persona(
        rent=("Rent", "Monthly rent - Parkside Apartments", 125000, 1),
        subscriptions=(
            ("Subscriptions", "Netflix", 1549, 5),
            ("Subscriptions", "Spotify", 1099, 12),
            ("Utilities", "City Power & Light", 8900, 18),
            ("Phone & Internet", "FiberNet broadband", 5500, 22),
            ("Fitness", "Downtown Gym membership", 3900, 3),
        ),
        grocery_weekday=5,
        grocery_cents=(8500, 2500),
        grocery_shops=("Green Basket Market", "FreshWay Supermarket", "Corner Grocer"),
        top_ups_per_day=0.25,
        dining_per_day=0.7,
        dining_cents=(2200, 1400),
        dining_places=(
            "Luigi's Pizzeria",
            "Sakura Sushi",
            "The Daily Grind Coffee",
            "Taco Loco",
            "Bistro 21",
        ),
        transport_per_day=0.6,
        transport_cents=(450, 300),
        transport_kinds=("Metro card top-up", "City Bikes", "RideNow taxi"),
        shopping_per_day=0.12,
        shopping_cents=(4500, 3500),
        shops=("Bookworm Books", "Urban Outfitters", "MegaMart Online", "Home & Co"),
        travel_months=(7, 12),
        large_per_year=2.0,
        large_purchases=(
            ("Electronics", "Laptop - TechStore", 129900),
            ("Home", "Sofa - Nordic Living", 89900),
            ("Electronics", "Phone - TechStore", 79900),
        ),
        refund_share=0.08,
        regular_income=((SALARY, "Payroll - Brightline Studio", 365000, 25),),
        odd_income=(
            ("Freelance design - invoice paid", 45000, 20000, 3.0),
            ("Tax refund", 62000, 15000, 1.0),
        ),
        savings=(45000, 26),
    ),
    # A commuting parent: a mortgage, big grocery shops, fuel, kids' activities.
    "alex": Persona(
        rent=("Housing", "Mortgage payment - Home Savings Bank", 168000, 15),
        subscriptions=(
            ("Subscriptions", "Disney+", 1199, 9),
            ("Utilities", "Gas & Electric Co", 14500, 20),
            ("Utilities", "Water Board", 4200, 25),
            ("Insurance", "SafeHome insurance", 6800, 1),
            ("Kids", "Swimming lessons", 6000, 7),
            ("Phone & Internet", "MobileOne family plan", 7500, 28),
        ),
        grocery_weekday=6,
        grocery_cents=(19500, 4500),
        grocery_shops=("Costwise Warehouse", "FreshWay Supermarket", "Farmers' Market"),
        top_ups_per_day=0.45,
        dining_per_day=0.25,
        dining_cents=(4800, 2500),
        dining_places=("Burger Barn", "Family Diner", "Golden Dragon takeaway"),
        transport_per_day=0.35,
        transport_cents=(5500, 1500),
        transport_kinds=("Shell fuel", "Parking garage", "Toll road"),
        shopping_per_day=0.2,
        shopping_cents=(3500, 2500),
        shops=("Kids Corner", "HomeBase DIY", "MegaMart Online", "Pet Palace"),
        travel_months=(8,),
        large_per_year=1.5,
        large_purchases=(
            ("Home", "Washing machine - Appliance World", 64900),
            ("Car", "Car service - AutoCare", 42000),
            ("Home", "Garden furniture - HomeBase", 38900),
        ),
        refund_share=0.05,
        regular_income=(
            (SALARY, "Payroll - Northwind Logistics", 498000, 28),
            (OTHER_INCOME, "Child benefit", 22000, 8),
        ),
        odd_income=(("Sold on Marketplace", 9000, 6000, 4.0), ("Tax refund", 85000, 20000, 1.0)),
        savings=(30000, 1),
    ),
    # A student: small rent share, cheap food, lots of coffee and buses.
    "sam": Persona(
        rent=("Rent", "Room rent - shared flat", 62000, 28),
        subscriptions=(
            ("Subscriptions", "Spotify Student", 599, 2),
            ("Phone & Internet", "SIMply prepaid", 1500, 10),
            ("Education", "Campus library fees", 900, 15),
        ),
        grocery_weekday=0,
        grocery_cents=(3800, 1200),
        grocery_shops=("Budget Foods", "Corner Grocer"),
        top_ups_per_day=0.3,
        dining_per_day=0.9,
        dining_cents=(950, 600),
        dining_places=("Campus Cafe", "Noodle Bar", "The Daily Grind Coffee", "Kebab House"),
        transport_per_day=0.8,
        transport_cents=(250, 100),
        transport_kinds=("Bus ticket", "City Bikes"),
        shopping_per_day=0.08,
        shopping_cents=(2500, 1800),
        shops=("Secondhand Books", "Thrift Store", "MegaMart Online"),
        travel_months=(4, 9),
        large_per_year=0.7,
        large_purchases=(
            ("Electronics", "Headphones - TechStore", 19900),
            ("Education", "Textbooks - Campus Bookstore", 24500),
        ),
        refund_share=0.1,
        regular_income=(
            (SALARY, "Campus Cafe - wages", 104000, 15),
            (OTHER_INCOME, "From Mum & Dad", 45000, 1),
        ),
        odd_income=(("Tutoring", 6000, 2500, 6.0), ("Birthday money", 10000, 5000, 1.0)),
        savings=(5000, 2),
    ),
}

# username, password, persona (all three log in with their own name as password)
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("demo", "demo", "demo"),
    ("alex", "alex", "alex"),
    ("sam", "sam", "sam"),
)

TRAVEL = (
    ("Travel", "SkyHigh Airlines", 32000, 12000),
    ("Travel", "Seaside Hotel", 45000, 15000),
    ("Travel", "Car rental - DriveAway", 18000, 6000),
)


def _cents(rng: random.Random, mean: int, spread: int, low: int = 100) -> int:
    return max(low, int(rng.gauss(mean, spread)))


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _poisson(rng: random.Random, rate: float) -> int:
    """Events in one day; Knuth's method is fine for the small rates used here."""
    if rate <= 0:
        return 0
    count, product, limit = 0, rng.random(), pow(2.718281828459045, -rate)
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def generate_transactions(
    *,
    seed: int,
    end: date,
    days: int,
    persona: str | None = None,
    per_day: float | None = None,
) -> Iterator[NewTransaction]:
    """The rows of `days` days ending with `end`, oldest first, the same every time.

    `persona` is one of PERSONAS (default "demo"); `per_day` scales the irregular
    spending so that a day has about that many rows (for benchmark data).
    """
    name = persona or "demo"
    profile = PERSONAS[name]
    rng = random.Random(seed * 1_000_003 + zlib.crc32(name.encode()))
    scale = 1.0
    if per_day is not None:
        base = _irregular_rate(profile)
        fixed = (1 + len(profile.subscriptions)) / 30.4 + 1 / 7
        scale = max(per_day - fixed, 0.0) / base
    start = end - timedelta(days=days - 1)
    line_no = 0
    pending_refunds: list[tuple[date, str, int]] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        events = _day_events(rng, profile, day, scale, pending_refunds)
        events.sort(key=lambda event: event[0])
        for minute, category, description, cents in events:
            line_no += 1
            timestamp = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
            yield NewTransaction(timestamp, _money(cents), category, description, line_no)


def _irregular_rate(profile: Persona) -> float:
    return (
        profile.top_ups_per_day
        + profile.dining_per_day
        + profile.transport_per_day
        + profile.shopping_per_day
    )


def _day_events(
    rng: random.Random,
    profile: Persona,
    day: date,
    scale: float,
    pending_refunds: list[tuple[date, str, int]],
) -> list[tuple[int, str, str, int]]:
    """(minute of day, category, description, cents) for one day."""
    events = []
    category, description, cents, rent_day = profile.rent
    if day.day == rent_day:
        events.append((9 * 60, category, description, cents))
    for category, description, cents, billing_day in profile.subscriptions:
        if day.day == billing_day:
            events.append((6 * 60 + billing_day, category, description, cents))
    if day.weekday() == profile.grocery_weekday:
        events.append(
            (
                rng.randint(9 * 60, 19 * 60),
                "Groceries",
                rng.choice(profile.grocery_shops),
                _cents(rng, *profile.grocery_cents),
            )
        )
    for _ in range(_poisson(rng, profile.top_ups_per_day * scale)):
        events.append(
            (
                rng.randint(7 * 60, 21 * 60),
                "Groceries",
                rng.choice(profile.grocery_shops),
                _cents(rng, profile.grocery_cents[0] // 6, profile.grocery_cents[1] // 6, 150),
            )
        )
    weekend = day.weekday() >= 4
    dining_rate = profile.dining_per_day * (1.6 if weekend else 0.8) * scale
    for _ in range(_poisson(rng, dining_rate)):
        events.append(
            (
                rng.randint(8 * 60, 22 * 60 + 30),
                "Dining out",
                rng.choice(profile.dining_places),
                _cents(rng, *profile.dining_cents, 250),
            )
        )
    for _ in range(_poisson(rng, profile.transport_per_day * scale)):
        events.append(
            (
                rng.randint(6 * 60 + 30, 23 * 60),
                "Transport",
                rng.choice(profile.transport_kinds),
                _cents(rng, *profile.transport_cents, 150),
            )
        )
    for _ in range(_poisson(rng, profile.shopping_per_day * scale)):
        cents = _cents(rng, *profile.shopping_cents, 500)
        shop = rng.choice(profile.shops)
        events.append((rng.randint(10 * 60, 20 * 60), "Shopping", shop, cents))
        if rng.random() < profile.refund_share:
            pending_refunds.append((day + timedelta(days=rng.randint(3, 20)), shop, cents))
    # Refunds: money back for some purchases, a few days later.
    while pending_refunds and pending_refunds[0][0] <= day:
        _, shop, cents = pending_refunds.pop(0)
        events.append((rng.randint(9 * 60, 17 * 60), "Shopping", f"Refund - {shop}", -cents))
    pending_refunds.sort()
    # Travel: a trip of a few bookings in the persona's holiday months.
    if day.month in profile.travel_months and day.day == 3:
        for category, description, mean, spread in TRAVEL:
            if rng.random() < 0.8:
                events.append(
                    (rng.randint(8 * 60, 21 * 60), category, description, _cents(rng, mean, spread))
                )
    if rng.random() < profile.large_per_year / 365:
        category, description, cents = rng.choice(profile.large_purchases)
        events.append((rng.randint(10 * 60, 19 * 60), category, description, cents))
    return events


def generate_income_and_savings(
    *, seed: int, end: date, days: int, persona: str | None = None
) -> Iterator[tuple[str, NewTransaction]]:
    """(account, row) of the `days` days ending with `end`, oldest first, the same every
    time; the account is CHECKING_ACCOUNT or SAVINGS_ACCOUNT. Each move to savings is
    two rows at the same moment: money out of checking and the same amount into savings,
    both under the transfer category "Savings"."""
    name = persona or "demo"
    profile = PERSONAS[name]
    rng = random.Random(seed * 1_000_003 + zlib.crc32(f"{name}:income".encode()))
    start = end - timedelta(days=days - 1)
    balance = 0  # the savings account's, in cents, for its interest
    line_no = 0

    def row(day: date, minute: int, category: str, description: str, cents: int):
        nonlocal line_no
        line_no += 1
        moment = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        return NewTransaction(moment, _money(cents), category, description, line_no)

    for offset in range(days):
        day = start + timedelta(days=offset)
        for category, description, cents, pay_day in profile.regular_income:
            if day.day == pay_day:
                yield CHECKING_ACCOUNT, row(day, 7 * 60, category, description, -cents)
        for description, mean, spread, per_year in profile.odd_income:
            if rng.random() < per_year / 365:
                cents = _cents(rng, mean, spread)
                minute = rng.randint(9 * 60, 18 * 60)
                yield CHECKING_ACCOUNT, row(day, minute, OTHER_INCOME, description, -cents)
        cents, move_day = profile.savings
        if day.day == move_day:
            yield CHECKING_ACCOUNT, row(day, 8 * 60, SAVINGS, "To savings account", cents)
            yield SAVINGS_ACCOUNT, row(day, 8 * 60, SAVINGS, "From checking account", -cents)
            balance += cents
        if (day + timedelta(days=1)).day == 1 and balance:
            interest = int(balance * INTEREST_PER_YEAR / 12)
            if interest:
                yield SAVINGS_ACCOUNT, row(day, 23 * 60, OTHER_INCOME, "Interest", -interest)
                balance += interest


def seed_demo_users(
    session: Session, *, end: date | None = None, seed: int = DEMO_SEED
) -> Iterator[str]:
    """Create each demo user that does not exist yet, with two years of data ending
    `end` (default today); users that exist are left alone. Commits per user."""
    end = end or date.today()
    for username, password, persona in DEMO_USERS:
        if users.get_user_by_username(session, username=username):
            yield f"User {username!r} exists; left unchanged."
            continue
        user = users.create_user(session, username=username, password_hash=hash_password(password))
        checking = default_account_id(session, user_id=user.id)
        savings = Account(user_id=user.id, name=SAVINGS_ACCOUNT_NAME, kind="savings")
        session.add(savings)
        session.flush()
        rows = {CHECKING_ACCOUNT: [], SAVINGS_ACCOUNT: []}
        for account, row in generate_income_and_savings(
            seed=seed, end=end, days=DEMO_DAYS, persona=persona
        ):
            rows[account].append(row)
        spending = generate_transactions(seed=seed, end=end, days=DEMO_DAYS, persona=persona)
        # The spending's line numbers go on after the money in's (they order identical rows,
        # and insert_transactions takes rows in line order): after the last of either
        # account's, as the money in is numbered across both.
        offset = max(
            (row.line_no for account_rows in rows.values() for row in account_rows), default=0
        )
        for row in spending:
            row.line_no += offset
            rows[CHECKING_ACCOUNT].append(row)
        # The demo stands for a bank that categorizes its exports: the suggester learns
        # from these categories as from any bank's.
        for account_rows in rows.values():
            for row in account_rows:
                row.category_source = "bank"
        inserted = 0
        for account, account_id in ((CHECKING_ACCOUNT, checking), (SAVINGS_ACCOUNT, savings.id)):
            counts = insert_transactions(
                session, user_id=user.id, rows=rows[account], account_id=account_id
            )
            inserted += counts.inserted
        # The moves to savings pair as an import's would (both sides stay "Savings").
        pair_transfers(session, user_id=user.id, account_id=savings.id, new_rows=counts.inserted)
        session.commit()
        logger.info("seeded demo user %s with %s transactions", username, inserted)
        yield (
            f"Created demo user {username!r} (password {password!r}) with "
            f"{inserted} transactions in 2 accounts up to {end.isoformat()}."
        )

"""Test data: demo transactions as LedgerRows, and the same merchants written the way card
and bank statements write them (processor prefixes, store numbers, references, dates,
fixed-width city and country tails, upper case, truncation)."""

import dataclasses
import random
from datetime import date
from decimal import Decimal

from spending_api.categorize.ledger import CategorySource, LedgerRow
from spending_api.categorize.merchant import merchant_key
from spending_api.demo import DEMO_SEED, generate_transactions

END = date(2025, 6, 30)

PROCESSORS = ("SQ *", "SQ* ", "PAYPAL *", "SUMUP *", "IZ *", "TST* ", "ZETTLE_*", "APL*")
BOOKING = ("POS ", "CARD PAYMENT TO ", "VISA ", "CONTACTLESS ", "DEBIT CARD ", "PURCHASE ")
CITIES = (("LONDON", "GBR"), ("MANCHESTER", "GB"), ("AMSTERDAM", "NLD"), ("BERLIN", "DEU"))


def _code(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(length))


def noisy(description: str, rng: random.Random) -> str:
    """One realistic statement line for a merchant name."""
    name = description
    if rng.random() < 0.2 and " - " in name:
        name = name.split(" - ")[-1] if rng.random() < 0.5 else name.split(" - ")[0]
    style = rng.random()
    name = name.upper() if style < 0.6 else (name.title() if style < 0.8 else name)
    if rng.random() < 0.3:
        name = name[: rng.randint(18, 25)].rstrip()  # card descriptors are cut short
    roll = rng.random()
    if roll < 0.25:
        name = rng.choice(PROCESSORS) + name
    elif roll < 0.45:
        name = rng.choice(BOOKING) + name
    tail = rng.random()
    if tail < 0.2:
        name += f" #{rng.randint(10, 99999)}"
    elif tail < 0.35:
        name += "*" + _code(rng, rng.randint(4, 9))
    elif tail < 0.5:
        name += f" {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}"
    elif tail < 0.6:
        name += f" {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    elif tail < 0.7:
        city, country = rng.choice(CITIES)
        name = f"{name:<25}{city:<13}{country}"
    elif tail < 0.8:
        name += f" CD {rng.randint(1000, 9999)}"
    return name


def demo_rows(persona: str, *, noise_seed: int | None = None) -> list[LedgerRow]:
    """Two years of a demo persona, categorized as the bank file would have said."""
    rng = random.Random(noise_seed)
    rows = []
    for index, row in enumerate(
        generate_transactions(seed=DEMO_SEED, end=END, days=730, persona=persona)
    ):
        description = row.description or ""
        rows.append(
            LedgerRow(
                id=index + 1,
                description=noisy(description, rng) if noise_seed is not None else description,
                amount=row.amount,
                timestamp=row.timestamp,
                category=row.category,
                category_source=CategorySource.BANK,
                account_id=1,
            )
        )
    return rows


def split_by_size(rows: list[LedgerRow], *, merchant: str, below: Decimal, category: str):
    """The rows with the merchant's purchases under `below` filed as `category` instead
    (a user who files small orders from one shop apart: the memory alone cannot tell)."""
    key = merchant_key(merchant)
    return [
        (
            dataclasses.replace(row, category=category)
            if merchant_key(row.description) == key and Decimal(0) < row.amount < below
            else row
        )
        for row in rows
    ]


def scaled_rows(count: int, *, noise_seed: int = 7) -> list[LedgerRow]:
    """About `count` noisy rows of the three personas (for the timing script)."""
    rng = random.Random(noise_seed)
    rows: list[LedgerRow] = []
    personas = ("demo", "alex", "sam")
    per_day = count / 730 / len(personas)
    for account, persona in enumerate(personas, start=1):
        for row in generate_transactions(
            seed=DEMO_SEED, end=END, days=730, persona=persona, per_day=per_day
        ):
            rows.append(
                LedgerRow(
                    id=len(rows) + 1,
                    description=noisy(row.description or "", rng),
                    amount=row.amount,
                    timestamp=row.timestamp,
                    category=row.category,
                    category_source=CategorySource.BANK,
                    account_id=account,
                )
            )
    return rows[:count]

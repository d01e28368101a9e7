"""Merchant keys: the same merchant in its many spellings meets, different ones stay apart."""

import pytest

from spending_api.categorize.merchant import clean_description, looks_like_refund, merchant_key

# Each group: the ways banks, cards and wallets write one merchant (shapes as in real exports).
SAME_MERCHANT = [
    ["AMAZON MKTPL*AB12C", "AMZN Mktp US*2K4", "AMZN MKTP US*MB3LL0K22", "Amazon Mktplace*ZX9"],
    ["SQ *BLUE BOTTLE COFFEE", "SQ* Blue Bottle Coffee #0231", "Blue Bottle Coffee  OAKLAND  CA"],
    ["PAYPAL *NETFLIX", "Netflix", "NETFLIX 12/03", "PAYPAL NETFLIX 4029357733"],
    ["Starbucks", "STARBUCKS #12345 SEATTLE", "POS 0412 STARBUCKS", "starbucks"],
    [
        "BP EXPRESS 0000          BRISBANE     000",
        "BP EXPRESS 1234          MELBOURNE    AUS",
        "BP Express",
    ],
    ["L'ORANGERIE             PARIS        FRA", "L'ORANGERIE  PARIS FRA", "lorangerie"],
    ["Refund - MegaMart Online", "MegaMart Online", "MEGAMART ONLINE *ORD88123"],
    [
        "DIGITALOCEAN 212-5550134, US 12.00 USD, 1 USD = 0.91 EUR",
        "Refund: DIGITALOCEAN (212-5550134, US) 1 USD = 1.0951 EUR",
    ],
    ["Debit TWINT: Bäckerei Huber", "TWINT *Baeckerei Huber", "Bäckerei Huber"],
    ["CARD PAYMENT TO TESCO STORES 3041 ON 14 MAR", "TESCO STORES 6512", "Tesco Stores"],
    ["Devolución Tarjeta AMZN Mktp ES", "Compra Tarjeta AMZN Mktp ES 1234"],
    [
        "SumUp *Kebab House",
        "IZ *Kebab House",
        "ZETTLE_*KEBAB HOUSE",
        "KEBAB HOUSE 2024-03-01 12:31",
    ],
    ["UBER *TRIP", "UBER   *TRIP HELP.UBER.COM", "Uber"],
    ["GITHUB 99812 CA", "GITHUB.COM"],
    ["REWE MÜLLER//KÖLN/DE", "Rewe Muller"],
]

DIFFERENT_MERCHANTS = [
    "AMAZON MKTPL*AB12C",
    "SQ *BLUE BOTTLE COFFEE",
    "Netflix",
    "Starbucks",
    "BP Express",
    "Tesco Stores",
    "Spotify",
    "Shell fuel purchase MASTER 555",
    "Vattenfall Europe Energy",
    "Green Basket Market",
    "FreshWay Supermarket",
    "Corner Grocer",
    "Luigi's Pizzeria",
    "Sakura Sushi",
    "The Daily Grind Coffee",
    "Taco Loco",
    "Bistro 21",
    "Metro card top-up",
    "City Bikes",
    "RideNow taxi",
    "Bookworm Books",
    "Urban Outfitters",
    "Home & Co",
    "Kebab House",
]


@pytest.mark.parametrize("variants", SAME_MERCHANT, ids=lambda group: group[0][:24])
def test_spellings_of_one_merchant_share_a_key(variants):
    keys = {merchant_key(variant) for variant in variants}

    assert len(keys) == 1, {variant: merchant_key(variant) for variant in variants}
    assert keys != {""}


def test_different_merchants_keep_different_keys():
    keys = [merchant_key(name) for name in DIFFERENT_MERCHANTS]

    assert all(keys)
    assert len(set(keys)) == len(keys), sorted(keys)


def test_the_issue_example():
    assert merchant_key("AMAZON MKTPL*AB12C") == merchant_key("AMZN Mktp US*2K4") == "amzn mktp"


@pytest.mark.parametrize(
    "text, words",
    [
        ("SQ *BLUE BOTTLE COFFEE #0231", "blue bottle coffee"),
        ("POS 12/03 STARBUCKS STORE 12345 14:22", "starbucks store"),
        ("HULU.COM/BILLING    SANTA MONICA    USA", "hulu billing"),
        ("Amazon.de*7QX1 AMAZON.DE  LUX", "amazon"),
        ("VISA CONTACTLESS Café Müller REF 8812AB", "cafe muller ref"),
        ("APL*ITUNES.COM/BILL", "itunes bill"),
        ("Luigi's Pizzeria", "luigis pizzeria"),
    ],
)
def test_clean_description_keeps_the_merchant_words(text, words):
    assert clean_description(text) == words


@pytest.mark.parametrize("text", ["", None, "12345", "12/03/2024 14:22", "#4411 *AB12C9", "  "])
def test_nothing_that_names_a_merchant_gives_an_empty_key(text):
    assert merchant_key(text) == ""
    assert clean_description(text) == ""


@pytest.mark.parametrize(
    "text, refund",
    [
        ("Refund - MegaMart Online", True),
        ("Refund: DIGITALOCEAN (212-5550134, US)", True),
        ("Devolución Tarjeta AMZN Mktp ES", True),
        ("AMAZON RETURN 12345", True),
        ("Gutschrift aus Dauerauftrag", True),
        ("MegaMart Online", False),
        ("Salary ACME INC", False),
        ("Refundable deposit - hotel", False),
    ],
)
def test_refund_words(text, refund):
    assert looks_like_refund(text) is refund

"""Kind hints from categories, type columns and phrases in seven languages."""

import pytest

from spending_api.ingest.kinds import TransferParties, kind_hint, party_account, party_name


def _hint(category=None, bank_type=None, *texts, money_in=True):
    return kind_hint(category=category, bank_type=bank_type, texts=texts, money_in=money_in)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Income", "income"),
        ("income_salary", "income"),
        ("Gehalt", "income"),
        ("Nómina o Pensión", "income"),
        ("Salário", "income"),
        ("Transfers", "transfer"),
        ("SAVING", "transfer"),
        ("To 'Payment card'", "transfer"),
        ("Credit Card Payment", "card_payment"),
        ("Groceries", None),
    ],
)
def test_bank_categories(category, expected):
    assert _hint(category) == expected


@pytest.mark.parametrize(
    ("text", "money_in", "expected"),
    [
        ("PAYMENT RECEIVED - THANK YOU", True, "card_payment"),
        ("CAPITAL ONE AUTOPAY PYMT", True, "card_payment"),
        ("EIGENE KREDITKARTENABRECHN.", False, "card_payment"),
        ("DIRECT DEBIT TRANSACTION", True, "card_payment"),
        ("DIRECT DEBIT TRANSACTION", False, None),
        ("ACME CORP PAYROLL", True, "income"),
        ("ACME CORP PAYROLL", False, None),
        ("HabenzinsenZ 000010035", True, "income"),
        ("VIR SEPA RECU SALAIRE", True, "income"),
        ("Stipendio marzo", True, "income"),
        ("TRANSFER TO MBR ***0123 - SWEEP ACCOUNT", False, "transfer"),
        ("Traspaso recibido Cuenta", True, "transfer"),
        ("Umbuchung von 003", True, "transfer"),
        ("Overboeking eigen rekening", False, "transfer"),
        ("Top-Up by *1234", True, "transfer"),
        ("Virement interne", False, "transfer"),
        ("Giroconto su deposito", False, "transfer"),
        ("Transferência entre contas", False, "transfer"),
        ("Transfer Reference", False, None),
        ("TransferWise Charges for: TRANSFER-175545673", False, None),
        ("Virement postal", True, None),
    ],
)
def test_phrases(text, money_in, expected):
    assert _hint(None, None, text, money_in=money_in) == expected


def test_a_sepa_credit_transfer_is_a_payment_and_the_category_comes_first():
    assert _hint(None, "Credit Transfer", "Salary January 2024") == "income"
    assert _hint(None, "Debit Transfer", "Rent payment", money_in=False) is None
    assert _hint("Savings", None, "salary") == "transfer"
    assert _hint(None, "TRANSFER", "To Guybrush Threepwood", money_in=False) == "transfer"


def test_party_names_and_accounts_compare_as_a_bank_writes_them():
    assert party_name("Gert Janssen (FR)") == party_name("GERT  JANSSEN") == "gert janssen"
    assert party_name("G. Janssen") == "g janssen"
    assert party_name("(—)") is None
    assert party_account(" nl99 asnb 0123 ") == "NL99ASNB0123"
    assert party_account("n/a") is None


@pytest.mark.parametrize(
    ("way", "negate", "expected"),
    [("out", False, True), ("in", False, False), ("+", False, True), ("-", True, True)],
)
def test_money_back_from_where_transfers_go_by_the_way_they_went(way, negate, expected):
    parties = TransferParties()
    parties.add("NL99 ASNB 0123", "Gert Janssen", way=way)
    parties.settle(negate=negate)

    assert parties.receives("NL99ASNB0123", None) is expected
    assert parties.receives(None, "GERT JANSSEN (NL)") is expected
    assert parties.receives("NL11RABO0456", "Bakker BV") is False


def test_no_parties_before_the_sign_is_settled():
    parties = TransferParties()
    parties.add("99999999", None, way="out")

    assert not parties.receives("99999999", None)

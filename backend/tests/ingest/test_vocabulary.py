"""Header words in seven languages, and the role each names."""

import pytest

from spending_api.ingest.vocabulary import fold, header_role, map_header, normalise_header


@pytest.mark.parametrize(
    ("cell", "role"),
    [
        ("Transaction Date", "date"),
        ("Buchungstag", "date"),
        ("Transactiedatum", "date"),
        ("Date de l'opération", "date"),
        ("Fecha", "date"),
        ("Data", "date"),
        ("Date Processed", "date"),
        ("Montant de l'opération", "amount"),
        ("Bedrag (EUR)", "amount"),
        ("Amount(in Rs)", "amount"),
        ("Betrag", "amount"),
        ("Importe", "amount"),
        ("Valor", "amount"),
        ("Débit", "debit"),
        ("Withdrawals (SGD)", "debit"),
        ("Debit CHF", "debit"),
        ("Withdrawal (-)", "debit"),
        ("Soll", "debit"),
        ("Crédit", "credit"),
        ("Paid in", "credit"),
        ("Haben", "credit"),
        ("Af Bij", "direction"),
        ("CreditDebet", "direction"),
        ("Auftraggeber/Empfänger", "payee"),
        ("Naam tegenpartij", "payee"),
        ("Libellé", "description"),
        ("Histórico", "description"),
        ("Omschrijving-1", "description"),
        ("Verwendungszweck", "notes"),
        ("Buchungstext", "type"),
        ("Währung", "currency"),
        ("Saldo na trn", "balance"),
        ("State", "status"),
    ],
)
def test_header_words_name_their_role(cell, role):
    assert header_role(cell)[0] == role


def test_a_replacement_character_matches_any_one_letter():
    assert header_role("Auftraggeber / Beg\ufffdnstigter")[0] == "payee"


def test_currency_named_in_a_money_header_and_not_a_fee():
    columns, currency = map_header(["Date", "Amount (total)", "Amount (fee)", "Note"])

    assert columns == {0: "date", 1: "amount", 3: "notes"}
    assert currency is None
    assert map_header(["Date", "Betrag (EUR)"])[1] == "EUR"


def test_best_alias_wins_and_text_roles_may_repeat():
    columns, _ = map_header(
        ["Wertstellung", "Belegdatum", "Omschrijving-1", "Omschrijving-2", "Gross", "Net"]
    )

    assert columns == {1: "date", 2: "description", 3: "description", 5: "amount"}


def test_folding_and_normalising():
    assert fold("Débit Größe") == "debit grosse"
    assert normalise_header("  Amount (EUR) ") == "amount eur"
    assert header_role("Original Amount") is None

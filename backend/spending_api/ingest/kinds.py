"""Kind hints (income, transfer, card payment) from what a bank writes about a transaction.

The bank's category names come first, then its type or transaction-code column, then
well-known phrases of the description in EN/DE/NL/FR/ES/PT/IT. A hint is a hint: the
import step maps it onto the user's categories and pairs transfers across accounts.
Income hints apply to money in only; a salary-like word on money out (a wage paid, a
loan's interest) says nothing.
"""

import re
from functools import lru_cache

from spending_api.ingest.vocabulary import fold

KIND_PRECEDENCE = ("card_payment", "transfer", "income")


def _words(*phrases: str) -> re.Pattern:
    # Word starts only, so German compounds ("Habenzinsen", "Gehaltszahlung") match too.
    alternatives = "|".join(
        re.escape(fold(phrase)).replace(r"\ ", r"[\s_/-]*") for phrase in phrases
    )
    return re.compile(rf"(?:^|[\W_]|(?<=[a-z]))(?:{alternatives})", re.IGNORECASE)


def _whole(*phrases: str) -> re.Pattern:
    alternatives = "|".join(
        re.escape(fold(phrase)).replace(r"\ ", r"[\s_/-]*") for phrase in phrases
    )
    return re.compile(rf"(?:^|[\W_])(?:{alternatives})(?:$|[\W_])", re.IGNORECASE)


CARD_PAYMENT = _whole(
    "payment thank you",
    "payment received thank you",
    "payment received",
    "thank you for your payment",
    "autopay",
    "auto pay",
    "credit card payment",
    "cr card payment",
    "card payment received",
    "kreditkartenabrechnung",
    "kreditkartenabrechn",
    "kreditkarte abrechnung",
    "creditcard betaling",
    "pago tarjeta de credito",
    "pago de tarjeta",
    "remboursement carte",
    "pagamento fatura",
    "pagamento carta di credito",
)
TRANSFER = _whole(
    "account transfer",
    "internal transfer",
    "own account",
    "transfer to own account",
    "savings",
    "saving",
    "pension contribution",
    "transfer to",
    "transfer from",
    "bank transfer",
    "sweep",
    "sweep account",
    "money market",
    "top up",
    "topup",
    "topped up",
    "added to wallet",
    "money moved",
    "funds transfer",
    "paypal transfer",
    "trnsfr",
    "xfer",
    "standard transfer",
    "umbuchung",
    "ubertrag",
    "eigenes konto",
    "eigene konten",
    "spaarrekening",
    "overboeking",
    "overboeking eigen rekening",
    "traspaso",
    "entre cuentas",
    "virement interne",
    "virement de compte a compte",
    "giroconto",
    "trasferimento",
    "transferencia entre contas",
    "entre contas",
)
# Banks also write transfers to other people as "credit/debit transfer" (SEPA); those are
# payments, not moves between the user's own accounts.
NOT_TRANSFER = _whole(
    "credit transfer", "debit transfer", "sepa transfer", "wire transfer", "incoming wire"
)
# A bare "transfer" (a type column's TRANSFER, "PAYPAL TRANSFER"), but not a reference
# ("Transfer Reference", "TRANSFER-175545673") nor a transfer to someone else (below).
BARE_TRANSFER = re.compile(
    r"(?:^|[\W_])(?:transfers?|overboeking)"
    r"(?!\s*(?:reference|ref\b|id\b|fee|charge)|-\d)(?:$|[\W_])"
)
_OWN_ACCOUNT_QUOTED = re.compile(r"^(?:to|from|naar|van|nach|von|vers|de|a|para) '[^']+'$")
INCOME = _words(
    "income",
    "salary",
    "salaries",
    "wage",
    "payroll",
    "paycheck",
    "direct deposit",
    "dir dep",
    "interest",
    "dividend",
    "zinsen",
    "gehalt",
    "lohn",
    "einkommen",
    "einnahmen",
    "nomina",
    "salario",
    "ingreso",
    "intereses",
    "salaire",
    "revenu",
    "interets",
    "salaris",
    "inkomen",
    "rente",
    "proventos",
    "rendimento",
    "juros",
    "stipendio",
    "reddito",
    "interessi",
    "pension",
)
# OFX TRNTYPE and CAMT.053 sub-family codes.
OFX_TYPES = {"XFER": "transfer", "INT": "income", "DIV": "income", "DIRECTDEP": "income"}
CAMT_SUBFAMILIES = {"SALA": "income", "INTR": "income", "DIVD": "income", "BOOK": "transfer"}


@lru_cache(maxsize=8192)  # merchants repeat: a large file asks about few distinct texts
def _match(text: str, money_in: bool) -> str | None:
    folded = fold(text)
    if CARD_PAYMENT.search(folded):
        return "card_payment"
    if money_in and re.search(r"\bdirect debit\b", folded):
        return "card_payment"  # money in by direct debit: a card account being paid
    if _OWN_ACCOUNT_QUOTED.match(folded.strip()):
        return "transfer"
    if (TRANSFER.search(folded) or BARE_TRANSFER.search(folded)) and not NOT_TRANSFER.search(
        folded
    ):
        return "transfer"
    if money_in and INCOME.search(folded):
        return "income"
    return None


@lru_cache(maxsize=8192)
def kind_hint(
    *, category: str | None, bank_type: str | None, texts: tuple[str | None, ...], money_in: bool
) -> str | None:
    """The hint for one transaction; `texts` are its description and notes."""
    for source in (category, bank_type):
        if source:
            found = _match(source, money_in)
            if found:
                return found
    found = [hint for text in texts if text for hint in [_match(text, money_in)] if hint]
    for kind in KIND_PRECEDENCE:
        if kind in found:
            return kind
    return None


# Which income: pay from work (the "Salary" category) rather than interest or a gift.
SALARY = _words(
    "salary",
    "salaries",
    "wage",
    "payroll",
    "paycheck",
    "direct deposit",
    "dir dep",
    "gehalt",
    "lohn",
    "nomina",
    "salario",
    "salaire",
    "salaris",
    "stipendio",
    "proventos",
)
# Money back for a purchase: it lowers spending instead of counting as income.
REFUND = _whole(
    "refund",
    "refunded",
    "return",
    "returned",
    "reversal",
    "chargeback",
    "rebate",
    "cashback",
    "erstattung",
    "ruckerstattung",
    "storno",
    "gutschrift storno",
    "terugbetaling",
    "kwijtschelding",
    "restitutie",
    "remboursement",
    "rembourse",
    "reembolso",
    "devolucion",
    "devolucao",
    "estorno",
    "rimborso",
)


@lru_cache(maxsize=8192)
def _says(pattern: re.Pattern, texts: tuple[str | None, ...]) -> bool:
    return any(text and pattern.search(fold(text)) for text in texts)


def is_salary(texts: tuple[str | None, ...]) -> bool:
    """Whether an income row's texts (type, description, notes) name pay from work."""
    return _says(SALARY, texts)


def is_refund(texts: tuple[str | None, ...]) -> bool:
    """Whether money in is, by its texts (type, description, notes), a refund."""
    return _says(REFUND, texts)


@lru_cache(maxsize=8192)
def is_bare_transfer(texts: tuple[str | None, ...]) -> bool:
    """Whether the texts call a row a transfer only by the bare word ('TRANSFER', a
    type column's 'Transfer'), never naming the user's own account: a payment to
    someone else as often as a move between the user's accounts. Pairing decides."""
    folded = [fold(text) for text in texts if text]
    if any(TRANSFER.search(text) or _OWN_ACCOUNT_QUOTED.match(text.strip()) for text in folded):
        return False
    return any(BARE_TRANSFER.search(text) for text in folded)


# Cash taken out is spent (as an ATM withdrawal is), even where a bank files it as a transfer.
CASH_WITHDRAWAL = _whole(
    "atm withdrawal",
    "cash withdrawal",
    "geldautomat",
    "bargeldauszahlung",
    "geldopname",
    "retrait",
    "retirada de efectivo",
    "reintegro efectivo",
    "saque",
    "prelievo",
)


def is_cash_withdrawal(texts: tuple[str | None, ...]) -> bool:
    return _says(CASH_WITHDRAWAL, texts)


# Names of the same person as banks write them: "Gert Janssen (FR)", "G. Janssen".
_NAME_NOISE = re.compile(r"\([^)]*\)|[^\w\s]")
MAX_PARTIES = 10_000


@lru_cache(maxsize=8192)  # a file names few distinct parties
def party_name(name: str | None) -> str | None:
    """A counterparty's name for comparing: case, accents, punctuation and a bracketed
    remark dropped ('Gert Janssen (FR)' -> 'gert janssen')."""
    if not name:
        return None
    found = " ".join(_NAME_NOISE.sub(" ", fold(name)).split())
    return found or None


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=8192)
def party_account(number: str | None) -> str | None:
    """An account number for comparing: 'NL99 ASNB 0123' -> 'NL99ASNB0123'."""
    if not number:
        return None
    found = "".join(number.split()).upper()
    return found if _DIGIT.search(found) else None


class TransferParties:
    """Who a file's transfers out go to, by account number and by name.

    Money in from one of them, that nothing else names, is money coming back between the
    same hands (the holder's other account paying this one, as in a Knab export where every
    'Overboeking' goes to the holder's own accounts and 'Ontvangen betaling' comes back):
    it is a transfer like the money that went out, not income. Gathered before the rows
    are read, with the way each transfer went as written ('+'/'-' for a signed amount,
    'out'/'in' for a direction); `settle` turns those into money out once the sign is known.
    """

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}
        self._out: frozenset[str] = frozenset()

    def add(self, account: str | None, name: str | None, *, way: str) -> None:
        for key in self._keys(account, name):
            ways = self._seen.get(key)
            if ways is None:
                if len(self._seen) >= MAX_PARTIES:
                    continue
                ways = self._seen[key] = set()
            ways.add(way)

    def settle(self, *, negate: bool) -> None:
        out_ways = {"out", "-" if negate else "+"}
        self._out = frozenset(key for key, ways in self._seen.items() if ways & out_ways)

    def receives(self, account: str | None, name: str | None) -> bool:
        """Whether this party is where the file's transfers out go."""
        if not self._out:
            return False
        number = party_account(account)
        if number and "account:" + number in self._out:
            return True
        folded = party_name(name)
        return bool(folded) and "name:" + folded in self._out

    @staticmethod
    def _keys(account: str | None, name: str | None) -> list[str]:
        keys = []
        number = party_account(account)
        if number:
            keys.append("account:" + number)
        folded = party_name(name)
        if folded:
            keys.append("name:" + folded)
        return keys

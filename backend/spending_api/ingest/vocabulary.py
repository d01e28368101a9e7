"""Header words of bank exports in EN/DE/NL/FR/ES/PT/IT, and the role each one names."""

import re
import unicodedata

# Best first: the first alias found in a header wins its role (e.g. the transaction date
# over the posting or value date, the payee over the payment reference).
ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "transaction date",
        "trans date",
        "date",
        "datum",
        "fecha",
        "data",
        "date de l operation",
        "date operation",
        "transactiedatum",
        "belegdatum",
        "booking date",
        "buchungstag",
        "buchung",
        "buchungsdatum",
        "started date",
        "date time",
        "datetime",
        "timestamp",
        "created",
        "created at",
        "date processed",
        "fecha operacion",
        "data operazione",
        "data movimento",
        "completed date",
        "posted date",
        "post date",
        "posting date",
        "boekdatum",
        "data contabile",
        "value date",
        "valutadatum",
        "wertstellung",
        "wertstellungsdatum",
        "valuta",
        "date de valeur",
        "fecha valor",
        "data valuta",
        "rentedatum",
    ),
    "time": ("time", "transaction time", "uhrzeit", "hora", "heure", "ora", "tijd"),
    "amount": (
        "amount",
        "transaction amount",
        "amount total",
        "net",
        "betrag",
        "bedrag",
        "montant",
        "montant de l operation",
        "importe",
        "importo",
        "valor",
        "valore",
        "value",
        "sum",
        "gross",
        "billing amount",
    ),
    "debit": (
        "debit",
        "debit amount",
        "debits",
        "paid out",
        "money out",
        "withdrawal",
        "withdrawals",
        "withdrawal amount",
        "out",
        "spent",
        "soll",
        "ausgang",
        "uitgaven",
        "cargo",
        "cargos",
        "addebito",
        "addebiti",
        "uscite",
        "debito",
        "saida",
    ),
    "credit": (
        "credit",
        "credit amount",
        "credits",
        "paid in",
        "money in",
        "deposit",
        "deposits",
        "deposit amount",
        "in",
        "received",
        "haben",
        "eingang",
        "inkomsten",
        "abono",
        "abonos",
        "accredito",
        "accrediti",
        "entrate",
        "credito",
        "entrada",
    ),
    "direction": (
        "af bij",
        "credit debit",
        "creditdebet",
        "debit credit",
        "cr dr",
        "dr cr",
        "d c",
        "c d",
        "soll haben",
        "amount sign",
        "billingamountsign",
        "sign",
    ),
    "payee": (
        "payee",
        "payee name",
        "payer name",
        "merchant",
        "merchant name",
        "name",
        "partner name",
        "counterparty",
        "beneficiary",
        "auftraggeber empfanger",
        "auftraggeber beguenstigter",
        "auftraggeber begunstigter",
        "beguenstigter zahlungspflichtiger",
        "empfanger",
        "zahlungsempfanger",
        "naam tegenpartij",
        "tegenrekeninghouder",
        "tegenpartij",
        "beneficiaire",
        "beneficiario",
        "destinatario",
        "favorecido",
    ),
    # The other party's account number: money back from an account this one pays into is
    # money moving between the same hands (kinds.py), not income.
    "counter_account": (
        "tegenrekening",
        "tegenrekeningnummer",
        "tegenrekening iban bban",
        "partner iban",
        "counterparty iban",
        "counterparty account",
        "payee account number",
        "kontonummer iban",
        "iban zahlungsbeteiligter",
        "gegenkonto",
        "compte contrepartie",
        "cuenta contrapartida",
    ),
    "description": (
        "description",
        "transaction description",
        "transaction details",
        "booking text",
        "naam omschrijving",
        "libelle",
        "omschrijving",
        "beschreibung",
        "descripcion",
        "concepto",
        "descrizione",
        "descricao",
        "historico",
        "narrative",
        "narration",
        "particulars",
        "text",
        "desc",
    ),
    "notes": (
        "notes",
        "note",
        "memo",
        "payment reference",
        "reference",
        "verwendungszweck",
        "mededelingen",
        "payment purpose",
        "details",
        "detail de l ecriture",
        "subject",
        "comment",
        "original description",
        "reason",
        "betalingskenmerk",
        "item title",
    ),
    "category": (
        "category",
        "categories",
        "category name",
        "kategorie",
        "categorie",
        "categoria",
        "subcategory",
        "sub category",
        "class",
    ),
    "type": (
        "type",
        "transaction type",
        "transaction details type",
        "buchungstext",
        "posting text",
        "betaalwijze",
        "type betaling",
        "mutatiesoort",
        "code",
        "activity",
        "tipo",
        "type d operation",
        "transactietype",
    ),
    "currency": (
        "currency",
        "currency code",
        "ccy",
        "curr",
        "wahrung",
        "waehrung",
        "devise",
        "munt",
        "valutacode",
        "moneda",
        "monn",
        "moeda",
        "divisa",
    ),
    "balance": (
        "balance",
        "running balance",
        "current balance",
        "runningbalance",
        "saldo",
        "saldo na trn",
        "kontostand",
        "solde",
    ),
    "status": ("status", "state", "info", "estado", "stato"),
    "id": (
        "transaction id",
        "id",
        "fitid",
        "transaction reference",
        "referentie",
        "reference id",
        "transactiereferentie",
    ),
}
# Roles whose columns may be several ("Omschrijving-1", "Omschrijving-2", ...).
MULTI_COLUMN_ROLES = {"description", "payee", "notes"}
# "Amount (EUR)", "Debit CHF", "Withdrawals (SGD)": a money column named with its currency.
_WITH_CURRENCY = re.compile(
    r"(?P<word>amount|betrag|bedrag|montant|importe|importo|valor|value|debit|credit"
    r"|withdrawals?|deposits?|balance|saldo|solde) (?:in )?(?P<code>[a-z]{2,3})"
)
# Currencies a money header may name (ISO 4217, and the rupee's "Rs").
CURRENCY_CODES = set(
    "EUR USD GBP CHF CAD AUD NZD JPY CNY HKD SGD INR BRL MXN ARS CLP COP PEN ZAR SEK NOK DKK"
    " PLN CZK HUF RON BGN TRY RUB UAH ILS AED SAR QAR KWD EGP NGN KES THB MYR IDR PHP VND KRW"
    " TWD PKR BDT LKR ISK".split()
)
_CURRENCY_ALIASES = {"RS": "INR"}
_NUMBERED = re.compile(r"(.*\D) ?\d{1,2}")


def fold(text: str) -> str:
    """Case- and accent-free, for comparing words: 'Débit' -> 'debit'."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalise_header(cell: str) -> str:
    return " ".join(re.sub(r"[^\w\ufffd]+|_", " ", fold(cell)).split())


_ALIAS_RANK = {
    alias: (role, rank) for role, aliases in ALIASES.items() for rank, alias in enumerate(aliases)
}


def header_role(cell: str) -> tuple[str, int, str | None] | None:
    """(role, rank, currency code) a header cell names, or None; lower rank is better."""
    name = normalise_header(cell)
    if not name:
        return None
    if name in _ALIAS_RANK:
        role, rank = _ALIAS_RANK[name]
        return role, rank, None
    if "\ufffd" in name:  # a broken export wrote U+FFFD for one letter: match it as any
        pattern = re.compile(re.escape(name).replace("\ufffd", "."))
        for alias, (role, rank) in _ALIAS_RANK.items():
            if pattern.fullmatch(alias):
                return role, rank, None
    match = _WITH_CURRENCY.fullmatch(name)
    if match:
        word = match.group("word").rstrip("s")
        code = match.group("code").upper()
        code = _CURRENCY_ALIASES.get(code, code)
        if code in CURRENCY_CODES:
            role, rank = _ALIAS_RANK.get(word, _ALIAS_RANK.get(word + "s", ("amount", 99)))
            return role, rank + 50, code
    numbered = _NUMBERED.fullmatch(name)
    if numbered and numbered.group(1).strip() in _ALIAS_RANK:
        role, rank = _ALIAS_RANK[numbered.group(1).strip()]
        if role in MULTI_COLUMN_ROLES:
            return role, rank, None
    return None


def map_header(cells: list[str]) -> tuple[dict[int, str], str | None]:
    """Column index -> role for a header row, and a currency named in a money header.

    Each single-column role goes to its best-ranked column; text roles may have several.
    """
    best: dict[str, tuple[int, int]] = {}
    multi: dict[int, str] = {}
    currency = None
    for index, cell in enumerate(cells):
        found = header_role(cell)
        if found is None:
            continue
        role, rank, code = found
        if code and role in ("amount", "debit", "credit"):
            currency = currency or code
        if role in MULTI_COLUMN_ROLES:
            multi[index] = role
        elif role not in best or rank < best[role][0]:
            best[role] = (rank, index)
    columns = dict(multi)
    for role, (_, index) in best.items():
        columns[index] = role
    return columns, currency


def has_money(columns: dict[int, str]) -> bool:
    return bool({"amount", "debit", "credit"} & set(columns.values()))

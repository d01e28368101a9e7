"""Default rules a new user starts with: booking words every bank writes, in the languages
of the exports we read (English, German, Dutch, French, Spanish). The user can edit,
reorder or delete them like their own rules."""

from spending_api.categorize.rules import (
    AmountCondition,
    Direction,
    Rule,
    RuleActions,
    TextCondition,
    TextField,
    TextOperator,
)


def _words(*words: str) -> TextCondition:
    # (?:^|\W) ... (?:\W|$) instead of \b: RE2's \b is ASCII-only, the words are not.
    pattern = r"(?:^|\W)(?:" + "|".join(words) + r")(?:\W|$)"
    return TextCondition(field=TextField.DESCRIPTION, operator=TextOperator.REGEX, value=pattern)


# In order: a later rule's category wins, so the transfer rule comes after the salary one
# ('Traspaso recibido Cuenta Nómina' is a move from the holder's payroll account). A French
# "virement" alone is any transfer, to anyone: only the internal ones are the user's own.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        id=-3,
        name="Salary",
        conditions=(
            _words(
                "salary",
                "payroll",
                "wages",
                "direct deposit",
                "ddeposit",
                "n[oó]mina",
                "gehalt",
                "lohn",
                "salaris",
                "salaire",
            ),
            AmountCondition(direction=Direction.MONEY_IN),
        ),
        actions=RuleActions(set_category="Income"),
    ),
    Rule(
        id=-1,
        name="Transfers between own accounts",
        conditions=(
            _words(
                "transfer to",
                "transfer from",
                "transfer",
                "tfr",
                "sweep",
                "overboeking",
                "traspaso",
                "virement interne",
                "virement de compte",
                "umbuchung",
                "autopay",
                "card payment",
                "top-up",
                "savings",
            ),
        ),
        actions=RuleActions(set_category="Transfer", mark_transfer=True),
    ),
    Rule(
        id=-2,
        name="Cash withdrawals",
        conditions=(
            _words("atm", "cash withdrawal", "withdrawal", "geldautomat", "bargeld", "cajero"),
            AmountCondition(direction=Direction.MONEY_OUT),
        ),
        actions=RuleActions(set_category="Cash"),
    ),
    Rule(
        id=-4,
        name="Bank fees",
        conditions=(
            _words(
                "fee",
                "fees",
                "charges",
                "kosten",
                "geb[uü]hr",
                "entgelt",
                "comisi[oó]n",
                "frais",
            ),
            AmountCondition(direction=Direction.MONEY_OUT),
        ),
        actions=RuleActions(set_category="Fees"),
    ),
    Rule(
        id=-5,
        name="Interest",
        conditions=(
            _words("interest", "zinsen", "habenzinsen", "rente", "intereses", "int[eé]r[eê]ts"),
        ),
        actions=RuleActions(set_category="Interest"),
    ),
    Rule(
        id=-6,
        name="Taxes",
        conditions=(
            _words("tax", "taxes", "steuer", "kapitalertragsteuer", "belasting", "impuesto"),
        ),
        actions=RuleActions(set_category="Taxes"),
    ),
)

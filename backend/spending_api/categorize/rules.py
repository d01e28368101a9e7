"""User rules: ordered conditions and actions, evaluated without the database.

A rule matches a row when all of its conditions hold. Rules run in order, each one seeing
the row as the rules before it left it (so a later rule may test the category an earlier
one set, and its action wins). No rule changes the category of a row whose category the
user set by hand, nor a description the user typed.

Regular expressions come from users, so they run on RE2 (google-re2): its matching time is
linear in the text, whatever the pattern, so no pattern can hang a worker (Python's `re`
backtracks exponentially on '(a+)+b'; the `regex` package's timeout only stops such a
pattern after it has burnt the timeout on every row). RE2 refuses back-references and
look-around, which a description filter does not need; the refusal is a RuleError.
"""

from collections.abc import Iterable, Sequence
import dataclasses
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

import re2

from spending_api.categorize.ledger import CategorySource, LedgerRow
from spending_api.categorize.merchant import merchant_key

MAX_PATTERN_LENGTH = 200
MAX_VALUE_LENGTH = 200
MAX_CONDITIONS = 20
# RE2 builds its automaton within this budget or refuses the pattern.
REGEX_MEMORY_BYTES = 1 << 20


class RuleError(ValueError):
    """A rule that cannot be saved; `detail` is the stable message for a 422."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TextField(StrEnum):
    DESCRIPTION = "description"
    PAYEE = "payee"
    MERCHANT = "merchant"  # the merchant key of the payee or description (see merchant.py)


class TextOperator(StrEnum):
    CONTAINS = "contains"
    EQUALS = "equals"
    STARTS_WITH = "starts_with"
    REGEX = "regex"


class Direction(StrEnum):
    MONEY_IN = "in"
    MONEY_OUT = "out"


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = REGEX_MEMORY_BYTES
    options.log_errors = False
    return options


def _compile(pattern: str):
    try:
        return re2.compile(pattern, _regex_options())
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RuleError(
            f"The regular expression is not valid ({reason}); back-references and look-around "
            "are not supported."
        ) from None


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"The {what} must be a non-empty text.")
    if "\x00" in value:
        raise RuleError(f"The {what} must not contain NUL characters.")
    return value


@dataclass(frozen=True)
class TextCondition:
    """The description or payee contains / equals / starts with a text, or matches a regex."""

    field: TextField
    operator: TextOperator
    value: str
    _pattern: object = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "field", TextField(self.field))
        except ValueError:
            raise RuleError(
                "A text condition's field must be description, payee or merchant."
            ) from None
        try:
            object.__setattr__(self, "operator", TextOperator(self.operator))
        except ValueError:
            raise RuleError(
                "A text condition's operator must be contains, equals, starts_with or regex."
            ) from None
        _text(self.value, "condition's text")
        limit = MAX_PATTERN_LENGTH if self.operator is TextOperator.REGEX else MAX_VALUE_LENGTH
        if len(self.value) > limit:
            raise RuleError(f"The condition's text must be at most {limit} characters.")
        if self.field is TextField.MERCHANT:
            if self.operator is not TextOperator.EQUALS:
                raise RuleError("A merchant condition only supports equals.")
            if not merchant_key(self.value):
                raise RuleError("The merchant condition's text names no merchant.")
        if self.operator is TextOperator.REGEX:
            object.__setattr__(self, "_pattern", _compile(self.value))

    def matches(self, row: LedgerRow) -> bool:
        if self.field is TextField.MERCHANT:
            return merchant_key(row.merchant_text) == merchant_key(self.value)
        text = (row.description if self.field is TextField.DESCRIPTION else row.payee) or ""
        if self.operator is TextOperator.REGEX:
            return self._pattern.search(text) is not None
        text, value = text.strip().casefold(), self.value.strip().casefold()
        if self.operator is TextOperator.CONTAINS:
            return value in text
        if self.operator is TextOperator.EQUALS:
            return text == value
        return text.startswith(value)


@dataclass(frozen=True)
class AmountCondition:
    """The size of the amount is within [minimum, maximum]; optionally money in or out only."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None
    direction: Direction | None = None

    def __post_init__(self) -> None:
        for name in ("minimum", "maximum"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise RuleError(f"The amount {name} must be a number of zero or more.")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise RuleError("The amount minimum must not be larger than the maximum.")
        if self.direction is not None:
            try:
                object.__setattr__(self, "direction", Direction(self.direction))
            except ValueError:
                raise RuleError("The amount direction must be in or out.") from None
        if self.minimum is None and self.maximum is None and self.direction is None:
            raise RuleError("An amount condition needs a minimum, a maximum or a direction.")

    def matches(self, row: LedgerRow) -> bool:
        if self.direction is Direction.MONEY_IN and not row.amount < 0:
            return False
        if self.direction is Direction.MONEY_OUT and not row.amount > 0:
            return False
        size = abs(row.amount)
        if self.minimum is not None and size < self.minimum:
            return False
        return self.maximum is None or size <= self.maximum


@dataclass(frozen=True)
class AccountCondition:
    """The transaction belongs to one of these accounts."""

    account_ids: frozenset[int]

    def __post_init__(self) -> None:
        if not self.account_ids:
            raise RuleError("An account condition needs at least one account.")
        object.__setattr__(self, "account_ids", frozenset(self.account_ids))

    def matches(self, row: LedgerRow) -> bool:
        return row.account_id in self.account_ids


@dataclass(frozen=True)
class CategoryCondition:
    """The current category is one of these; None stands for 'no category yet'."""

    categories: frozenset[str | None]

    def __post_init__(self) -> None:
        if not self.categories:
            raise RuleError("A category condition needs at least one category.")
        object.__setattr__(self, "categories", frozenset(self.categories))

    def matches(self, row: LedgerRow) -> bool:
        return row.category in self.categories


Condition = TextCondition | AmountCondition | AccountCondition | CategoryCondition


@dataclass(frozen=True)
class RuleActions:
    """What a matching rule does; at least one of them."""

    set_category: str | None = None
    set_description: str | None = None  # a clean payee name
    mark_transfer: bool = False

    def __post_init__(self) -> None:
        if self.set_category is not None:
            _text(self.set_category, "category to set")
        if self.set_description is not None:
            _text(self.set_description, "description to set")
            if len(self.set_description) > MAX_VALUE_LENGTH:
                raise RuleError(
                    f"The description to set must be at most {MAX_VALUE_LENGTH} characters."
                )
        if self.set_category is None and self.set_description is None and not self.mark_transfer:
            raise RuleError("A rule needs an action: set a category, a description or a transfer.")


@dataclass(frozen=True)
class Rule:
    """An ordered user rule: all conditions must hold for the actions to run."""

    id: int
    conditions: tuple[Condition, ...]
    actions: RuleActions
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not self.conditions:
            raise RuleError("A rule needs at least one condition.")
        if len(self.conditions) > MAX_CONDITIONS:
            raise RuleError(f"A rule may have at most {MAX_CONDITIONS} conditions.")
        for condition in self.conditions:
            if not isinstance(condition, Condition):
                raise RuleError("Unknown condition type.")

    def matches(self, row: LedgerRow) -> bool:
        return all(condition.matches(row) for condition in self.conditions)


@dataclass(frozen=True)
class RowChange:
    """A row before and after the rules; `category_rule_id` is the rule that set its category."""

    before: LedgerRow
    after: LedgerRow
    rule_ids: tuple[int, ...]
    category_rule_id: int | None


@dataclass(frozen=True)
class RulePreview:
    """What saving (or running) a rule would change: the rows, their count and total."""

    changes: list[RowChange]

    @property
    def count(self) -> int:
        return len(self.changes)

    @property
    def total(self) -> Decimal:
        return sum((change.before.amount for change in self.changes), Decimal(0))


def _act(rule: Rule, row: LedgerRow) -> LedgerRow:
    """The row after one rule's actions (the rule is known to match)."""
    actions = rule.actions
    updates: dict = {}
    hand_set = row.category_source is CategorySource.USER
    if actions.set_category is not None and not hand_set:
        updates["category"] = actions.set_category
        updates["category_source"] = CategorySource.RULE
    if actions.mark_transfer and not hand_set:
        updates["is_transfer"] = True
        updates["category_source"] = CategorySource.RULE
    if actions.set_description is not None and not row.description_edited:
        updates["description"] = actions.set_description
    return replace(row, **updates) if updates else row


def _run(rules: Sequence[Rule], row: LedgerRow) -> RowChange | None:
    current, fired, category_rule = row, [], None
    for rule in rules:
        if not rule.matches(current):
            continue
        after = _act(rule, current)
        if after == current:
            continue
        fired.append(rule.id)
        if after.category_source is CategorySource.RULE and (
            rule.actions.set_category is not None or rule.actions.mark_transfer
        ):
            category_rule = rule.id
        current = after
    if not fired:
        return None
    return RowChange(
        before=row, after=current, rule_ids=tuple(fired), category_rule_id=category_rule
    )


def apply_rules(rules: Sequence[Rule], rows: Iterable[LedgerRow]) -> list[RowChange]:
    """The rows the rules change, in input order, with what each becomes."""
    return [change for row in rows if (change := _run(rules, row)) is not None]


def preview_rule(rule: Rule, rows: Iterable[LedgerRow]) -> RulePreview:
    """What one rule alone would change on the rows as they are (POST /rules/preview)."""
    return RulePreview(apply_rules([rule], rows))

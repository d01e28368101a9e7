"""The user's rules from the dashboard: their list (in order: edit, delete, move, enable),
the rule form with every condition and action the API has, its preview before saving, runs
over the existing transactions, and the rules offered from repeated corrections. The widgets
are in views/rules.py.

Every successful change ends in one `DashboardStore.changed()`: KPIs, charts, table, review
queue and rules all come back in one refresh, never one view at a time.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import param

from spending_ui.api import ApiError, Rule, RulePreview
from spending_ui.editing import ChangeState
from spending_ui.state import parse_money

logger = logging.getLogger(__name__)

TEXT_FIELDS = {
    "description": "Description",
    "payee": "Payee",
    "merchant": "Merchant (cleaned payee name)",
}
TEXT_OPERATORS = {
    "contains": "contains",
    "equals": "equals",
    "starts_with": "starts with",
    "regex": "matches the regular expression",
}
RULE_DIRECTIONS = {"": "In or out", "out": "Money out", "in": "Money in"}
NAME_CHARS = 100  # the API's limit of a rule's name
VALUE_CHARS = 500  # and of a condition's text or a description to set

# The form's fields: a change to any makes the preview stale.
FORM_PARAMS = [
    "rule_name",
    "text_field",
    "text_operator",
    "text_value",
    "amount_min",
    "amount_max",
    "direction",
    "account_ids",
    "current_categories",
    "set_category",
    "set_description",
    "mark_transfer",
    "enabled",
]


def _amount(text: str, what: str) -> Decimal | None:
    """A size typed in the form (no sign: the direction says in or out)."""
    try:
        value = parse_money(text)
    except ValueError as exc:
        raise ValueError(f"The amount {what}: {exc}") from None
    if value is not None and value < 0:
        raise ValueError(f"The amount {what} is a size: type it without a sign.")
    return value


def blank_conditions() -> dict:
    """The form's condition fields when it shows no condition (new lists each time)."""
    return dict(
        text_field="description",
        text_operator="contains",
        text_value="",
        amount_min="",
        amount_max="",
        direction="",
        account_ids=[],
        current_categories=[],
    )


class RulesState(ChangeState):
    editing_id = param.Integer(default=None, allow_None=True, doc="The saved rule in the form")
    # The form: one condition of each kind (a blank one is left out), and the actions.
    rule_name = param.String(default="")
    text_field = param.Selector(default="description", objects=list(TEXT_FIELDS))
    text_operator = param.Selector(default="contains", objects=list(TEXT_OPERATORS))
    text_value = param.String(default="")
    amount_min = param.String(default="")
    amount_max = param.String(default="")
    direction = param.Selector(default="", objects=list(RULE_DIRECTIONS))
    account_ids = param.List(default=[], item_type=int)
    current_categories = param.List(default=[], item_type=str)
    set_category = param.String(default="", doc="Blank: the rule leaves the category")
    set_description = param.String(default="")
    mark_transfer = param.Boolean(default=False)
    enabled = param.Boolean(default=True)
    apply_existing = param.Boolean(
        default=True, doc="Saving also runs the rule over the existing transactions"
    )
    # Conditions of an edited rule that the form has no place for (a second text condition):
    # kept as they are.
    kept_conditions = param.List(default=[], item_type=dict)

    preview = param.ClassSelector(class_=RulePreview, default=None, allow_None=True)
    previewed = param.ClassSelector(class_=Rule, default=None, allow_None=True)

    def __init__(self, **params):
        super().__init__(**params)
        # A preview answers for one form: any change makes it stale.
        self.param.watch(lambda *_: self.param.update(preview=None, previewed=None), FORM_PARAMS)

    # -- shared ---------------------------------------------------------------------------

    def saved_rule(self, rule_id: int) -> Rule | None:
        """The saved rule with this id, as the list shows it."""
        return next((rule for rule in self.store.rules if rule.id == rule_id), None)

    def reset(self) -> None:
        """Forget everything (a logout)."""
        self.clear_form()
        self.message = ""

    async def act(self, action: str, target: int) -> None:
        """A click on a button of the rules list or of an offered rule."""
        if action == "rule-edit":
            self.edit(target)
        elif action == "rule-delete":
            await self.delete(target)
        elif action == "rule-up":
            await self.move(target, -1)
        elif action == "rule-down":
            await self.move(target, +1)
        elif action == "rule-toggle":
            await self.toggle(target)
        elif action == "rule-run":
            await self.run([target])
        elif action == "proposal":
            await self.accept_proposal(target)
        elif action == "proposal-edit":
            self.edit_proposal(target)

    # -- the form -------------------------------------------------------------------------

    def clear_form(self) -> None:
        self.param.update(
            editing_id=None,
            rule_name="",
            **blank_conditions(),
            set_category="",
            set_description="",
            mark_transfer=False,
            enabled=True,
            apply_existing=True,
            kept_conditions=[],
        )

    def load(self, rule: Rule, *, editing_id: int | None) -> None:
        """Put a rule into the form: a saved one (to change it) or an offered one."""
        form = blank_conditions()
        kept, seen = [], set()
        for condition in rule.conditions:
            kind = condition.get("type")
            if kind in seen or kind not in ("text", "amount", "account", "category"):
                kept.append(condition)
                continue
            seen.add(kind)
            if kind == "text":
                form.update(
                    text_field=condition.get("field", "description"),
                    text_operator=condition.get("operator", "contains"),
                    text_value=str(condition.get("value", "")),
                )
            elif kind == "amount":
                low, high = condition.get("minimum"), condition.get("maximum")
                form.update(
                    amount_min="" if low is None else str(low),
                    amount_max="" if high is None else str(high),
                    direction=condition.get("direction") or "",
                )
            elif kind == "account":
                form["account_ids"] = [int(i) for i in condition.get("account_ids", [])]
            else:
                form["current_categories"] = [str(c) for c in condition.get("categories", [])]
        actions = rule.actions
        self.param.update(
            editing_id=editing_id,
            rule_name=rule.name,
            set_category=actions.get("set_category") or "",
            set_description=actions.get("set_description") or "",
            mark_transfer=bool(actions.get("mark_transfer")),
            enabled=rule.enabled,
            apply_existing=editing_id is None,
            kept_conditions=kept,
            message="",
            **form,
        )

    def edit(self, rule_id: int) -> None:
        rule = self.saved_rule(rule_id)
        if rule is not None:
            self.load(rule, editing_id=rule_id)

    def edit_proposal(self, index: int) -> None:
        proposals = self.store.proposals
        if 0 <= index < len(proposals):
            self.load(proposals[index].rule, editing_id=None)

    def form_rule(self) -> Rule:
        """The form as a rule; ValueError with a sentence to show when it is not one."""
        conditions: list[dict] = []
        value = self.text_value.strip()
        if value:
            conditions.append(
                {
                    "type": "text",
                    "field": self.text_field,
                    "operator": self.text_operator,
                    "value": value[:VALUE_CHARS],
                }
            )
        low = _amount(self.amount_min, "from")
        high = _amount(self.amount_max, "up to")
        if low is not None or high is not None or self.direction:
            amount: dict = {"type": "amount"}
            if low is not None:
                amount["minimum"] = str(low)
            if high is not None:
                amount["maximum"] = str(high)
            if self.direction:
                amount["direction"] = self.direction
            conditions.append(amount)
        if self.account_ids:
            conditions.append({"type": "account", "account_ids": list(self.account_ids)})
        if self.current_categories:
            conditions.append({"type": "category", "categories": list(self.current_categories)})
        conditions.extend(self.kept_conditions)
        if not conditions:
            raise ValueError(
                "Give the rule a condition: a text to look for, an amount, an account or a "
                "current category."
            )
        actions: dict = {}
        if self.set_category:
            actions["set_category"] = self.set_category
        description = self.set_description.strip()[:VALUE_CHARS]
        if description:
            actions["set_description"] = description
        if self.mark_transfer:
            actions["mark_transfer"] = True
        if not actions:
            raise ValueError(
                "Choose what the rule does: set a category, set a description or mark a transfer."
            )
        name = self.rule_name.strip() or _default_name(conditions, actions)
        return Rule(
            id=self.editing_id,
            name=name[:NAME_CHARS],
            conditions=conditions,
            actions=actions,
            enabled=self.enabled,
        )

    async def preview_rule(self) -> bool:
        """Ask the API what the form's rule would change; nothing is saved."""
        try:
            rule = self.form_rule()
        except ValueError as exc:
            self.message = str(exc)
            return False
        self.busy = True
        try:
            preview = await self.store.api.preview_rule(rule)
        except ApiError as exc:
            self.message = self.store.auth.handle(exc)
            return False
        finally:
            self.busy = False
        self.param.update(preview=preview, previewed=rule, message="")
        return True

    async def save(self) -> bool:
        """Save the previewed form (a new rule, or the changes of the one edited), and run it
        over the existing transactions when asked: what its preview showed is what changes."""
        rule = self.previewed
        if rule is None:
            self.message = "Preview the rule first."
            return False
        api, editing_id, run = self.store.api, self.editing_id, self.apply_existing

        async def save() -> int | None:
            if editing_id is None:
                saved = await api.create_rule(rule)
            else:
                saved = await api.update_rule(editing_id, **rule.body())
            return await api.apply_rules([saved.id]) if run else None

        def said(updated: int | None) -> str:
            done = f"Rule “{rule.name}” {'saved' if editing_id is None else 'changed'}"
            if updated is None:
                return f"{done}; it runs on the next imports."
            return f"{done} and run: {_count(updated)} changed."

        done = await self._change(save(), said)
        if done:
            self.clear_form()
        return done

    # -- the list -------------------------------------------------------------------------

    async def delete(self, rule_id: int) -> bool:
        rule = self.saved_rule(rule_id)
        done = await self._change(
            self.store.api.delete_rule(rule_id),
            f"Rule “{rule.name if rule else rule_id}” deleted.",
        )
        if done and self.editing_id == rule_id:
            self.clear_form()
        return done

    async def move(self, rule_id: int, step: int) -> bool:
        """One place up (-1) or down (+1): the rules run in their order, each seeing what
        the earlier ones did (the last that sets a field wins). The API renumbers the others
        around the new place."""
        rules = self.store.rules
        index = next((i for i, rule in enumerate(rules) if rule.id == rule_id), None)
        if index is None or not 0 <= index + step < len(rules):
            return False
        return await self._change(
            self.store.api.update_rule(rule_id, position=index + step + 1),
            f"Rule “{rules[index].name}” moved {'up' if step < 0 else 'down'}.",
        )

    async def toggle(self, rule_id: int) -> bool:
        rule = self.saved_rule(rule_id)
        if rule is None:
            return False
        return await self._change(
            self.store.api.update_rule(rule_id, enabled=not rule.enabled),
            f"Rule “{rule.name}” {'disabled' if rule.enabled else 'enabled'}.",
        )

    async def run(self, rule_ids: list[int] | None = None) -> bool:
        """Run saved rules (these, or every enabled one) over the existing transactions;
        categories the user set by hand are never changed."""
        return await self._change(
            self.store.api.apply_rules(rule_ids),
            lambda updated: f"Rules run on existing transactions: {_count(updated)} changed.",
        )

    # -- offered rules --------------------------------------------------------------------

    async def accept_proposal(self, index: int) -> bool:
        """Save an offered rule as its preview showed it, and run it."""
        proposals = self.store.proposals
        if not 0 <= index < len(proposals):
            return False
        rule, api = proposals[index].rule, self.store.api

        async def save() -> int:
            saved = await api.create_rule(rule)
            return await api.apply_rules([saved.id])

        return await self._change(
            save(), lambda updated: f"Rule “{rule.name}” saved and run: {_count(updated)} changed."
        )


def _count(number: int) -> str:
    return f"{number} transaction{'s' if number != 1 else ''}"


def _default_name(conditions: list[dict], actions: dict) -> str:
    first = conditions[0]
    said = str(first.get("value") or first.get("type"))
    return f"{said} → {actions.get('set_category') or 'change'}"

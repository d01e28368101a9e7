"""/rules: the user's ordered rules, their preview, and runs over existing transactions."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from spending_api import errors
from spending_api.categorize.rules import RuleError
from spending_api.deps import CurrentUser, SessionDep
from spending_api.limits import JSON_BODY_BYTES, body_responses
from spending_api.models import Rule as StoredRule
from spending_api.rules import repository, service
from spending_api.rules.schemas import (
    RuleIn,
    RuleOut,
    RulePreviewOut,
    RulesApplyIn,
    RulesApplyOut,
    RuleUpdate,
)

router = APIRouter(tags=["rules"])

RuleId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_NOT_FOUND = {404: {"description": errors.RULE_NOT_FOUND}}
# A body that is not UTF-8 is a 400, an invalid rule a 422; bodies are size-limited.
_INVALID = {
    400: {"description": "The body cannot be decoded (not UTF-8)"},
    422: {"description": "The rule is not valid: `detail` says why"},
    **body_responses(JSON_BODY_BYTES),
}


def _invalid(error: RuleError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=error.detail)


def _out(rule: StoredRule) -> RuleOut:
    return RuleOut.model_validate(
        {
            "id": rule.id,
            "name": rule.name,
            "position": rule.position,
            "enabled": rule.enabled,
            "conditions": rule.conditions,
            "actions": rule.actions,
        }
    )


def _found(session, user_id: int, rule_id: int) -> StoredRule:
    rule = repository.get_rule(session, user_id=user_id, rule_id=rule_id)
    if rule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.RULE_NOT_FOUND)
    return rule


@router.get("/rules", response_model=list[RuleOut])
def list_rules(session: SessionDep, user: CurrentUser) -> list[RuleOut]:
    return [_out(rule) for rule in repository.list_rules(session, user_id=user.id)]


@router.post(
    "/rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED, responses=_INVALID
)
def create_rule(session: SessionDep, user: CurrentUser, body: RuleIn) -> RuleOut:
    conditions, actions = service.stored_form(body.conditions, body.actions)
    try:
        service.check(
            session, user_id=user.id, name=body.name, conditions=conditions, actions=actions
        )
    except RuleError as error:
        raise _invalid(error) from None
    rule = repository.create_rule(
        session,
        user_id=user.id,
        name=body.name,
        conditions=conditions,
        actions=actions,
        enabled=body.enabled,
    )
    session.commit()
    return _out(rule)


@router.patch("/rules/{rule_id}", response_model=RuleOut, responses={**_NOT_FOUND, **_INVALID})
def update_rule(
    session: SessionDep, user: CurrentUser, rule_id: RuleId, body: RuleUpdate
) -> RuleOut:
    rule = _found(session, user.id, rule_id)
    conditions, actions = rule.conditions, rule.actions
    if body.conditions is not None or body.actions is not None:
        if body.conditions is not None:
            conditions = [c.model_dump(mode="json") for c in body.conditions]
        if body.actions is not None:
            actions = body.actions.model_dump(mode="json")
    try:
        service.check(
            session,
            user_id=user.id,
            name=body.name or rule.name,
            conditions=conditions,
            actions=actions,
        )
    except RuleError as error:
        raise _invalid(error) from None
    rule.conditions, rule.actions = conditions, actions
    if body.name is not None:
        rule.name = body.name
    if body.enabled is not None:
        rule.enabled = body.enabled
    if body.position is not None:
        repository.move_rule(session, user_id=user.id, rule=rule, position=body.position)
    session.commit()
    return _out(rule)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_rule(session: SessionDep, user: CurrentUser, rule_id: RuleId) -> Response:
    if not repository.delete_rule(session, user_id=user.id, rule_id=rule_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.RULE_NOT_FOUND)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/rules/preview", response_model=RulePreviewOut, responses=_INVALID)
def preview_rule(session: SessionDep, user: CurrentUser, body: RuleIn) -> RulePreviewOut:
    """The transactions the rule would change (the first 100, and how many in all, with
    their total), before it is saved; nothing is stored."""
    conditions, actions = service.stored_form(body.conditions, body.actions)
    try:
        rule = service.check(
            session, user_id=user.id, name=body.name, conditions=conditions, actions=actions
        )
    except RuleError as error:
        raise _invalid(error) from None
    return service.preview(session, user_id=user.id, rule=rule)


@router.post("/rules/apply", response_model=RulesApplyOut, responses={**_NOT_FOUND, **_INVALID})
def apply_rules(
    session: SessionDep, user: CurrentUser, body: RulesApplyIn | None = None
) -> RulesApplyOut:
    """Run saved rules, in their order, over every existing transaction: the enabled ones,
    or exactly those listed. Categories the user set by hand are never changed."""
    rules = repository.list_rules(session, user_id=user.id)
    if body is not None and body.rule_ids is not None:
        wanted = set(body.rule_ids)
        chosen = [rule for rule in rules if rule.id in wanted]
        if len(chosen) != len(wanted):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.RULE_NOT_FOUND)
    else:
        chosen = [rule for rule in rules if rule.enabled]
    updated = service.run(session, user_id=user.id, rules=chosen)
    session.commit()
    return RulesApplyOut(updated=updated)

"""GET/POST/PATCH/DELETE /categories and POST /categories/{id}/merge."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from spending_api import errors
from spending_api.cache import CachedAnswer, cached_answer
from spending_api.categories import repository
from spending_api.categories.repository import CategoryConflict, CategoryMissing
from spending_api.categories.schemas import (
    CategoryChange,
    CategoryCreate,
    CategoryMerge,
    CategoryOut,
)
from spending_api.deps import CurrentUser, ReadsDep, SessionDep
from spending_api.limits import JSON_BODY_BYTES, body_responses

router = APIRouter(tags=["categories"])

_CATEGORIES = TypeAdapter(list[CategoryOut])
CategoryId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_BODY = {
    400: {"description": "The body cannot be decoded (not UTF-8)"},
    **body_responses(JSON_BODY_BYTES),
}
_NOT_FOUND = f"{errors.CATEGORY_NOT_FOUND}: no such category of yours"
_PARENT = f"{errors.PARENT_CATEGORY_NOT_FOUND}: parent_id is not a category of yours"
_TARGET = f"{errors.TARGET_CATEGORY_NOT_FOUND}: the category to move to is not one of yours"
_TAKEN = f"{errors.CATEGORY_NAME_TAKEN}: you have a category of that name (merge into it instead)"
_REQUIRED = (
    f"{errors.CATEGORY_REQUIRED}: 'Uncategorized' and 'Uncategorized income' are where "
    "unclassified money goes; they keep their name and kind and cannot be deleted"
)
_CYCLE = f"{errors.CATEGORY_PARENT_CYCLE}: the parent is the category itself or one below it"
_ITSELF = f"{errors.CATEGORY_MERGE_INTO_ITSELF}: choose another category to move to"
_IN_USE = f"{errors.CATEGORY_IN_USE}: it has transactions; send ?move_to=<id> to move them"


def _responses(*, not_found: tuple[str, ...], conflict: tuple[str, ...]) -> dict:
    return {
        404: {"description": "; ".join(not_found)},
        409: {"description": "; ".join(conflict)},
    }


def _answer(session: Session, *, user_id: int, category_id: int) -> CategoryOut:
    row = repository.category_with_count(session, user_id=user_id, category_id=category_id)
    return CategoryOut.model_validate(row, from_attributes=True)


def _refused(error: CategoryMissing | CategoryConflict) -> HTTPException:
    code = status.HTTP_404_NOT_FOUND if isinstance(error, CategoryMissing) else 409
    return HTTPException(code, detail=error.detail)


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(request: Request, reads: ReadsDep, user: CurrentUser) -> Response:
    """Your categories by name, with their kind, colour, group and transaction count."""

    async def produce() -> CachedAnswer:
        rows = await reads.run(partial(repository.list_categories_async, user_id=user.id))
        categories = _CATEGORIES.validate_python(rows, from_attributes=True)
        return CachedAnswer(_CATEGORIES.dump_json(categories))

    return await cached_answer(request, user, produce, query="")


@router.post(
    "/categories",
    response_model=CategoryOut,
    status_code=status.HTTP_201_CREATED,
    responses={**_responses(not_found=(_PARENT,), conflict=(_TAKEN,)), **_BODY},
)
def create_category(body: CategoryCreate, session: SessionDep, user: CurrentUser) -> CategoryOut:
    try:
        category_id = repository.create_category(session, user_id=user.id, **body.model_dump())
    except (CategoryMissing, CategoryConflict) as error:
        raise _refused(error) from None
    answer = _answer(session, user_id=user.id, category_id=category_id)
    session.commit()
    return answer


@router.patch(
    "/categories/{category_id}",
    response_model=CategoryOut,
    responses={
        **_responses(not_found=(_NOT_FOUND, _PARENT), conflict=(_TAKEN, _REQUIRED, _CYCLE)),
        **_BODY,
    },
)
def change_category(
    category_id: CategoryId, body: CategoryChange, session: SessionDep, user: CurrentUser
) -> CategoryOut:
    """Rename (every transaction moves to the new name), change the kind, colour or
    group (null clears the colour or the group)."""
    changes = body.model_dump(include=body.model_fields_set)
    try:
        repository.update_category(
            session, user_id=user.id, category_id=category_id, changes=changes
        )
    except (CategoryMissing, CategoryConflict) as error:
        raise _refused(error) from None
    answer = _answer(session, user_id=user.id, category_id=category_id)
    session.commit()
    return answer


@router.post(
    "/categories/{category_id}/merge",
    response_model=CategoryOut,
    responses={
        **_responses(not_found=(_NOT_FOUND, _TARGET), conflict=(_REQUIRED, _ITSELF)),
        **_BODY,
    },
)
def merge_category(
    category_id: CategoryId, body: CategoryMerge, session: SessionDep, user: CurrentUser
) -> CategoryOut:
    """Move every transaction of this category into `into`, then delete this one; the
    answer is `into` as it is now."""
    try:
        repository.merge_category(
            session, user_id=user.id, category_id=category_id, into_id=body.into
        )
    except (CategoryMissing, CategoryConflict) as error:
        raise _refused(error) from None
    answer = _answer(session, user_id=user.id, category_id=body.into)
    session.commit()
    return answer


@router.delete(
    "/categories/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_responses(not_found=(_NOT_FOUND, _TARGET), conflict=(_IN_USE, _REQUIRED, _ITSELF)),
)
def delete_category(
    category_id: CategoryId,
    session: SessionDep,
    user: CurrentUser,
    move_to: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Move its transactions to this category first"),
    ] = None,
) -> Response:
    try:
        if move_to is None:
            repository.delete_category(session, user_id=user.id, category_id=category_id)
        else:
            repository.merge_category(
                session, user_id=user.id, category_id=category_id, into_id=move_to
            )
    except (CategoryMissing, CategoryConflict) as error:
        raise _refused(error) from None
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

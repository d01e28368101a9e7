"""GET /imports, DELETE /imports/{id}."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from spending_api import errors
from spending_api.deps import CurrentUser, SessionDep
from spending_api.imports import repository
from spending_api.imports.schemas import ImportOut

router = APIRouter(tags=["imports"])


@router.get("/imports", response_model=list[ImportOut])
def list_imports(session: SessionDep, user: CurrentUser) -> list[ImportOut]:
    """The user's imports, newest first."""
    return [
        ImportOut.model_validate(found, from_attributes=True)
        for found in repository.list_imports(session, user_id=user.id)
    ]


@router.delete(
    "/imports/{import_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": errors.IMPORT_NOT_FOUND}},
)
def delete_import(
    session: SessionDep, user: CurrentUser, import_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> Response:
    """Remove the import and exactly the transactions it added (a later import of the
    same file brings them back)."""
    if not repository.delete_import(session, user_id=user.id, import_id=import_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.IMPORT_NOT_FOUND)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Response bodies for imports."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    file_name: str | None
    format: str
    created_at: datetime
    row_count: int = Field(description="Transactions the file held (skipped rows not counted)")
    inserted: int = Field(validation_alias="inserted_count")
    skipped_duplicates: int = Field(validation_alias="duplicate_count")
    skipped_rows: int = Field(
        validation_alias="skipped_count", description="Rows left out on purpose"
    )

"""What a reviewer sends to correct a score, and the audit record the service keeps."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion_id: str = Field(min_length=1)
    score: int | None = Field(ge=1, le=5, description="1-5, or null: the reviewer judges it not assessable.")
    comment: str = Field(min_length=1, description="Why: required, so that the next reader knows.")
    reviewer: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="Who corrects; defaults to the name of the caller's key.")

    @field_validator("comment", "reviewer")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None


class CorrectionRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    assessment_id: str
    transcript_id: str
    criterion_id: str
    reviewer: str
    comment: str
    model_score: int | None
    before: int | None
    after: int | None
    at: datetime

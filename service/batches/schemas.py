"""What the QA platform sends and reads back for a batch."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from service.transcripts.schemas import Transcript

JobState = Literal["queued", "running", "scored", "failed"]
MAX_BATCH = 10_000


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcripts: list[Transcript] = Field(min_length=1, max_length=MAX_BATCH)
    webhook_url: HttpUrl | None = Field(default=None, description="POSTed the batch's status once it is done.")


class BatchAccepted(BaseModel):
    id: str
    status: str
    total: int
    new_jobs: int = Field(description="Transcripts not seen before; the rest reuse their earlier job.")
    status_url: str


class BatchItem(BaseModel):
    transcript_id: str
    state: JobState
    assessment_id: str | None
    error: str | None
    attempts: int


class BatchStatus(BaseModel):
    id: str
    status: Literal["queued", "done"]
    total: int
    counts: dict[JobState, int]
    created_at: datetime
    finished_at: datetime | None
    webhook_outcome: str | None
    items: list[BatchItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page of items.")

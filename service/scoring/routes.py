"""HTTP routes of the assessments: score a transcript now, read one, list them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.scoring.schemas import Assessment
from service.storage import repository
from service.transcripts.schemas import Transcript
from service.web.auth import allow
from service.web.params import Limit, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from service.context import ServiceContext


class AssessmentSummary(BaseModel):
    id: str
    transcript_id: str
    agent_id: str
    team_id: str | None
    status: str
    rubric_version: str
    prompt_version: str
    model: str
    created_at: datetime


class AssessmentPage(BaseModel):
    items: list[AssessmentSummary]
    next_cursor: str | None


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/v1/assessments", tags=["assessments"])
    submit = allow(ctx, "platform", "reviewer")
    read = allow(ctx, "platform", "reviewer")

    @api.post("", response_model=Assessment, dependencies=[submit],
              responses={502: {"model": Assessment, "description": "The model failed; the stored assessment says why."}})
    def create_assessment(transcript: Transcript) -> JSONResponse:
        """Score one transcript now (synchronously) and store it; the same content is never scored twice.
        For many transcripts use ``POST /v1/batches``."""
        assessment = ctx.assessor.assess(transcript)
        status = 200 if assessment.status == "scored" else 502
        return JSONResponse(assessment.model_dump(mode="json"), status_code=status)

    @api.get("", response_model=AssessmentPage, dependencies=[read])
    def list_assessments(agent_id: str | None = None, team_id: str | None = None,
                         status: Literal["scored", "failed"] | None = None, limit: Limit = 50,
                         cursor: str | None = None) -> AssessmentPage:
        """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
        after = decode_cursor(cursor, 2)
        with ctx.sessions() as session:
            rows = repository.list_assessments(session, agent_id=agent_id, team_id=team_id, status=status,
                                               limit=limit + 1, after=(after[0], after[1]) if after else None)
        items = [AssessmentSummary.model_validate(r, from_attributes=True) for r in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return AssessmentPage(items=items,
                              next_cursor=encode_cursor(last.created_at.isoformat(), last.id) if last else None)

    @api.get("/{assessment_id}", response_model=Assessment, dependencies=[read])
    def get_assessment(assessment_id: str) -> Assessment:
        with ctx.sessions() as session:
            found = repository.get_assessment(session, assessment_id)
        if found is None:
            raise HTTPException(404, f"no assessment {assessment_id!r}")
        return found

    return api

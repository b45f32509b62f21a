"""HTTP routes of rubrics: the one in force, and a dry run of a draft against a sample transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from service.rubrics.loader import RubricError, rubric_from_data
from service.scoring.assessor import Assessor
from service.scoring.schemas import Assessment
from service.transcripts.schemas import Transcript
from service.web.auth import allow

if TYPE_CHECKING:
    from service.context import ServiceContext


class CriteriaFile(BaseModel):
    """One dimension's criteria, as in ``rubrics/criteria/<dimension>.yaml``."""

    dimension: str
    criteria: list[dict[str, Any]]


class RubricTest(BaseModel):
    transcript: Transcript
    criteria: list[CriteriaFile] = Field(min_length=1, description="The draft's criteria files.")
    critical_items: list[dict[str, Any]] | None = Field(default=None, description="Default: the rubric in force's.")
    model: dict[str, Any] | None = Field(default=None, description="model.yaml's content; default: the one in force.")


class RubricTestResult(BaseModel):
    draft_version: str
    current_version: str
    assessment: Assessment = Field(description="Not stored: the draft's scores for this transcript.")


class RubricSummary(BaseModel):
    version: str
    model_version: str
    criteria: list[dict[str, Any]]


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/v1/rubrics", tags=["rubrics"])

    @api.get("/current", response_model=RubricSummary, dependencies=[allow(ctx, "platform", "reviewer")])
    def current() -> RubricSummary:
        rubric = ctx.rubric
        return RubricSummary(version=rubric.version, model_version=rubric.model_version,
                             criteria=[c.model_dump(mode="json") for c in rubric.criteria])

    @api.post("/test", response_model=RubricTestResult, dependencies=[allow(ctx, "admin")])
    def test_draft(body: RubricTest) -> RubricTestResult:
        """Score a sample transcript against a draft rubric, storing nothing (the model calls are logged)."""
        current = ctx.rubric
        model_data = body.model if body.model is not None else current.model.model_dump(mode="json")
        critical = body.critical_items if body.critical_items is not None else [
            i.model_dump(mode="json", exclude_none=True) for i in current.critical_items]
        try:
            draft = rubric_from_data(model_data, [(f"criteria[{i}]", f.model_dump()) for i, f in enumerate(body.criteria)],
                                     critical, model_source="model", critical_source="critical_items")
        except RubricError as error:
            raise HTTPException(422, str(error)) from None
        assessor = Assessor(ctx.settings, draft, ctx.prompt, ctx.sessions)
        assessment = assessor.assess(body.transcript, dry_run=True)
        return RubricTestResult(draft_version=draft.version, current_version=current.version, assessment=assessment)

    return api

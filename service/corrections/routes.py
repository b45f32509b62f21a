"""HTTP routes of reviewer corrections."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException

from service.corrections.schemas import CorrectionRecord, CorrectionRequest
from service.scoring.schemas import Assessment, ReviewerOverride
from service.access.keys import Caller
from service.storage import repository
from service.web.auth import allow

if TYPE_CHECKING:
    from service.context import ServiceContext


def apply_correction(ctx: ServiceContext, assessment_id: str, correction: CorrectionRequest,
                     caller: Caller) -> Assessment:
    """Record a reviewer's correction (the API and the correction form both come here); 404 / 422 say why not."""
    override = ReviewerOverride(score=correction.score, reviewer=correction.reviewer or caller.name,
                                comment=correction.comment, at=datetime.now(timezone.utc))
    try:
        with ctx.sessions.begin() as session:
            updated = repository.correct_score(session, assessment_id, correction.criterion_id, override)
    except repository.CorrectionError as error:
        raise HTTPException(422, str(error)) from None
    if updated is None:
        raise HTTPException(404, f"no assessment {assessment_id!r}")
    return updated


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/v1/assessments/{assessment_id}/corrections", tags=["corrections"])

    @api.post("", response_model=Assessment)
    def correct(assessment_id: str, correction: CorrectionRequest,
                caller: Caller = allow(ctx, "reviewer")) -> Assessment:
        """A reviewer sets a criterion's score (with a required comment). The model's score stays beside it, the
        change is audited, and portraits use the reviewer's value from now on."""
        return apply_correction(ctx, assessment_id, correction, caller)

    @api.get("", response_model=list[CorrectionRecord], dependencies=[allow(ctx, "reviewer", "platform")])
    def correction_history(assessment_id: str) -> list[CorrectionRecord]:
        """Who changed what, when, from what to what, and why; oldest first."""
        with ctx.sessions() as session:
            if repository.get_assessment(session, assessment_id) is None:
                raise HTTPException(404, f"no assessment {assessment_id!r}")
            return [CorrectionRecord.model_validate(r) for r in repository.corrections(session, assessment_id)]

    return api

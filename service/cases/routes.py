"""HTTP routes of the training-case library: search it, or list it by dimension and program."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from service.access.keys import Caller
from service.cases.library import TrainingCase
from service.cases.promotion import candidates, excerpt_case
from service.cases.retrieval import CaseMatch, Mode
from service.scoring.schemas import Assessment
from service.storage import repository
from service.web.auth import allow

if TYPE_CHECKING:
    from service.context import ServiceContext


class CaseList(BaseModel):
    items: list[CaseMatch]


class CandidateView(BaseModel):
    assessment_id: str
    transcript_id: str
    agent_id: str
    criterion_id: str
    turn: int
    quote: str
    review: str = "pending"


class PromoteRequest(BaseModel):
    assessment_id: str
    criterion_id: str


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/v1/cases", tags=["cases"])

    @api.get("", response_model=CaseList, dependencies=[allow(ctx, "platform", "reviewer", "supervisor")])
    def cases(
        q: Annotated[str | None, Query(description="Weak behaviour in words, or what the agent said.")] = None,
        dimension: Annotated[list[str] | None, Query(description="Cases training any of these dimensions.")] = None,
        program: str | None = None,
        k: Annotated[int, Query(ge=1, le=50)] = 5,
        mode: Mode = "hybrid",
    ) -> CaseList:
        """With ``q``: the best ``k`` cases (embeddings and BM25 fused, diversified), each saying why it matched.
        Without: the library filtered by dimension and program."""
        known = set(ctx.rubric.model.dimensions)
        unknown = sorted(set(dimension or []) - known)
        if unknown:
            raise HTTPException(422, f"dimension: unknown {unknown} (known: {sorted(known)})")
        if program and program not in ctx.programs:
            raise HTTPException(422, f"program: unknown {program!r} (known: {sorted(ctx.programs)})")
        if q and q.strip():
            return CaseList(items=ctx.case_index.search(q, k=k, program=program, dimensions=dimension, mode=mode))
        listed = [c for c in ctx.cases if (not program or program in c.programs)
                  and (not dimension or set(dimension) & set(c.dimensions))]
        return CaseList(items=[
            CaseMatch(case_id=c.id, title=c.title, format=c.format, duration_minutes=c.duration_minutes,
                      dimensions=c.dimensions, programs=c.programs, similarity=0.0, reason="listed")
            for c in listed[:k]
        ])

    @api.get("/candidates", response_model=list[CandidateView])
    def promotion_candidates(limit: Annotated[int, Query(ge=1, le=500)] = 100,
                             caller: Caller = allow(ctx, "reviewer")) -> list[CandidateView]:
        """Agent turns that scored at the top of a criterion with verified evidence, in the newest assessments,
        not yet promoted: found automatically, each waiting for a reviewer's decision."""
        with ctx.sessions() as session:
            done = {(r.assessment_id, r.criterion_id) for r in repository.promoted_cases(session)}
            rows = repository.list_assessments(session, status="scored", limit=limit)
            found = [c for row in rows for c in candidates(Assessment.model_validate(row.body))
                     if (c.assessment_id, c.criterion_id) not in done]
        return [CandidateView(**c.__dict__) for c in found]

    @api.post("/promote", response_model=TrainingCase, status_code=201)
    def promote(body: PromoteRequest, caller: Caller = allow(ctx, "reviewer")) -> TrainingCase:
        """Make one candidate an "exemplary excerpt" case (masked, linked to its call) and index it at once."""
        with ctx.sessions() as session:
            assessment = repository.get_assessment(session, body.assessment_id)
        if assessment is None:
            raise HTTPException(404, f"no assessment {body.assessment_id!r}")
        chosen = next((c for c in candidates(assessment) if c.criterion_id == body.criterion_id), None)
        if chosen is None:
            raise HTTPException(422, f"criterion_id: {body.criterion_id!r} did not score at the top with verified "
                                     "evidence in this assessment; only such answers can be promoted")
        case = excerpt_case(chosen, ctx.rubric, caller.name)
        with ctx.sessions.begin() as session:
            added = repository.save_promoted_case(session, case.id, chosen.assessment_id, chosen.criterion_id,
                                                  caller.name, case.model_dump(mode="json"))
        if not added:
            raise HTTPException(409, "this answer was promoted before")
        ctx.reindex_cases()
        return case

    return api

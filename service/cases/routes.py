"""HTTP routes of the training-case library: search it, or list it by dimension and program."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.cases.retrieval import CaseMatch, Mode
from service.web.auth import allow

if TYPE_CHECKING:
    from service.context import ServiceContext


class CaseList(BaseModel):
    items: list[CaseMatch]


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
        from fastapi import HTTPException

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

    return api

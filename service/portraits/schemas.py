"""The portrait as published (JSON) and rendered (HTML)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.cases.retrieval import CaseMatch
from service.placement.classifier import Placement


class QuotedEvidence(BaseModel):
    transcript_id: str
    turn: int
    quote: str
    score: int
    rationale: str


class DimensionView(BaseModel):
    dimension: str
    name: str
    axis: str
    score_100: float | None
    mean: float | None
    calls: int
    evidence: list[QuotedEvidence] = Field(description="Verified quotes, lowest-scored first.")


class ProgramView(BaseModel):
    id: str
    name: str
    summary: str
    measures: list[str] = Field(description="Concrete measures, those serving the agent's weak dimensions first.")


class CallSummary(BaseModel):
    transcript_id: str
    call_time: datetime | None
    confidence: float | None
    scores: dict[str, int | None]
    needs_review: list[str]


class FlagView(BaseModel):
    transcript_id: str
    item_id: str
    name: str
    turn: int
    quote: str
    verified: bool = Field(description="False: the cited words were not found as the agent's; awaiting review.")


class Portrait(BaseModel):
    agent_id: str
    agent_name: str | None
    team_id: str | None
    lang: str
    rubric_version: str
    placement: Placement
    quadrant_name: str | None
    program: ProgramView | None
    dimensions: list[DimensionView]
    compliance_flags: list[FlagView] = Field(description="Critical items raised, listed apart from the scores.")
    strengths: list[str]
    weaknesses: list[str]
    cases: list[CaseMatch]
    calls: list[CallSummary]


class TeamMember(BaseModel):
    agent_id: str
    agent_name: str | None
    quadrant: str | None
    program_name: str | None
    ability: float | None
    cognition: float | None
    assessed_calls: int
    calls_needed: int


class TeamView(BaseModel):
    team_id: str | None
    lang: str
    thresholds: dict[str, float]
    members: list[TeamMember]
    by_quadrant: dict[str, list[str]]
    not_yet_placeable: list[str]

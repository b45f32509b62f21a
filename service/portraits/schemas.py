"""The portrait as published (JSON) and rendered (HTML)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.cases.retrieval import CaseMatch
from service.placement.classifier import Placement
from service.placement.history import Movement
from service.placement.trend import Trend


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
    assessment_id: str
    call_time: datetime | None
    confidence: float | None
    scores: dict[str, int | None]
    needs_review: list[str]
    in_window: bool = Field(default=True, description="Whether the current placement reads this call.")


class FlagView(BaseModel):
    transcript_id: str
    item_id: str
    name: str
    turn: int
    quote: str
    verified: bool = Field(description="False: the cited words were not found as the agent's; awaiting review.")


class HistoryEntry(BaseModel):
    period: str
    status: str
    quadrant: str | None
    quadrant_name: str | None
    ability: float | None
    cognition: float | None
    assessed_calls: int
    held_axes: list[str] = Field(description="Axes whose level hysteresis kept from the previous placement.")
    thresholds_source: str


class CoverageView(BaseModel):
    dimension: str
    name: str
    mentor_score: float
    apprentice_score: float


class MentoringView(BaseModel):
    """One side of a "1+1" pair as this agent sees it."""

    role: Literal["mentor", "apprentice"]
    partner_id: str
    partner_name: str | None
    covers: list[CoverageView]


class UnpairedView(BaseModel):
    reason: str
    weak_dimensions: list[str]


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
    history: list[HistoryEntry] = Field(description="The placement at the end of each period, oldest first.")
    trend: Trend = Field(description="Learning ability as the slope of the axis scores over periods.")
    mentoring: list[MentoringView] = Field(description="The agent's \"1+1\" pairs, as mentor or apprentice.")
    unpaired: UnpairedView | None = Field(default=None, description="A strengthening-base agent left without a "
                                                                     "mentor, and why.")


class TeamMember(BaseModel):
    agent_id: str
    agent_name: str | None
    quadrant: str | None
    program_name: str | None
    ability: float | None
    cognition: float | None
    ability_interval: tuple[float, float] | None = None
    cognition_interval: tuple[float, float] | None = None
    borderline: bool = Field(default=False, description="An axis interval straddles its line.")
    assessed_calls: int
    calls_needed: int
    previous_quadrant: str | None = Field(default=None, description="At the end of the previous period.")


class PairView(BaseModel):
    mentor_id: str
    mentor_name: str | None
    apprentice_id: str
    apprentice_name: str | None
    covers: list[CoverageView]


class TeamView(BaseModel):
    team_id: str | None
    lang: str
    thresholds: dict[str, float]
    thresholds_source: str = Field(default="absolute", description="'team_percentile' when the lines are the team's.")
    members: list[TeamMember]
    by_quadrant: dict[str, list[str]]
    counts: dict[str, int] = Field(default_factory=dict, description="Agents per quadrant.")
    not_yet_placeable: list[str]
    period: str | None = None
    previous_period: str | None = None
    movements: list[Movement] = Field(default_factory=list, description="Quadrant changes since the previous period.")
    pairs: list[PairView] = Field(default_factory=list)
    unpaired: list[str] = Field(default_factory=list, description="Strengthening-base agents without a mentor.")


class TeamPairings(BaseModel):
    team_id: str
    pairs: list[PairView]
    unpaired: list[str] = Field(description="Strengthening-base agents without a mentor (see their portraits for why).")

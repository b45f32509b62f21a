"""What the model must answer, and the assessment we keep after checking it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EvidenceStatus = Literal["verified", "repointed", "unverified", "not_agent"]
AssessmentStatus = Literal["scored", "failed"]


class AnswerEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int
    quote: str


class CriterionAnswer(BaseModel):
    """One criterion as the model answers it: evidence, rationale, then the score (null: no basis, turn 0)."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0)
    quote: str
    why: str
    score: int | None = Field(ge=1, le=5)

    def evidence(self) -> list[AnswerEvidence]:
        """The cited evidence; turn 0 with a quote cites the reviewer's notes (or asks the check to find the turn)."""
        if not self.quote.strip():
            return []
        return [AnswerEvidence(turn=self.turn, quote=self.quote)]


class CriticalAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    turn: int = Field(ge=0)
    quote: str


class ModelAnswer(BaseModel):
    """The whole answer: one entry per asked criterion, and the critical items the model says were committed."""

    criteria: dict[str, CriterionAnswer]
    critical: list[CriticalAnswer] = Field(default_factory=list)


class Evidence(BaseModel):
    turn: int
    quote: str
    status: EvidenceStatus
    cited_turn: int | None = Field(default=None, description="The turn the model cited, when it was re-pointed.")


class ReviewerOverride(BaseModel):
    """A reviewer's score for a criterion. It outranks the model's, which is kept beside it."""

    score: int | None = Field(ge=1, le=5, description="1-5, or null: the reviewer judges it not assessable.")
    reviewer: str
    comment: str = Field(min_length=1)
    at: datetime


class CriterionScore(BaseModel):
    criterion_id: str
    dimension: str
    score: int | None = Field(description="1-5, or null when the call gives no basis (not assessable).")
    rationale: str
    evidence: list[Evidence]
    needs_review: bool = Field(description="True when the score has no verified evidence: never shown as fact.")
    agreement: float | None = Field(
        default=None, description="With several samples: 1 - spread/4 of their scores (1.0: all agreed)."
    )
    weighted_score: float | None = Field(
        default=None, description="G-Eval: the score's expectation under the model's token probabilities."
    )
    source: str = Field(description="Where the score came from, e.g. 'model:openai/qwen2.5-coder-1.5b'.")
    override: ReviewerOverride | None = Field(default=None, description="A reviewer's correction, when made.")

    @property
    def final_score(self) -> int | None:
        """The score that counts: the reviewer's when corrected, else the model's."""
        return self.override.score if self.override else self.score

    @property
    def counts(self) -> bool:
        """Whether the score enters aggregates: a reviewer's always does; a model score only with verified evidence."""
        if self.override:
            return self.override.score is not None
        return self.score is not None and not self.needs_review


class ComplianceFlag(BaseModel):
    """A critical item raised on the call. Kept apart from scores; an unverified flag awaits a reviewer."""

    item_id: str
    turn: int
    quote: str
    status: EvidenceStatus
    source: str = Field(description="'rule:<detector>' for mechanical checks, 'model:<model>' for model judgements.")


class Assessment(BaseModel):
    id: str
    transcript_id: str
    agent_id: str
    agent_name: str | None = None
    team_id: str | None = None
    call_time: datetime | None = None
    status: AssessmentStatus
    error: str | None = None
    rubric_version: str
    prompt_version: str
    model: str
    scores: list[CriterionScore] = Field(default_factory=list)
    confidence: float | None = Field(default=None, description="Share of scored criteria with verified evidence.")
    compliance_flags: list[ComplianceFlag] = Field(default_factory=list)
    redactions: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    cached: bool = Field(default=False, description="True when served from an earlier identical assessment.")

"""The database tables. Structured parts of an assessment live in JSON columns; what we filter on is a column."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class TranscriptRow(Base):
    __tablename__ = "transcripts"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(200), index=True)
    team_id: Mapped[str | None] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssessmentRow(Base):
    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("cache_key", name="uq_assessment_cache_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # transcript content + rubric version + prompt version + model: the same key never costs a second model call.
    cache_key: Mapped[str] = mapped_column(String(64))
    transcript_id: Mapped[str] = mapped_column(ForeignKey("transcripts.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(200), index=True)
    team_id: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16))
    rubric_version: Mapped[str] = mapped_column(String(32))
    prompt_version: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelCallRow(Base):
    __tablename__ = "model_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transcript_id: Mapped[str | None] = mapped_column(String(200), index=True)
    assessment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(200))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    response_text: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cached_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlacementRow(Base):
    """A placement as it was shown, with the ids of the assessments it read: history that can be re-derived.

    Rows are never updated: when late calls or corrections change a period's placement, a new row supersedes the
    old one (the newest row per agent and period is the one in force), and the old one stays as the record.
    """

    __tablename__ = "placements"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # digest of everything the placement depends on
    agent_id: Mapped[str] = mapped_column(String(200), index=True)
    team_id: Mapped[str | None] = mapped_column(String(200), index=True)
    period: Mapped[str] = mapped_column(String(16))
    rubric_version: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(32))  # lines, weights and placement policy it was made with
    status: Mapped[str] = mapped_column(String(32))
    quadrant: Mapped[str | None] = mapped_column(String(64))
    ability: Mapped[float | None] = mapped_column(Float)
    cognition: Mapped[float | None] = mapped_column(Float)
    assessment_ids: Mapped[list[str]] = mapped_column(JSON)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CorrectionRow(Base):
    """The audit trail of reviewer corrections: who set which criterion from what to what, when and why."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(String(64), index=True)
    transcript_id: Mapped[str] = mapped_column(String(200), index=True)
    criterion_id: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    model_score: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[int | None] = mapped_column(Integer)  # the score in force before: the model's or an earlier correction's
    after: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BatchRow(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | done
    total: Mapped[int] = mapped_column(Integer)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobRow(Base):
    """One transcript to score. Keyed by the caller's transcript id and its content: re-sending the same call is
    the same job (no second assessment, no second model call); a changed call under the same id is a new one."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("transcript_id", "content_hash", name="uq_job_transcript_content"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transcript_id: Mapped[str] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True, default="queued")  # queued|running|scored|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))  # host:pid:pool:worker; kept once finished
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assessment_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BatchItemRow(Base):
    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "transcript_id", name="uq_batch_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    transcript_id: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class ApiKeyRow(Base):
    """An API key, stored only as its SHA-256: a leaked database does not leak keys. Keys are 256 random bits, so
    a fast hash is enough (no password-style stretching needed)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings so people can tell keys apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PromotedCaseRow(Base):
    """An agent's own best answer, promoted by a reviewer to an "exemplary excerpt" training case."""

    __tablename__ = "promoted_cases"
    __table_args__ = (UniqueConstraint("assessment_id", "criterion_id", name="uq_promoted_evidence"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(String(64), index=True)
    criterion_id: Mapped[str] = mapped_column(String(64))
    promoted_by: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the TrainingCase
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

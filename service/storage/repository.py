"""Reading and writing the domain objects. Callers pass a session; a unit of work commits once."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Sequence

from sqlalchemy import Insert, Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.llm.completion import ModelCall
from service.placement.classifier import Placement
from service.scoring.schemas import Assessment, ReviewerOverride
from service.storage.database import flushed_connection
from service.storage.tables import (
    AssessmentRow,
    CorrectionRow,
    ModelCallRow,
    PlacementRow,
    PromotedCaseRow,
    TranscriptRow,
)
from service.transcripts.schemas import Transcript


# The statements below run once or twice per scored call. They are built once, with bind parameters, and run on
# the session's connection: building a statement per call and passing it through the ORM cost more CPU than the
# database's own work (measured: about a third of a batch job's time outside the model call).
_INSERTS = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


@lru_cache(maxsize=None)
def _upsert(dialect: str, table: Table, key: str, replace: tuple[str, ...]) -> Insert:
    insert = _INSERTS[dialect](table)
    return insert.on_conflict_do_update(index_elements=[key], set_={c: insert.excluded[c] for c in replace})


_TRANSCRIPT_STORED = select(TranscriptRow.agent_id, TranscriptRow.team_id, TranscriptRow.body).where(
    TranscriptRow.id == bindparam("transcript_id"))
_SCORED_BODY = select(AssessmentRow.body).where(AssessmentRow.cache_key == bindparam("key"),
                                                AssessmentRow.status == "scored")
_LOG_CALL = insert(ModelCallRow.__table__)


def save_transcript(session: Session, transcript: Transcript) -> None:
    """Store the transcript, or its newest version under the same id; a transcript stored unchanged costs one
    read and no write."""
    connection = flushed_connection(session)
    body = transcript.model_dump(mode="json")
    stored = connection.execute(_TRANSCRIPT_STORED, {"transcript_id": transcript.id}).first()
    if stored is not None and tuple(stored) == (transcript.agent_id, transcript.team_id, body):
        return
    connection.execute(
        _upsert(connection.dialect.name, TranscriptRow.__table__, "id", ("agent_id", "team_id", "content_hash", "body")),
        {"id": transcript.id, "agent_id": transcript.agent_id, "team_id": transcript.team_id,
         "content_hash": transcript.content_hash(), "body": body},
    )


def get_transcript(session: Session, transcript_id: str) -> Transcript | None:
    row = session.get(TranscriptRow, transcript_id)
    return Transcript.model_validate(row.body) if row else None


def find_scored_assessment(session: Session, cache_key: str) -> Assessment | None:
    body = flushed_connection(session).execute(_SCORED_BODY, {"key": cache_key}).scalar()
    return Assessment.model_validate(body) if body is not None else None


def save_assessment(session: Session, assessment: Assessment, cache_key: str) -> None:
    """Store or replace the assessment for this cache key (a failed one is replaced when a retry succeeds)."""
    connection = flushed_connection(session)
    replaced = ("id", "status", "body", "agent_id", "team_id", "transcript_id")
    connection.execute(
        _upsert(connection.dialect.name, AssessmentRow.__table__, "cache_key", replaced),
        {"id": assessment.id, "cache_key": cache_key, "transcript_id": assessment.transcript_id,
         "agent_id": assessment.agent_id, "team_id": assessment.team_id, "status": assessment.status,
         "rubric_version": assessment.rubric_version, "prompt_version": assessment.prompt_version,
         "model": assessment.model, "body": assessment.model_dump(mode="json")},
    )


def log_model_call(
    session: Session, call: ModelCall, transcript_id: str | None, assessment_id: str | None
) -> None:
    flushed_connection(session).execute(_LOG_CALL, {
        "transcript_id": transcript_id, "assessment_id": assessment_id, "model": call.model,
        "prompt_hash": call.prompt_hash, "request": call.request, "response_text": call.response_text,
        "prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens,
        "cached_tokens": call.cached_tokens, "latency_ms": call.latency_ms, "cost_usd": call.cost_usd,
        "outcome": call.outcome, "error": call.error,
    })


def agent_assessments(session: Session, agent_id: str, rubric_version: str | None = None) -> list[Assessment]:
    """The agent's scored assessments, oldest call first; one per transcript (the newest for that transcript)."""
    query = select(AssessmentRow).where(AssessmentRow.agent_id == agent_id, AssessmentRow.status == "scored")
    if rubric_version:
        query = query.where(AssessmentRow.rubric_version == rubric_version)
    latest: dict[str, Assessment] = {}
    for row in session.scalars(query.order_by(AssessmentRow.created_at)):
        latest[row.transcript_id] = Assessment.model_validate(row.body)
    return sorted(latest.values(), key=lambda a: (a.call_time is None, a.call_time, a.transcript_id))


def list_agents(session: Session, team_id: str | None = None) -> list[tuple[str, str | None]]:
    """(agent_id, team_id) of every agent with a scored assessment, optionally of one team."""
    query = select(AssessmentRow.agent_id, AssessmentRow.team_id).where(AssessmentRow.status == "scored").distinct()
    if team_id:
        query = query.where(AssessmentRow.team_id == team_id)
    return sorted({(a, t) for a, t in session.execute(query)})


def model_calls(session: Session, transcript_id: str) -> list[ModelCallRow]:
    return list(session.scalars(select(ModelCallRow).where(ModelCallRow.transcript_id == transcript_id)))


def team_assessments(
    session: Session, team_id: str | None, rubric_version: str | None = None
) -> dict[str, list[Assessment]]:
    """Every agent of the team (or every agent, with no team) and their scored assessments."""
    return {
        agent: agent_assessments(session, agent, rubric_version)
        for agent, _ in list_agents(session, team_id)
    }


def record_placements(
    session: Session, history: Sequence[Placement], team_id: str | None, rubric_version: str, model_version: str
) -> int:
    """Keep each placement that differs from every one stored before; returns how many were new."""
    added = 0
    for placement in history:
        body = placement.model_dump(mode="json")
        digest = hashlib.sha256(f"{rubric_version}|{model_version}|{placement.model_dump_json()}".encode()).hexdigest()
        if session.get(PlacementRow, digest) is not None:
            continue
        session.add(PlacementRow(
            id=digest, agent_id=placement.agent_id, team_id=team_id, period=placement.period or "",
            rubric_version=rubric_version, model_version=model_version, status=placement.status, quadrant=placement.quadrant,
            ability=placement.axes["ability"].score, cognition=placement.axes["cognition"].score,
            assessment_ids=placement.assessment_ids, body=body,
        ))
        added += 1
    return added


def placement_records(session: Session, agent_id: str) -> list[PlacementRow]:
    """Every stored placement of the agent, oldest first (superseded ones included)."""
    query = select(PlacementRow).where(PlacementRow.agent_id == agent_id)
    return list(session.scalars(query.order_by(PlacementRow.period, PlacementRow.created_at)))


class CorrectionError(ValueError):
    """A correction that cannot be applied; the message names what to fix."""


def get_assessment(session: Session, assessment_id: str) -> Assessment | None:
    row = session.get(AssessmentRow, assessment_id)
    return Assessment.model_validate(row.body) if row else None


def correct_score(
    session: Session, assessment_id: str, criterion_id: str, override: ReviewerOverride
) -> Assessment | None:
    """Set a reviewer's score beside the model's and audit it; None when there is no such assessment.

    The row is locked for the update (on databases that lock rows), so two reviewers correcting the same call at
    once cannot lose each other's work.
    """
    row = session.scalar(select(AssessmentRow).where(AssessmentRow.id == assessment_id).with_for_update())
    if row is None:
        return None
    assessment = Assessment.model_validate(row.body)
    if assessment.status != "scored":
        raise CorrectionError(f"assessment {assessment_id} was not scored ({assessment.error}); score it again first")
    target = next((s for s in assessment.scores if s.criterion_id == criterion_id), None)
    if target is None:
        known = ", ".join(s.criterion_id for s in assessment.scores)
        raise CorrectionError(f"criterion_id: {criterion_id!r} is not scored in this assessment (known: {known})")
    before = target.final_score
    target.override = override
    row.body = assessment.model_dump(mode="json")
    session.add(CorrectionRow(
        assessment_id=assessment_id, transcript_id=assessment.transcript_id, criterion_id=criterion_id,
        reviewer=override.reviewer, comment=override.comment, model_score=target.score, before=before,
        after=override.score, at=override.at,
    ))
    return assessment


def corrections(session: Session, assessment_id: str | None = None) -> list[CorrectionRow]:
    """The audit trail, oldest first: of one assessment, or of all."""
    query = select(CorrectionRow)
    if assessment_id:
        query = query.where(CorrectionRow.assessment_id == assessment_id)
    return list(session.scalars(query.order_by(CorrectionRow.at, CorrectionRow.id)))


def list_assessments(
    session: Session,
    *,
    agent_id: str | None = None,
    team_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    after: tuple[str, str] | None = None,
) -> list[AssessmentRow]:
    """Newest first, keyset-paginated on (created_at, id): a page is stable while new assessments arrive."""
    from datetime import datetime

    from sqlalchemy import and_, or_

    query = select(AssessmentRow)
    if agent_id:
        query = query.where(AssessmentRow.agent_id == agent_id)
    if team_id:
        query = query.where(AssessmentRow.team_id == team_id)
    if status:
        query = query.where(AssessmentRow.status == status)
    if after:
        created = datetime.fromisoformat(after[0])
        query = query.where(or_(AssessmentRow.created_at < created,
                                and_(AssessmentRow.created_at == created, AssessmentRow.id < after[1])))
    query = query.order_by(AssessmentRow.created_at.desc(), AssessmentRow.id.desc()).limit(limit)
    return list(session.scalars(query))


def promoted_cases(session: Session) -> list[PromotedCaseRow]:
    return list(session.scalars(select(PromotedCaseRow).order_by(PromotedCaseRow.created_at, PromotedCaseRow.id)))


def save_promoted_case(session: Session, case_id: str, assessment_id: str, criterion_id: str, promoted_by: str,
                       body: dict) -> bool:
    """False when this evidence was promoted before (once is enough)."""
    exists = session.scalar(select(PromotedCaseRow).where(PromotedCaseRow.assessment_id == assessment_id,
                                                          PromotedCaseRow.criterion_id == criterion_id))
    if exists is not None:
        return False
    session.add(PromotedCaseRow(id=case_id, assessment_id=assessment_id, criterion_id=criterion_id,
                                promoted_by=promoted_by, body=body))
    return True

"""The durable job queue in the database: enqueue, claim with a lease, renew, finish, and batch completion.

Claims are safe with several workers in several processes: on PostgreSQL a worker locks the row it takes with
``FOR UPDATE SKIP LOCKED`` (others skip it rather than wait); on SQLite, writers are serialised and the claim is a
single conditional UPDATE. A worker that dies leaves a lease that expires, and the job is claimed again: nothing is
lost, and the assessment cache means a call scored before the crash is not scored twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from service.batches.schemas import BatchItem, JobState
from service.storage.tables import BatchItemRow, BatchRow, JobRow
from service.transcripts.schemas import Transcript



def now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue_batch(session: Session, transcripts: Sequence[Transcript], webhook_url: str | None) -> tuple[str, int]:
    """Store the batch and a job per transcript not seen before; returns the batch id and how many jobs are new.

    A transcript whose job failed earlier is queued again: re-sending is how a caller retries.
    """
    batch_id = uuid.uuid4().hex
    session.add(BatchRow(id=batch_id, status="queued", total=len(transcripts), webhook_url=webhook_url))
    keys = {(t.id, t.content_hash()): t for t in transcripts}
    existing = {
        (row.transcript_id, row.content_hash): row
        for row in session.scalars(select(JobRow).where(JobRow.transcript_id.in_({t.id for t in transcripts})))
        if (row.transcript_id, row.content_hash) in keys
    }
    new = 0
    for position, transcript in enumerate(transcripts):
        key = (transcript.id, transcript.content_hash())
        job = existing.get(key)
        if job is None:
            job = JobRow(transcript_id=transcript.id, content_hash=key[1], body=transcript.model_dump(mode="json"),
                         state="queued")
            session.add(job)
            session.flush()
            existing[key] = job
            new += 1
        elif job.state == "failed":
            job.state, job.error, job.updated_at = "queued", None, now()
        session.add(BatchItemRow(batch_id=batch_id, transcript_id=transcript.id, job_id=job.id, position=position))
    return batch_id, new


def claim(session: Session, owner: str, lease_s: float) -> JobRow | None:
    """Take the oldest queued job (or one whose worker's lease ran out) for ``owner``; None when there is none."""
    moment = now()
    claimable = or_(JobRow.state == "queued", and_(JobRow.state == "running", JobRow.lease_until < moment))
    candidates = select(JobRow.id).where(claimable).order_by(JobRow.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(candidates.with_for_update(skip_locked=True))
        if job_id is None:
            return None
        target = JobRow.id == job_id
    else:
        target = JobRow.id == candidates.scalar_subquery()
    taken = session.execute(
        update(JobRow).where(target, claimable)
        .values(state="running", lease_owner=owner, lease_until=moment + timedelta(seconds=lease_s),
                attempts=JobRow.attempts + 1, updated_at=moment)
        .returning(JobRow.id)
    ).scalar()
    return session.get(JobRow, taken) if taken is not None else None


def renew(session: Session, owners: Sequence[str], lease_s: float) -> int:
    """Extend the leases of the jobs these workers are still running; returns how many were extended."""
    if not owners:
        return 0
    result = session.execute(
        update(JobRow).where(JobRow.lease_owner.in_(owners), JobRow.state == "running")
        .values(lease_until=now() + timedelta(seconds=lease_s))
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def finish(session: Session, job_id: int, owner: str, state: JobState, assessment_id: str | None,
           error: str | None) -> list[str]:
    """Record the outcome (only if the job is still ours) and return the batches this completed."""
    result = session.execute(
        update(JobRow).where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.state == "running")
        .values(state=state, assessment_id=assessment_id, error=error, lease_owner=None, lease_until=None,
                updated_at=now())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return []
    batch_ids = list(session.scalars(select(BatchItemRow.batch_id).where(BatchItemRow.job_id == job_id).distinct()))
    return [b for b in batch_ids if close_if_done(session, b)]


def close_if_done(session: Session, batch_id: str) -> bool:
    """Mark the batch done when no item is pending; True only for the caller that closed it (webhook once)."""
    # Pending jobs are few next to finished ones, and `state` is indexed: look from the pending side, stop at one.
    pending = (select(JobRow.id).join(BatchItemRow, BatchItemRow.job_id == JobRow.id)
               .where(JobRow.state.in_(("queued", "running")), BatchItemRow.batch_id == batch_id).limit(1))
    if session.scalar(pending) is not None:
        return False
    closed = session.execute(update(BatchRow).where(BatchRow.id == batch_id, BatchRow.status != "done")
                             .values(status="done", finished_at=now()))
    return closed.rowcount == 1  # type: ignore[attr-defined]


def counts(session: Session, batch_id: str) -> dict[JobState, int]:
    rows = session.execute(
        select(JobRow.state, func.count()).select_from(BatchItemRow).join(JobRow, JobRow.id == BatchItemRow.job_id)
        .where(BatchItemRow.batch_id == batch_id).group_by(JobRow.state))
    found = {state: count for state, count in rows}
    return {state: found.get(state, 0) for state in ("queued", "running", "scored", "failed")}  # type: ignore[misc]


def items(session: Session, batch_id: str, limit: int, after: int | None) -> list[tuple[int, BatchItem]]:
    query = (select(BatchItemRow.position, JobRow).join(JobRow, JobRow.id == BatchItemRow.job_id)
             .where(BatchItemRow.batch_id == batch_id))
    if after is not None:
        query = query.where(BatchItemRow.position > after)
    rows = session.execute(query.order_by(BatchItemRow.position).limit(limit))
    return [(position, BatchItem(transcript_id=job.transcript_id, state=job.state, assessment_id=job.assessment_id,
                                 error=job.error, attempts=job.attempts)) for position, job in rows]


def queue_depth(session: Session) -> dict[str, int]:
    rows = session.execute(select(JobRow.state, func.count()).where(JobRow.state.in_(("queued", "running")))
                           .group_by(JobRow.state))
    found = dict(rows.all())
    return {"queued": found.get("queued", 0), "running": found.get("running", 0)}

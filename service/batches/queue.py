"""The durable job queue in the database: enqueue, claim with a lease, renew, finish, and batch completion.

Claims are safe with several workers in several processes: on PostgreSQL a worker locks the row it takes with
``FOR UPDATE SKIP LOCKED`` (others skip it rather than wait); on SQLite, writers are serialised and the claim is a
single conditional UPDATE. A worker that dies leaves a lease that expires, and the job is claimed again: nothing is
lost, and the assessment cache means a call scored before the crash is not scored twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import DateTime, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from service.batches.schemas import BatchItem, JobState
from service.storage.database import flushed_connection
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


# Claiming, renewing and finishing run for every job. They are built once with bind parameters and run on the
# session's connection (Core, not the ORM's bulk path): building them per job cost more CPU than running them.
_MOMENT = bindparam("moment", type_=DateTime(timezone=True))
_CLAIMABLE = or_(JobRow.state == "queued", and_(JobRow.state == "running", JobRow.lease_until < _MOMENT))
_NEXT = select(JobRow.id).where(_CLAIMABLE).order_by(JobRow.id).limit(1)
_TAKE_VALUES = dict(state="running", lease_owner=bindparam("owner"),
                    lease_until=bindparam("until", type_=DateTime(timezone=True)), attempts=JobRow.attempts + 1,
                    updated_at=_MOMENT)
# SQLite has one writer: a single UPDATE picks and takes the oldest claimable job.
_TAKE_NEXT = (update(JobRow).where(JobRow.id == _NEXT.scalar_subquery(), _CLAIMABLE).values(**_TAKE_VALUES)
              .returning(JobRow.id, JobRow.body))
# PostgreSQL: lock one claimable row, skipping rows other workers hold, then take it.
_LOCK_NEXT = _NEXT.with_for_update(skip_locked=True)
_TAKE = (update(JobRow).where(JobRow.id == bindparam("job_id"), _CLAIMABLE).values(**_TAKE_VALUES)
         .returning(JobRow.id, JobRow.body))
_RENEW = (update(JobRow).where(JobRow.lease_owner.in_(bindparam("owners", expanding=True)), JobRow.state == "running")
          .values(lease_until=bindparam("until", type_=DateTime(timezone=True))))
_FINISH = (update(JobRow)
           .where(JobRow.id == bindparam("job_id"), JobRow.lease_owner == bindparam("owner"), JobRow.state == "running")
           .values(state=bindparam("new_state"), assessment_id=bindparam("new_assessment"),
                   error=bindparam("new_error"), lease_until=None, updated_at=_MOMENT))
_BATCHES_OF_JOB = select(BatchItemRow.batch_id).where(BatchItemRow.job_id == bindparam("job_id")).distinct()
# Pending jobs are few next to finished ones, and `state` is indexed: look from the pending side, stop at one.
_PENDING_IN_BATCH = (select(JobRow.id).join(BatchItemRow, BatchItemRow.job_id == JobRow.id)
                     .where(JobRow.state.in_(("queued", "running")), BatchItemRow.batch_id == bindparam("batch_id"))
                     .limit(1))
# Two workers finishing a batch's last two jobs at once must not both see the other's job as pending (PostgreSQL,
# read committed): the batch row is locked first, so the second check waits for the first commit and sees it.
_LOCK_BATCH = select(BatchRow.id).where(BatchRow.id == bindparam("batch_id")).with_for_update()
_CLOSE = (update(BatchRow).where(BatchRow.id == bindparam("batch_id"), BatchRow.status != "done")
          .values(status="done", finished_at=_MOMENT))


def has_work(session: Session) -> bool:
    """Whether any job could be claimed now: what idle workers' watcher asks, cheaply, instead of each worker."""
    return flushed_connection(session).execute(_NEXT, {"moment": now()}).first() is not None


def claim(session: Session, owner: str, lease_s: float) -> tuple[int, dict[str, Any]] | None:
    """Take the oldest queued job (or one whose worker's lease ran out) for ``owner``: its id and body, or None
    when there is none."""
    connection = flushed_connection(session)
    moment = now()
    params: dict[str, Any] = {"moment": moment, "owner": owner, "until": moment + timedelta(seconds=lease_s)}
    if connection.dialect.name == "postgresql":
        job_id = connection.execute(_LOCK_NEXT, params).scalar()
        if job_id is None:
            return None
        taken = connection.execute(_TAKE, {**params, "job_id": job_id}).first()
    else:
        taken = connection.execute(_TAKE_NEXT, params).first()
    return (taken[0], taken[1]) if taken is not None else None


def renew(session: Session, owners: Sequence[str], lease_s: float) -> int:
    """Extend the leases of the jobs these workers are still running; returns how many were extended."""
    if not owners:
        return 0
    result = flushed_connection(session).execute(
        _RENEW, {"owners": list(owners), "until": now() + timedelta(seconds=lease_s)})
    return result.rowcount


def finish(session: Session, job_id: int, owner: str, state: JobState, assessment_id: str | None,
           error: str | None) -> list[str]:
    """Record the outcome (only if the job is still ours) and return the batches this completed. The owner stays
    on the finished job: which machine, process and worker scored it."""
    connection = flushed_connection(session)
    moment = now()
    result = connection.execute(_FINISH, {"job_id": job_id, "owner": owner, "new_state": state,
                                          "new_assessment": assessment_id, "new_error": error, "moment": moment})
    if result.rowcount != 1:
        return []
    batch_ids = list(connection.execute(_BATCHES_OF_JOB, {"job_id": job_id}).scalars())
    return [b for b in batch_ids if close_if_done(session, b)]


def close_if_done(session: Session, batch_id: str) -> bool:
    """Mark the batch done when no item is pending; True only for the caller that closed it (webhook once)."""
    connection = flushed_connection(session)
    connection.execute(_LOCK_BATCH, {"batch_id": batch_id})
    if connection.execute(_PENDING_IN_BATCH, {"batch_id": batch_id}).first() is not None:
        return False
    return connection.execute(_CLOSE, {"batch_id": batch_id, "moment": now()}).rowcount == 1


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

"""Workers that score queued jobs: a bounded pool of threads, each claiming one job at a time.

Runs inside ``iceberg serve`` (the embedded default) or alone as ``iceberg worker`` on other machines sharing a
PostgreSQL database. While a job runs, its lease is renewed, so a slow model is not mistaken for a dead worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Callable

from sqlalchemy.orm import Session

from service.batches import queue
from service.batches.webhook import deliver
from service.scoring.schemas import Assessment
from service.storage import repository
from service.transcripts.schemas import Transcript

if TYPE_CHECKING:
    from service.context import ServiceContext

log = logging.getLogger("iceberg.worker")


class WorkerPool:
    def __init__(self, ctx: ServiceContext, workers: int, lease_s: float = 60.0, idle_s: float = 0.5,
                 on_batch_done: Callable[[str], None] | None = None) -> None:
        self.ctx = ctx
        self.workers = max(1, workers)
        self.lease_s = lease_s
        self.idle_s = idle_s
        self.on_batch_done = on_batch_done or (lambda batch_id: deliver(ctx, batch_id))
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._count_lock = threading.Lock()
        self._idle = 0  # workers waiting for work; the watcher asks the queue only while there are some
        self.processed = 0  # jobs this pool finished: for logs, and to see work spread over machines
        self.prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def start(self) -> "WorkerPool":
        for target, name in ((self._keep_leases, "iceberg-lease-keeper"), (self._watch_queue, "iceberg-queue-watch")):
            helper = threading.Thread(target=target, daemon=True, name=name)
            helper.start()
            self._threads.append(helper)
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, args=(f"{self.prefix}:{n}",), daemon=True,
                                      name=f"iceberg-worker-{n}")
            thread.start()
            self._threads.append(thread)
        return self

    def wake(self) -> None:
        """New work arrived: idle workers look at once instead of at their next poll."""
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout_s)

    def _run(self, owner: str) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_one(owner)
            except Exception:  # a worker must outlive one bad job or a database hiccup; the lease brings it back
                log.exception("worker %s: unexpected error; retrying shortly", owner)
                worked = False
            if worked:
                continue
            # Idle workers wait to be woken: by new work in this process at once, or by the watcher, which alone
            # asks the queue (every idle_s) for work other processes or machines queued.
            with self._wake:
                self._idle += 1
                self._wake.wait(max(self.idle_s, 5.0))
                self._idle -= 1

    def _watch_queue(self) -> None:
        while not self._stop.wait(self.idle_s):
            if not self._idle:
                continue
            try:
                with self.ctx.sessions() as session:
                    if queue.has_work(session):
                        self.wake()
            except Exception:  # the next tick asks again
                log.exception("queue watch failed")

    def run_one(self, owner: str) -> bool:
        """Claim and score one job; False when the queue is empty.

        Two write transactions a job: the claim, which also stores the transcript, and the assessment with the
        job's outcome. On SQLite every write waits for the one writer, so each one saved is throughput.
        """
        with self.ctx.sessions.begin() as session:
            job = queue.claim(session, owner, self.lease_s)
            if job is None:
                return False
            job_id, body = job
            try:
                transcript: Transcript | Exception = Transcript.model_validate(body)
            except Exception as invalid:  # recorded as the job's failure below, with the reason
                transcript = invalid
            else:
                repository.save_transcript(session, transcript)
        done: list[str] = []

        def finish(session: Session, state: str, assessment_id: str | None, error: str | None) -> None:
            done.extend(queue.finish(session, job_id, owner, state, assessment_id, error))  # type: ignore[arg-type]

        def record(session: Session, assessment: Assessment) -> None:
            finish(session, *_outcome(assessment))

        try:
            if isinstance(transcript, Exception):
                raise transcript
            assessment = self.ctx.assessor.assess(transcript, also=record)
            if assessment.cached:  # a cached answer writes nothing, so the outcome has a transaction of its own
                with self.ctx.sessions.begin() as session:
                    finish(session, *_outcome(assessment))
        except Exception as failure:  # recorded on the job, never lost; finishing a recorded job again is a no-op
            done.clear()  # batches "completed" in a transaction that then failed were not
            with self.ctx.sessions.begin() as session:
                finish(session, "failed", None, f"{type(failure).__name__}: {failure}")
        with self._count_lock:
            self.processed += 1
        for batch_id in done:
            self.on_batch_done(batch_id)
        return True

    def _keep_leases(self) -> None:
        """One thread renews every running job of this pool, so a slow model is never taken for a dead worker."""
        owners = [f"{self.prefix}:{n}" for n in range(self.workers)]
        while not self._stop.wait(self.lease_s / 3):
            try:
                with self.ctx.sessions.begin() as session:
                    queue.renew(session, owners, self.lease_s)
            except Exception:  # a missed renewal is retried at the next tick; the lease has slack for it
                log.exception("lease renewal failed")


def _outcome(assessment: Assessment) -> tuple[str, str, str | None]:
    """The job's state, assessment id and error for an assessment."""
    if assessment.status == "scored":
        return "scored", assessment.id, None
    return "failed", assessment.id, assessment.error

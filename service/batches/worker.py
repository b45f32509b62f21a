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

from service.batches import queue
from service.batches.webhook import deliver
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
        self.processed = 0  # jobs this pool finished: for logs, and to see work spread over machines
        self.prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def start(self) -> "WorkerPool":
        keeper = threading.Thread(target=self._keep_leases, daemon=True, name="iceberg-lease-keeper")
        keeper.start()
        self._threads.append(keeper)
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
        idle = self.idle_s
        while not self._stop.is_set():
            try:
                worked = self.run_one(owner)
            except Exception:  # a worker must outlive one bad job or a database hiccup; the lease brings it back
                log.exception("worker %s: unexpected error; retrying shortly", owner)
                worked = False
            if worked:
                idle = self.idle_s
                continue
            # An empty queue is asked less and less often (up to every 5 s): many idle workers must not keep the
            # database busy. New work in this process wakes them at once; other machines' work within 5 s.
            with self._wake:
                self._wake.wait(idle)
            idle = min(idle * 2, max(self.idle_s, 5.0))

    def run_one(self, owner: str) -> bool:
        """Claim and score one job; False when the queue is empty."""
        with self.ctx.sessions.begin() as session:
            job = queue.claim(session, owner, self.lease_s)
            if job is None:
                return False
            job_id, body = job.id, dict(job.body)
        try:
            transcript = Transcript.model_validate(body)
            assessment = self.ctx.assessor.assess(transcript)
            state, error = ("scored", None) if assessment.status == "scored" else ("failed", assessment.error)
            assessment_id: str | None = assessment.id
        except Exception as failure:  # recorded on the job, never lost
            state, error, assessment_id = "failed", f"{type(failure).__name__}: {failure}", None
        with self.ctx.sessions.begin() as session:
            done = queue.finish(session, job_id, owner, state, assessment_id, error)  # type: ignore[arg-type]
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

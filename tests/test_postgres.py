"""The storage and the batch queue on a real PostgreSQL server, as deployments with several replicas run them.

Skipped, with the reason shown, where no PostgreSQL server is reachable (see the ``pg_url`` fixture).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from service.batches import queue
from service.config import Settings
from service.context import ServiceContext
from service.scoring.schemas import ReviewerOverride
from service.storage import repository
from service.storage.tables import AssessmentRow, BatchRow, JobRow
from service.transcripts.parsing import load_transcript_file
from service.transcripts.schemas import Transcript, Turn
from tests.conftest import EXAMPLES
from tests.scripted_llm import ScriptedLLM


def _context(pg_url: str, scripted: ScriptedLLM, data_dir: Path) -> ServiceContext:
    return ServiceContext(Settings(data_dir=data_dir, database_url=pg_url, llm_model="openai/scripted",
                                   llm_api_base=scripted.api_base, llm_api_key="sk-test", llm_backoff_s=0.01,
                                   batch_lease_s=5))


def test_storage_round_trips_on_postgres(pg_url: str, scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    ctx = _context(pg_url, scripted_llm, tmp_path / "data")
    for path in sorted(EXAMPLES.glob("*")):
        assert ctx.assessor.assess(load_transcript_file(path)).status == "scored"
    again = ctx.assessor.assess(load_transcript_file(EXAMPLES / "C1001.json"))
    assert again.cached and len(scripted_llm.requests) == len(list(EXAMPLES.glob("*")))
    with ctx.sessions.begin() as session:
        corrected = repository.correct_score(session, again.id, "logic", ReviewerOverride(
            score=5, reviewer="rev", comment="ok", at=datetime.now(timezone.utc)))
        assert corrected is not None
    portrait = ctx.portrait("A001")
    assert portrait is not None and portrait.placement.assessed_calls == 5 and portrait.placement.overridden_scores == 1
    assert [h.period for h in portrait.history] == ["2026-10", "2026-11"]
    with ctx.sessions() as session:
        first = repository.list_assessments(session, limit=7)
        rest = repository.list_assessments(session, limit=100, after=(first[-1].created_at.isoformat(), first[-1].id))
        assert len(first) + len(rest) == 20 and not {r.id for r in first} & {r.id for r in rest}
        assert len(repository.placement_records(session, "A001")) == 2


def test_two_machines_share_the_queue_without_double_processing(pg_url: str, scripted_llm: ScriptedLLM,
                                                                tmp_path: Path) -> None:
    scripted_llm.delay_s = 0.05
    machines = [_context(pg_url, scripted_llm, tmp_path / f"m{n}") for n in range(2)]
    transcripts = [Transcript(id=f"pg{n}", agent_id="A1", turns=[Turn(speaker="agent", text=f"您好{n}")])
                   for n in range(30)]
    with machines[0].sessions.begin() as session:
        batch_id, new = queue.enqueue_batch(session, transcripts, None)
    assert new == 30
    pools = [m.start_workers(4) for m in machines]
    try:
        deadline = time.monotonic() + 90
        while True:
            with machines[0].sessions() as session:
                if queue.counts(session, batch_id)["scored"] == 30:
                    break
            assert time.monotonic() < deadline, "the two machines did not finish the queue"
            time.sleep(0.2)
    finally:
        for m in machines:
            m.stop_workers()
    with machines[0].sessions() as session:
        assert session.scalar(select(func.count()).select_from(AssessmentRow)) == 30
        assert session.scalar(select(func.max(JobRow.attempts))) == 1  # every job claimed exactly once
    assert len(scripted_llm.requests) == 30
    assert sum(p.processed for p in pools) == 30 and all(p.processed > 0 for p in pools)  # both machines worked


def test_a_batch_closes_when_its_last_jobs_finish_at_once(pg_url: str, scripted_llm: ScriptedLLM,
                                                         tmp_path: Path) -> None:
    """Eight workers finishing eight jobs at the same moment: under read committed each could see another's job
    still running and none close the batch. The batch row is locked for the check, so the last one closes it."""
    scripted_llm.delay_s = 0.4
    machines = [_context(pg_url, scripted_llm, tmp_path / f"m{n}") for n in range(2)]
    for machine in machines:
        machine.start_workers(4)
    try:
        for round_ in range(3):
            transcripts = [Transcript(id=f"close{round_}-{n}", agent_id="A1",
                                      turns=[Turn(speaker="agent", text=f"您好{round_}-{n}")]) for n in range(8)]
            batch_id, _ = machines[0].submit_batch(transcripts)[:2]
            deadline = time.monotonic() + 60
            while True:
                with machines[0].sessions() as session:
                    counts = queue.counts(session, batch_id)
                    status = session.get(BatchRow, batch_id).status
                if counts["scored"] == 8 and status == "done":
                    break
                assert time.monotonic() < deadline, f"round {round_}: {counts}, batch {status}"
                time.sleep(0.1)
    finally:
        for m in machines:
            m.stop_workers()

"""SQLite's one writer, queued in-process: a writer waits on a lock that is handed over when the holder's
connection goes back to the pool, whether it committed, rolled back or failed, or its process died; readers never
wait for it.
(That the hand-over is quicker than SQLite's busy wait is a speed claim: benchmarks/batch_throughput.py.)"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.storage.database import make_engine, make_sessionmaker
from service.storage.tables import TranscriptRow

ROOT = Path(__file__).resolve().parent.parent


def _row(n: int) -> TranscriptRow:
    return TranscriptRow(id=f"t{n}", agent_id="A1", content_hash="h", body={})


def _writes_within(sessions: sessionmaker[Session], row: TranscriptRow, seconds: float) -> bool:
    """Whether a write from another thread commits within the time (a leaked lock would hold it for ever)."""
    done = threading.Event()

    def write() -> None:
        with sessions.begin() as session:
            session.add(row)
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(seconds)


def test_a_writer_waits_for_the_holder_and_readers_do_not(tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    holding, at = threading.Event(), {}

    def hold() -> None:
        with sessions.begin() as session:
            session.add(_row(1))
            session.flush()  # the write lock is taken here
            holding.set()
            time.sleep(0.5)
            at["holder_commits"] = time.monotonic()

    def write() -> None:
        holding.wait()
        with sessions.begin() as session:
            session.add(_row(2))
        at["writer_done"] = time.monotonic()

    threads = [threading.Thread(target=hold), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    holding.wait()
    with sessions() as session:  # a reader is not held up by the open write, and does not see it
        assert session.scalar(select(func.count()).select_from(TranscriptRow)) == 0
    at["read_done"] = time.monotonic()
    for thread in threads:
        thread.join(10)
    assert at["read_done"] < at["holder_commits"] <= at["writer_done"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(TranscriptRow)) == 2


def test_the_lock_is_released_when_a_write_fails_or_rolls_back(tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    with pytest.raises(RuntimeError):
        with sessions.begin() as session:
            session.add(_row(1))
            session.flush()
            raise RuntimeError("the unit of work fails after writing")
    with sessions() as session:
        session.execute(text("UPDATE transcripts SET agent_id = 'A2'"))
        session.rollback()
    with pytest.raises(Exception):
        with sessions.begin() as session:
            session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    assert _writes_within(sessions, _row(3), 5), "a writer in another thread waited for a lock nobody held"
    with sessions() as session:
        assert session.scalars(select(TranscriptRow.id)).all() == ["t3"]


_HOLDER = """
import sys, time
from service.storage.database import make_engine, make_sessionmaker
from service.storage.tables import TranscriptRow
sessions = make_sessionmaker(make_engine(sys.argv[1]))
with sessions.begin() as session:
    session.add(TranscriptRow(id="held", agent_id="A1", content_hash="h", body={}))
    session.flush()
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_process_killed_while_writing_does_not_block_the_others(tmp_path: Path) -> None:
    """The gate between processes is a file lock: a holder killed with kill -9 loses it with its process."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    sessions = make_sessionmaker(make_engine(url))
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    finally:
        holder.kill()
        holder.wait(10)
    assert _writes_within(sessions, _row(1), 10), "the killed holder's lock was never released"
    with sessions() as session:
        assert session.scalars(select(TranscriptRow.id)).all() == ["t1"]  # the killed write was rolled back

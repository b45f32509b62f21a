"""SQLite's one writer, queued in-process: a writer waits on a lock that is handed over when the holder's
connection goes back to the pool, whether it committed, rolled back or failed; readers never wait for it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from service.storage.database import make_engine, make_sessionmaker
from service.storage.tables import TranscriptRow


def _row(n: int) -> TranscriptRow:
    return TranscriptRow(id=f"t{n}", agent_id="A1", content_hash="h", body={})


def test_a_writer_waits_for_the_holder_and_follows_at_once(tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    holding, finished = threading.Event(), {}

    def hold() -> None:
        with sessions.begin() as session:
            session.add(_row(1))
            session.flush()  # the write lock is taken here
            holding.set()
            time.sleep(0.4)

    def write() -> None:
        holding.wait()
        with sessions.begin() as session:
            session.add(_row(2))
        finished["at"] = time.monotonic()

    threads = [threading.Thread(target=hold), threading.Thread(target=write)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    holding.wait()
    with sessions() as session:  # a reader is not held up by the open write
        assert session.scalar(select(func.count()).select_from(TranscriptRow)) == 0
    read_at = time.monotonic()
    for thread in threads:
        thread.join(10)
    assert read_at - started < 0.3
    assert 0.4 <= finished["at"] - started < 1.0  # after the holder's commit, without a busy-wait's sleep
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

    done = threading.Event()

    def write() -> None:
        with sessions.begin() as session:
            session.add(_row(3))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5), "a writer in another thread waited for a lock nobody held"
    with sessions() as session:
        assert session.scalars(select(TranscriptRow.id)).all() == ["t3"]

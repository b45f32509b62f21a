"""Engine and sessions. The schema is brought to the newest migration on first use (Alembic), on SQLite and
PostgreSQL alike; a database from before migrations existed is recognised and upgraded in place."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class SqliteWriteGate:
    """One writing transaction at a time in this process, queued on a Python lock.

    SQLite has one writer. Without this, a thread that finds the write lock taken sleeps in SQLite's busy
    handler (1, 2, 5, 10 ... 100 ms) and wakes late; with 32 batch workers that was most of a batch's time.
    Here a writer waits on a lock that hands over the moment the holder's connection goes back to the pool
    after its commit or rollback. Other processes on the same file still meet SQLite's own busy wait.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._release)
        event.listen(engine.pool, "invalidate", self._release_invalidated)

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get("write_gate") or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        if self._holder == threading.get_ident():
            return  # this thread writes on another connection already: SQLite's own lock decides, as before
        self._lock.acquire()
        self._holder = threading.get_ident()
        conn.info["write_gate"] = True

    def _release(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop("write_gate", False):
            self._holder = None
            self._lock.release()

    def _release_invalidated(self, dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self._release(dbapi_connection, record)



def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=16,
                               max_overflow=64)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL cannot corrupt the database; a power cut may lose only the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        SqliteWriteGate().install(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    migrate(engine)
    return engine


MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x1CEBE6  # PostgreSQL advisory lock: replicas starting together migrate one at a time


def migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "assessments" in tables:
            command.stamp(config, "0001")  # made by create_all before migrations: exactly revision 0001's tables
        command.upgrade(config, "head")


def flushed_connection(session: Session) -> Connection:
    """The session's connection, for statements run without the ORM; the session's pending changes are sent first,
    as the ORM's own autoflush would, so those statements see them."""
    session.flush()
    return session.connection()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

"""SQLite's one writer, queued: a writing transaction waits on a lock instead of in SQLite's busy handler.

Without this, a thread or process that finds SQLite's write lock taken sleeps in the busy handler (1, 2, 5, 10 ...
100 ms) and wakes late; with 32 batch workers that was most of a batch's time. Here a writer waits on a lock that
is handed over the moment the holder's connection goes back to the pool after its commit or rollback: a Python
lock between the threads of a process, and an ``flock`` on a file beside the database between processes (the
server and the worker processes it starts, or an ``iceberg worker`` beside it). A process that dies holding the
file lock loses it with its file descriptors.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

try:
    import fcntl
except ImportError:  # not POSIX: threads are queued, processes meet SQLite's busy wait as before
    fcntl = None  # type: ignore[assignment]

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


_gates: dict[str, "SqliteWriteGate"] = {}
_gates_lock = threading.Lock()


def write_gate(database: Path) -> "SqliteWriteGate":
    """The process's one gate for this database file, shared by every engine on it: a thread holding it through
    one engine is known to it through another."""
    key = str(database.resolve())
    with _gates_lock:
        if key not in _gates:
            _gates[key] = SqliteWriteGate(database)
        return _gates[key]


class SqliteWriteGate:
    def __init__(self, database: Path) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None
        self._fd: int | None = None
        if fcntl is not None:
            self._fd = os.open(f"{database}.write-lock", os.O_CREAT | os.O_RDWR, 0o600)

    def install(self, engine: Engine) -> None:
        """Install after migrations: a migration never waits on the gate while it holds SQLite's lock."""
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._release)
        event.listen(engine.pool, "invalidate", self._release_invalidated)

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get("write_gate") or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        if self._holder == threading.get_ident():
            return  # this thread writes on another connection already: SQLite's own lock decides, as before
        self._lock.acquire()
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._holder = threading.get_ident()
        conn.info["write_gate"] = True

    def _release(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop("write_gate", False):
            self._holder = None
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._lock.release()

    def _release_invalidated(self, dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self._release(dbapi_connection, record)

"""Engine and sessions. The schema is brought to the newest migration on first use (Alembic), on SQLite and
PostgreSQL alike; a database from before migrations existed is recognised and upgraded in place."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.storage.write_gate import write_gate


def make_engine(url: str) -> Engine:
    gate = None
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        database.parent.mkdir(parents=True, exist_ok=True)
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

        gate = write_gate(database)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    migrate(engine)
    if gate is not None:
        gate.install(engine)
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

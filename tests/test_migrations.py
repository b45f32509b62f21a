"""The schema comes from migrations: a new database matches the tables in code exactly (so a change to the tables
without a migration fails here), and a database from before migrations is upgraded with its data kept."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, text

from service.storage.database import make_engine
from service.storage.tables import Base


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def test_new_sqlite_database_matches_the_tables(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'new.sqlite3'}") == []


def test_new_postgres_database_matches_the_tables(pg_url: str) -> None:
    assert _differences(pg_url) == []


def test_a_database_from_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    first = MetaData()
    for name in ("transcripts", "assessments", "model_calls"):
        Base.metadata.tables[name].to_metadata(first)
    old = create_engine(url)
    first.create_all(old)  # what create_all made before there were migrations
    with old.begin() as conn:
        conn.execute(text("INSERT INTO transcripts (id, agent_id, content_hash, body, received_at) "
                          "VALUES ('t1', 'A1', 'h', '{}', '2026-01-01 00:00:00')"))
    old.dispose()
    engine = make_engine(url)
    assert {"jobs", "api_keys", "placements", "corrections"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
        assert conn.execute(text("SELECT agent_id FROM transcripts")).scalar() == "A1"
    make_engine(url)  # and again: nothing to do, nothing breaks

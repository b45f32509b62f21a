"""Alembic's entry point: migrations run on the connection the service hands over (see storage.database)."""

from __future__ import annotations

from alembic import context

from service.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through service.storage.database.migrate(engine)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()

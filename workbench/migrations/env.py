"""Alembic environment: runs the migrations on the connection :func:`workbench.db.migrate`
hands over (``config.attributes["connection"]``); SQLite migrates in batch mode."""

from __future__ import annotations

from alembic import context

from workbench.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached through the alembic CLI
    raise RuntimeError("run migrations through workbench.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

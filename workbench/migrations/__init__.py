"""Alembic migrations of the workbench's database (run by :func:`workbench.db.migrate`)."""

"""The workbench's database: tables, the engine, and migrations (Alembic).

SQLAlchemy 2 ORM on any URL it knows; the embedded default is a SQLite file in the data
directory, the bureau's server PostgreSQL (``postgresql+psycopg://user@host/db``). The
schema is created and upgraded only by the Alembic migrations in
``workbench/migrations/versions`` (:func:`migrate`), never by ``create_all``, so a
database made by an older workbench is brought forward in place.

The database is the source of truth for what the pages show: users, sessions, scenarios,
jobs with their progress steps and results, and the audit trail. A result folder on disk
is named by its job row; the job's summary is copied into the row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: Roles, weakest first: a viewer looks, an analyst runs and derives, an admin manages users.
ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")

#: Job states. ``queued`` and ``running`` are live; the others are final, except that an
#: ``interrupted`` (the server stopped while it ran) or ``failed`` job can be re-run as a
#: new job.
JOB_STATES: tuple[str, ...] = (
    "queued",
    "running",
    "cancelling",
    "done",
    "failed",
    "cancelled",
    "interrupted",
)
LIVE_STATES: frozenset[str] = frozenset({"queued", "running", "cancelling"})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Session(Base):
    """A login: the cookie holds a random token; the row holds only its SHA-256."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Scenario(Base):
    """A scenario the workbench can run: shipped (a TOML of the checkout), uploaded (a
    folder under the data directory) or derived (a small ``extends`` TOML there)."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # shipped | uploaded | derived
    path: Mapped[str] = mapped_column(Text)  # the scenario TOML, absolute
    folder: Mapped[str | None] = mapped_column(Text, nullable=True)  # owned folder, if any
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("scenarios.id"), nullable=True)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    parent: Mapped[Scenario | None] = relationship(remote_side=[id])


class Job(Base):
    """One run of a scenario. ``result_dir`` is written by :func:`freight.run.run` on a
    worker; ``summary`` is its ``summary.json``, copied here when the job is done."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    rerun_of: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    worker: Mapped[str] = mapped_column(Text, default="")

    scenario: Mapped[Scenario] = relationship()
    steps: Mapped[list[JobStep]] = relationship(
        order_by="JobStep.seq", cascade="all, delete-orphan"
    )


class JobStep(Base):
    """A progress step of a job, as :class:`freight.progress.Progress` names it: a row
    when it starts, its seconds when it ends."""

    __tablename__ = "job_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)


class Audit(Base):
    """Who did what, when: every login, job, scenario and user change."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")


def default_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file in the data directory."""
    return f"sqlite:///{(Path(data_dir) / 'workbench.sqlite3').absolute()}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout, so the page
    requests and the job bookkeeping may write from several threads."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def audit(db: Any, username: str, action: str, target: str = "", detail: str = "") -> None:
    """Add an audit row to the open session ``db`` (committed with the change it records)."""
    db.add(Audit(username=username, action=action, target=target, detail=detail[:2000]))

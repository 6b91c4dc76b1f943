"""The workbench's database layer, on SQLite and on a real PostgreSQL server started by the
test (tests/pgserver.py): migrations, users and password hashes, sessions, scenarios,
jobs with steps and summaries, the audit trail, and what the job queue writes -- events,
results, and the recovery after a restart (running → interrupted, queued → submitted)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from tests.pgserver import fresh_database, postgres_server
from workbench import auth
from workbench.db import Audit, Job, JobStep, Scenario, User, make_engine, migrate, session_factory
from workbench.jobs import INTERRUPTED, JobQueue

_n = itertools.count()


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wb.sqlite3'}"
    else:
        url = fresh_database(request.getfixturevalue("pg_server"), f"wb_test_{next(_n)}")
    engine = make_engine(url)
    migrate(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _scenario(db: Any) -> Scenario:
    s = Scenario(
        slug=f"s{next(_n)}",
        title="聊城 测试 <b>",
        kind="shipped",
        path="/x.toml",
        overrides={"policy.threshold_km": 300.0},
        warnings=[],
        created_by="ana",
    )
    db.add(s)
    db.flush()
    return s


def test_migrations_make_every_table_and_run_twice(sessions: Any) -> None:
    engine = sessions.kw["bind"]
    migrate(engine)  # again: nothing to do
    names = set(inspect(engine).get_table_names())
    assert {
        "users",
        "sessions",
        "scenarios",
        "jobs",
        "job_steps",
        "audit",
        "alembic_version",
    } <= names


def test_passwords_are_argon2_hashes_and_authenticate(sessions: Any) -> None:
    with sessions() as db, db.begin():
        auth.add_user(db, "Ana", "correct horse", "analyst", by="test")
    with sessions() as db, db.begin():
        user = db.scalar(select(User).where(User.username == "ana"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        assert auth.authenticate(db, "ana", "correct horse") is not None
        assert auth.authenticate(db, "ANA ", "correct horse") is not None
        assert auth.authenticate(db, "ana", "wrong horse!") is None
        assert auth.authenticate(db, "nobody", "correct horse") is None
        with pytest.raises(auth.AuthError, match="exists"):
            auth.add_user(db, "ana", "another one", "viewer", by="test")
        with pytest.raises(auth.AuthError, match="8"):
            auth.add_user(db, "bob", "short", "viewer", by="test")
        with pytest.raises(auth.AuthError, match="role"):
            auth.add_user(db, "bob", "long enough", "superuser", by="test")
        user.active = False
    with sessions() as db:
        assert auth.authenticate(db, "ana", "correct horse") is None


def test_sessions_keep_only_a_digest_and_expire(sessions: Any) -> None:
    with sessions() as db, db.begin():
        user = auth.add_user(db, "vic", "viewer pass", "viewer", by="test")
        db.flush()
        token, row = auth.open_session(db, user)
        assert token not in row.token_hash
    with sessions() as db, db.begin():
        found = auth.find_session(db, token)
        assert found is not None and found.user.username == "vic"
        assert auth.find_session(db, token + "x") is None
        found.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with sessions() as db, db.begin():
        assert auth.find_session(db, token) is None
        auth.close_session(db, token)
    assert auth.allowed("admin", "analyst") and not auth.allowed("viewer", "analyst")


def test_jobs_steps_summary_and_audit_round_trip(sessions: Any) -> None:
    summary = {"schema_version": 2, "title": "聊城 2019", "states": {"with_rule": {"co2_t": 1.5}}}
    with sessions() as db, db.begin():
        s = _scenario(db)
        job = Job(
            scenario_id=s.id,
            status="done",
            created_by="ana",
            summary=summary,
            result_dir="/data/runs/job-1",
        )
        db.add(job)
        db.flush()
        db.add_all(
            [
                JobStep(job_id=job.id, seq=1, label="solving", seconds=2.5),
                JobStep(job_id=job.id, seq=0, label="reading scenario", seconds=0.1),
            ]
        )
        db.add(Audit(username="ana", action="job.submit", target=f"job {job.id}"))
        job_id = job.id
    with sessions() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.summary == summary
        assert [st.label for st in job.steps] == ["reading scenario", "solving"]
        assert job.scenario.overrides == {"policy.threshold_km": 300.0}
        assert db.scalar(select(Audit.action)) == "job.submit"


class _Future:
    def __init__(self, status: str = "pending", result: Any = None) -> None:
        self.status, self._result, self.callbacks = status, result, []

    def add_done_callback(self, fn: Any) -> None:
        self.callbacks.append(fn)

    def result(self) -> Any:
        return self._result


class _Client:
    def __init__(self) -> None:
        self.submitted: list[tuple[Any, ...]] = []

    def submit(self, fn: Any, *args: Any, **kw: Any) -> _Future:
        self.submitted.append(args)
        return _Future()


def _queue(sessions: Any, tmp_path: Path) -> tuple[JobQueue, _Client]:
    q = JobQueue(sessions, tmp_path)
    client = _Client()
    q.client = client
    return q, client


def test_recovery_interrupts_running_jobs_and_resubmits_queued_ones(
    sessions: Any, tmp_path: Path
) -> None:
    with sessions() as db, db.begin():
        s = _scenario(db)
        jobs = {
            st: Job(scenario_id=s.id, status=st, created_by="ana")
            for st in ("done", "running", "cancelling", "queued", "failed")
        }
        jobs["done"].summary = {"ok": 1}
        db.add_all(jobs.values())
        db.flush()
        ids = {st: j.id for st, j in jobs.items()}
    q, client = _queue(sessions, tmp_path)
    q.recover()
    with sessions() as db:
        got = {st: db.get(Job, i) for st, i in ids.items()}
        assert got["running"].status == got["cancelling"].status == "interrupted"  # type: ignore[union-attr]
        assert got["running"].error == INTERRUPTED  # type: ignore[union-attr]
        assert got["done"].status == "done" and got["done"].summary == {"ok": 1}  # type: ignore[union-attr]
        assert got["failed"].status == "failed" and got["queued"].status == "queued"  # type: ignore[union-attr]
    assert [a[0] for a in client.submitted] == [ids["queued"]]


def test_events_and_results_are_written_once_and_in_order(sessions: Any, tmp_path: Path) -> None:
    with sessions() as db, db.begin():
        s = _scenario(db)
        job = Job(scenario_id=s.id, status="queued", created_by="ana")
        db.add(job)
        db.flush()
        job_id = job.id
    q, client = _queue(sessions, tmp_path)
    q.submit(job_id)
    q._on_event((0, {"job": job_id, "event": "started", "worker": "tcp://w:1"}))
    q._on_event((0, {"job": job_id, "event": "step", "seq": 0, "label": "reading scenario"}))
    q._on_event((0, {"job": job_id, "event": "step_done", "seq": 0, "seconds": 0.25}))
    q._on_event((0, {"job": job_id, "event": "step", "seq": 1, "label": "solving"}))
    with sessions() as db:
        job2 = db.get(Job, job_id)
        assert job2 is not None and job2.status == "running" and job2.worker == "tcp://w:1"
        assert [(x.label, x.seconds) for x in job2.steps] == [
            ("reading scenario", 0.25),
            ("solving", None),
        ]
    summary = {"schema_version": 2, "title": "t"}
    fut = _Future(
        "finished",
        {
            "status": "done",
            "summary": summary,
            "timings": {},
            "result_dir": str(tmp_path / "runs" / f"job-{job_id}"),
        },
    )
    q._on_done(job_id, fut)
    q._on_event((0, {"job": job_id, "event": "started", "worker": "late"}))  # late: ignored
    with sessions() as db:
        job3 = db.get(Job, job_id)
        assert job3 is not None and job3.status == "done" and job3.summary == summary
        assert job3.finished_at is not None
    failed = _Future("finished", {"status": "failed", "error": "输入有误 / input error:\nx"})
    q._on_done(job_id, failed)  # a final job is never overwritten
    with sessions() as db:
        assert db.get(Job, job_id).status == "done"  # type: ignore[union-attr]

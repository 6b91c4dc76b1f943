"""Jobs: runs of :func:`freight.run.run` on a Dask cluster, recorded in the database.

The server holds one :class:`distributed.Client` for its life (:class:`JobQueue`, opened
in the application's lifespan through :func:`freight.cluster.dask_client`: a local
cluster of worker processes by default, any scheduler by address). A request never runs
a job: it adds a ``queued`` row and submits :func:`execute` to the cluster.

How a job's state reaches the database, from a worker on any machine: the worker sends
Dask *events* (``Worker.log_event`` on topic :data:`TOPIC`: started, each progress step
as :class:`freight.progress.Progress` names it, its seconds) through the scheduler; the
server, subscribed to the topic, writes them. The task's return value (the summary, or
the failure message) is written when its future completes. So a worker needs no access
to the database -- only to the scenario files and the result folder, which lie in the
workbench's data directory (a shared folder when the workers run on other machines).

Cancel: a queued job's future is cancelled; a running job's Dask ``Event`` is set, and
the run stops at its next progress step (the step in hand finishes first).

Restart: the database is the source of truth. At start, :meth:`JobQueue.recover` marks
every job that was running ``interrupted`` (it can be re-run as a new job) and submits
again every job still ``queued``; finished jobs and their folders are untouched.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker

from freight.progress import Progress
from workbench.db import LIVE_STATES, Job, JobStep, audit, utcnow

log = logging.getLogger(__name__)

TOPIC = "freight-workbench-jobs"
#: Progress steps of a full run (:func:`freight.run.run` with maps): for the progress bar
#: only; the page lists the steps as the run names them.
EXPECTED_STEPS = 11
INTERRUPTED = (
    "服务器在作业运行时停止，可重新运行 / the server stopped while this job ran; run it again"
)


class JobCancelled(Exception):
    """Raised inside a run at a step boundary once its job is cancelled."""


class EventProgress(Progress):
    """A :class:`~freight.progress.Progress` that reports each step as a Dask event and
    stops the run at a step boundary when the job's cancel ``Event`` is set."""

    def __init__(self, job_id: int, cancel_event: Any, send: Any) -> None:
        super().__init__(None)
        self.job_id = job_id
        self._cancel = cancel_event
        self._send = send
        self._seq = 0

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        if self._cancel is not None and self._cancel.is_set():
            raise JobCancelled
        seq = self._seq
        self._seq += 1
        self._send({"event": "step", "seq": seq, "label": label})
        start = time.perf_counter()
        with super().step(label):
            yield
        self._send({"event": "step_done", "seq": seq, "seconds": time.perf_counter() - start})


def failure_message(exc: BaseException) -> str:
    """What the job page says about a failed run: the input errors' lines (as ``freight
    run`` prints them, exit 2), the infeasibility (exit 3), or the error's type and text."""
    from networks import FreightError, InfeasibleError, InputError, InputErrors

    if isinstance(exc, InputErrors):
        return "输入有误 / input error:\n" + "\n".join(e.line() for e in exc.errors)
    if isinstance(exc, InputError):
        return "输入有误 / input error:\n" + exc.line()
    if isinstance(exc, InfeasibleError):
        return f"无可行解 / infeasible: {exc}"
    if isinstance(exc, FreightError):
        return f"error: {exc}"
    return f"{type(exc).__name__}: {exc}"


def execute(job_id: int, scenario_path: str, out_dir: str, cancel_name: str) -> dict[str, Any]:
    """The task a worker runs: :func:`freight.run.run` into ``out_dir`` (a fresh folder).

    Returns ``{"status": "done", "summary", "timings", "result_dir"}``, ``{"status":
    "failed", "error"}`` or ``{"status": "cancelled"}`` -- never raises, so no exception
    object has to survive pickling between machines.
    """
    from distributed import Event, get_worker

    from freight.run import run

    worker = get_worker()

    def send(msg: dict[str, Any]) -> None:
        worker.log_event(TOPIC, {"job": job_id, **msg})

    send({"event": "started", "worker": worker.address})
    try:
        progress = EventProgress(job_id, Event(cancel_name), send)
        result = run(Path(scenario_path), Path(out_dir), progress=progress)
    except JobCancelled:
        return {"status": "cancelled"}
    except Exception as exc:  # every failure becomes the job's message
        return {"status": "failed", "error": failure_message(exc)}
    return {
        "status": "done",
        "summary": result.summary,
        "timings": result.timings,
        "result_dir": str(result.out_dir),
    }


class JobQueue:
    """The server's side of the jobs: one Dask client, the futures in flight, and the
    database writes that follow them."""

    def __init__(
        self,
        sessions: sessionmaker[Any],
        data_dir: Path,
        *,
        address: str | None = None,
        workers: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.runs_dir = Path(data_dir) / "runs"
        self.address = address
        self.workers = workers
        self.client: Any = None
        self._stack = ExitStack()
        self._futures: dict[int, Any] = {}
        self._lock = threading.Lock()

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        from freight.cluster import dask_client

        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.client = self._stack.enter_context(dask_client(self.address, workers=self.workers))
        self.client.subscribe_topic(TOPIC, self._on_event)
        self.recover()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.unsubscribe_topic(TOPIC)
        self._stack.close()
        self.client = None

    def recover(self) -> None:
        """After a (re)start: running jobs are interrupted; queued jobs are submitted."""
        with self.sessions() as db, db.begin():
            db.execute(
                update(Job)
                .where(Job.status.in_(("running", "cancelling")))
                .values(status="interrupted", error=INTERRUPTED, finished_at=utcnow())
            )
            queued = db.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id))
            ids = list(queued)
        for job_id in ids:
            self.submit(job_id)

    # --- requests -----------------------------------------------------------------------------

    def result_dir(self, job_id: int) -> Path:
        """A fresh folder for a job's run: ``runs/job-<id>``, or ``runs/job-<id>-<n>`` when
        an earlier attempt (a job resubmitted after a restart) left one -- nothing is ever
        deleted to make room, and :func:`freight.run.run` is never pointed at a folder
        with other content."""
        out, n = self.runs_dir / f"job-{job_id}", 2
        while out.exists():
            out, n = self.runs_dir / f"job-{job_id}-{n}", n + 1
        return out

    def submit(self, job_id: int) -> None:
        """Send a queued job to the cluster (its row exists and is committed)."""
        with self.sessions() as db:
            job = db.get(Job, job_id)
            assert job is not None
            scenario_path = job.scenario.path
        out = self.result_dir(job_id)
        future = self.client.submit(
            execute,
            job_id,
            scenario_path,
            str(out),
            self._cancel_name(job_id),
            key=f"freight-job-{job_id}-{secrets.token_hex(4)}",
            pure=False,
        )
        with self._lock:
            self._futures[job_id] = future
        future.add_done_callback(lambda f, j=job_id: self._on_done(j, f))

    def cancel(self, job_id: int, username: str) -> bool:
        """Cancel a live job: a queued one at once, a running one at its next step."""
        from distributed import Event

        with self.sessions() as db, db.begin():
            job = db.get(Job, job_id)
            if job is None or job.status not in LIVE_STATES:
                return False
            audit(db, username, "job.cancel", f"job {job_id}")
            was_queued = job.status == "queued"
            if was_queued:
                job.status, job.finished_at = "cancelled", utcnow()
            else:
                job.status = "cancelling"
        with self._lock:
            future = self._futures.get(job_id)
        Event(self._cancel_name(job_id), client=self.client).set()
        if was_queued and future is not None and future.status == "pending":
            future.cancel()  # a running task is left to stop at its next step
        return True

    @staticmethod
    def _cancel_name(job_id: int) -> str:
        return f"freight-workbench-cancel-{job_id}"

    # --- what the cluster reports -------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        _, msg = event
        try:
            self._record_event(msg)
        except Exception:  # never let a bookkeeping error kill the subscription
            log.exception("job event %r not recorded", msg)

    def _record_event(self, msg: dict[str, Any]) -> None:
        job_id, kind = int(msg["job"]), msg.get("event")
        with self.sessions() as db, db.begin():
            if kind == "started":
                job = db.get(Job, job_id)
                if job is None or job.status not in ("queued", "running"):
                    return  # a late event of a job already final
                # a task the cluster restarts (a worker lost) starts its steps afresh
                db.execute(delete(JobStep).where(JobStep.job_id == job_id))
                if job.status == "queued":
                    job.status, job.started_at = "running", utcnow()
                job.worker = str(msg.get("worker", ""))
            elif kind == "step":
                db.add(JobStep(job_id=job_id, seq=int(msg["seq"]), label=str(msg["label"])))
            elif kind == "step_done":
                db.execute(
                    update(JobStep)
                    .where(JobStep.job_id == job_id, JobStep.seq == int(msg["seq"]))
                    .values(seconds=float(msg["seconds"]))
                )

    def _on_done(self, job_id: int, future: Any) -> None:
        with self._lock:
            if self._futures.get(job_id) is future:
                del self._futures[job_id]
        try:
            if future.status == "cancelled":
                out: dict[str, Any] = {"status": "cancelled"}
            elif future.status == "error":
                out = {"status": "failed", "error": failure_message(future.exception())}
            else:
                out = future.result()
        except Exception as exc:  # the cluster lost the task
            out = {"status": "failed", "error": failure_message(exc)}
        try:
            with self.sessions() as db, db.begin():
                job = db.get(Job, job_id)
                if job is None or job.status not in LIVE_STATES:
                    return  # cancelled while queued, or interrupted: already final
                job.status = out["status"]
                job.finished_at = utcnow()
                if out["status"] == "done":
                    job.summary = out["summary"]
                    job.result_dir = out["result_dir"]
                elif out["status"] == "failed":
                    job.error = out["error"]
        except Exception:
            log.exception("job %s: result not recorded", job_id)

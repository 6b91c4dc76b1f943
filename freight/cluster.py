"""Where runs execute when there are many of them: a Dask distributed cluster.

A run is a pure function from a scenario to a result folder (:func:`freight.run.run`), so
sweeps (``freight sweep``) and the workbench's jobs submit runs to a Dask cluster: a local
one started here by default, or any scheduler by its address (``tcp://host:8786``), so
the same code runs on a laptop and on the bureau's machines.

:func:`dask_client` is the one way in: a context manager that connects to ``address`` or,
when it is None, starts a :class:`distributed.LocalCluster` of worker *processes* (one
thread each: a solve holds the GIL and HiGHS uses its own threads) and stops it on exit,
whatever happens. No state outlives the ``with`` block. The local workers are not
daemonic processes (Dask's default is), so a solve in them may fork its helpers as in
``freight run`` (from 4,000 flows); workers started with ``dask worker`` should set
``DASK_DISTRIBUTED__WORKER__DAEMON=False`` for the same (else a sweep solves there in
one process: :func:`freight.sweep.solve_point`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

#: Seconds to wait for a scheduler named by address before giving up with a clear error.
CONNECT_TIMEOUT_S = 5.0


def local_workers() -> int:
    """Worker processes of a local cluster: one per core this process may use (at most 8,
    at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


@contextmanager
def dask_client(
    address: str | None = None, *, workers: int | None = None, preload: Sequence[str] = ()
) -> Iterator[Any]:
    """A :class:`distributed.Client`: to the scheduler at ``address``, or to a local
    cluster of ``workers`` processes (default :func:`local_workers`) started for the block
    and shut down after it, each importing the modules ``preload`` names as it starts
    (so the first task does not wait for them).

    Raises
    ------
    OSError
        ``address`` names no scheduler that answers within ``CONNECT_TIMEOUT_S``.
    """
    from distributed import Client, LocalCluster

    if address:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    with dask.config.set({"distributed.worker.daemon": False}):  # read as workers start
        cluster = LocalCluster(
            n_workers=workers or local_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # an HTTP server starts anyway: never on a fixed port
            host="127.0.0.1",
            preload=list(preload),
        )
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@contextmanager
def scheduler_processes(
    folder: str | os.PathLike[str], *, workers: int = 2, timeout_s: float = 60.0
) -> Iterator[str]:
    """A real cluster on this machine: ``dask scheduler`` and ``workers`` ``dask worker``
    processes (one thread each, not daemonic: see the module docstring), on 127.0.0.1 at
    free ports, each with its own directory and log under ``folder``; yields the
    scheduler's address once every worker has joined, and stops every process it started
    on exit, whatever happens (SIGTERM to each process group, then SIGKILL after 10 s).
    For tests and benchmarks of what a sweep does on a cluster; the bureau's own
    cluster is started by its administrators and named by address.

    Raises
    ------
    OSError
        The scheduler or a worker did not come up within ``timeout_s`` (its log is named).
    """
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    import shutil

    beside = Path(sys.executable).with_name("dask")  # the environment's own dask command
    dask = str(beside) if beside.exists() else shutil.which("dask") or "dask"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    info = folder / "scheduler.json"
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(args: list[str], name: str) -> None:
        log = folder / f"{name}.log"
        with open(log, "wb") as fh:  # the child keeps its own descriptor
            p = subprocess.Popen([dask, *args], stdout=fh, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env, cwd=folder,
                                 start_new_session=True)  # fmt: skip
        procs.append((p, log))

    def fail(what: str, log: Path) -> OSError:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        return OSError(f"{what} did not start within {timeout_s:g} s; its log {log}:\n{tail}")

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--dashboard-address", "127.0.0.1:0",  # its HTTP server starts anyway
               "--scheduler-file", str(info)], "scheduler")  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while not info.exists() or not info.stat().st_size:
            if time.monotonic() > deadline or procs[0][0].poll() is not None:
                raise fail("dask scheduler", procs[0][1])
            time.sleep(0.1)
        time.sleep(0.1)  # the file is written whole before the scheduler listens
        address = json.loads(info.read_text(encoding="utf-8"))["address"]
        for i in range(workers):
            wdir = folder / f"worker-{i}"
            wdir.mkdir(exist_ok=True)
            start(["worker", address, "--nthreads", "1", "--nworkers", "1", "--host",
                   "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                   "--name", f"worker-{i}",
                   "--local-directory", str(wdir)], f"worker-{i}")  # fmt: skip
        from distributed import Client

        with Client(address, timeout=timeout_s) as client:
            try:
                client.wait_for_workers(workers, timeout=timeout_s)
            except TimeoutError:
                raise fail("a dask worker", procs[-1][1]) from None
        yield address
    finally:
        for p, _ in procs:
            if p.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p, _ in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()

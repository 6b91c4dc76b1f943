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

import os
from collections.abc import Iterator
from contextlib import contextmanager
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
def dask_client(address: str | None = None, *, workers: int | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client`: to the scheduler at ``address``, or to a local
    cluster of ``workers`` processes (default :func:`local_workers`) started for the block
    and shut down after it.

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
            dashboard_address="127.0.0.1:0",  # a free port: 8787 may be taken
            host="127.0.0.1",
        )
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()

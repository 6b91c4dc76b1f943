"""The Dask worker plugin that holds a sweep's :class:`~freight.sweep.PointCache` on each
worker (imported only when a sweep runs on a cluster: it imports ``distributed``)."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from freight.sweep import PointCache


class CachePlugin(WorkerPlugin):
    """Registered under a name of its own when a sweep starts and removed when it ends, so
    what the workers keep (networks, graphs, baselines) is freed with it."""

    def __init__(self) -> None:
        self.cache: PointCache | None = None

    def setup(self, worker: Any) -> None:
        self.cache = PointCache()

    def teardown(self, worker: Any) -> None:
        self.cache = None

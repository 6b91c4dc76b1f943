"""The Dask cluster runs are submitted to: a local one, started and stopped by the block."""

from __future__ import annotations

import pytest

from freight.cluster import dask_client, local_workers


def _square(x: int) -> int:
    return x * x


def test_a_local_cluster_runs_tasks_and_is_gone_after_the_block() -> None:
    with dask_client(workers=2) as client:
        futures = client.map(_square, range(5))
        assert client.gather(futures) == [0, 1, 4, 9, 16]
        assert len(client.scheduler_info()["workers"]) == 2
        scheduler = client.scheduler.address
    assert client.status == "closed"
    # the block's scheduler no longer answers
    with pytest.raises(OSError), dask_client(scheduler):
        pass


def test_local_workers_is_at_least_one() -> None:
    assert 1 <= local_workers() <= 8

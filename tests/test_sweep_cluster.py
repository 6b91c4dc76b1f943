"""A sweep on a real cluster: a ``dask scheduler`` and two ``dask worker`` processes on
localhost (random free ports, their own directories), started by the fixture and stopped
at the end whatever happens; the results must equal the sweep solved in this process."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from freight.cli import main
from freight.cluster import dask_client, scheduler_processes
from freight.sweep import parse_vary, plan_sweep, run_sweep
from tests.sweep_cases import write_two_flows


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    with scheduler_processes(tmp_path / "dask", workers=2) as address:
        yield address


def test_a_sweep_on_a_scheduler_and_two_workers_equals_the_one_here(
    scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_two_flows(tmp_path / "two")
    plan = plan_sweep(base, [parse_vary("policy.threshold_km=250:550:100"),
                             parse_vary("costs.road.cny_per_tkm=0.27,0.30")])  # fmt: skip
    here = run_sweep(base, plan)
    with dask_client(scheduler) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        there = run_sweep(base, plan, client)
        # the sweep's worker plugin is gone with the sweep
        assert not any(k.startswith("freight-sweep-") for info in client.run(
            lambda dask_worker: list(dask_worker.plugins)).values() for k in info)  # fmt: skip
    assert [r.status for r in there.results] == ["optimal"] * 8
    assert [r.figures for r in there.results] == [r.figures for r in here.results]
    assert [r.mac for r in there.results] == [r.mac for r in here.results]

    # the command, on the same scheduler: the same table as solved here
    rows = {}
    for how in (["--scheduler", scheduler], ["--workers", "0"]):
        out = tmp_path / how[0].strip("-")
        assert main(["sweep", str(base), "--vary", "policy.threshold_km=250:550:100",
                     "--out", str(out), *how]) == 0  # fmt: skip
        with open(out / "sweep.csv", encoding="utf-8-sig", newline="") as fh:
            rows[how[0]] = [{k: v for k, v in r.items() if k != "seconds"}
                            for r in csv.DictReader(fh)]  # fmt: skip
    capsys.readouterr()
    assert rows["--scheduler"] == rows["--workers"]


def test_the_processes_are_stopped_even_when_the_block_fails(tmp_path: Path) -> None:
    pids: list[int] = []
    with pytest.raises(RuntimeError, match="boom"), \
            scheduler_processes(tmp_path / "dask", workers=1) as address:  # fmt: skip
        with dask_client(address) as client:
            pids = list(client.run(os.getpid).values())
            pids.append(client.run_on_scheduler(os.getpid))
        raise RuntimeError("boom")
    assert len(pids) == 2
    for pid in pids:  # gone: signalling them fails
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

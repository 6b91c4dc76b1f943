"""A solve changes no process-wide state it does not restore, and starts its helpers
without forking this (threaded) process (issue 16).

- HiGHS's banner never reaches stdout: the models are made with their output off from
  the start (``freight.model.quiet_highs``), no file descriptor is redirected;
- the pricing worker and the tree prefetch are fresh interpreters, not forks: ``os.fork``
  may fail and the solve still uses both, for the optimum one process finds;
- signal handlers, file descriptor 1 and the collector's state are as they were.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from freight.colgen import SolveOptions, processes
from freight.expanded_graph import MultimodalGraph
from freight.problem import Status
from freight.solve import solve
from tests.generated import generated_problem
from tests.scenario_kit import write_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_highs_banner_reaches_neither_stdout_nor_stderr(tmp_path: Path) -> None:
    # the first HiGHS model of a process used to print "Running HiGHS ..." on stdout
    toml = write_scenario(tmp_path / "s")
    env = {**os.environ, "FREIGHT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "freight.cli", "run", str(toml), "--no-maps",
         "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "HiGHS" not in done.stdout and "HiGHS" not in done.stderr
    assert done.stdout.strip()  # the run's own table is there


def _state() -> tuple:
    return (
        gc.isenabled(),
        gc.get_threshold(),
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        signal.pthread_sigmask(signal.SIG_BLOCK, set()),
        os.fstat(1).st_ino,
        os.fstat(2).st_ino,
    )


@pytest.mark.skipif(not processes.available(), reason="helpers need POSIX")
def test_helpers_are_fresh_interpreters_not_forks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prob = generated_problem("mid", tmp_path, 0)
    graph = MultimodalGraph(prob.network, prob.costs)
    alone = solve(prob, graph=graph, options=SolveOptions(
        fast_pricing=True, workers=1, prefetch=False))  # fmt: skip
    started: list[str] = []
    real_start = processes.start

    def start(target: object, args: tuple) -> object:
        started.append(getattr(target, "__name__", ""))
        return real_start(target, args)  # type: ignore[arg-type]

    def no_fork() -> int:
        raise AssertionError("os.fork called: a helper would copy a threaded process")

    monkeypatch.setattr(processes, "start", start)
    monkeypatch.setattr(os, "fork", no_fork)
    before = _state()
    fresh = MultimodalGraph(prob.network, prob.costs)  # nothing built yet: a prefetch
    both = solve(prob, graph=fresh, options=SolveOptions(
        fast_pricing=True, workers=2, prefetch=True))  # fmt: skip
    assert _state() == before
    assert started == ["_send_result", "_serve"]  # the tree prefetch, the pricing worker
    assert alone.status is both.status is Status.OPTIMAL
    assert both.objective_cny == pytest.approx(alone.objective_cny, rel=1e-9)

"""The garbage-collector pause (``networks.gc_pause``): the collector is off inside and as
it was after, whatever the nesting, the threads and the exceptions; a large solve pauses
it, a small one does not, and the optimum is the same either way."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from freight.colgen import SolveOptions
from freight.expanded_graph import MultimodalGraph
from freight.solve import solve
from networks.gc_pause import paused_gc
from tests.generated import generated_problem


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


def test_off_inside_on_after_and_after_an_exception(collector_on: None) -> None:
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still runs
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_a_collector_the_caller_switched_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()
    gc.enable()


@pytest.mark.parametrize("first_to_end", ["first", "second"])
def test_overlapping_blocks_in_two_threads_end_with_it_on(
    collector_on: None, first_to_end: str
) -> None:
    # the order a per-block "remember and restore" gets wrong: A enters (on -> off),
    # B enters (remembers off), A leaves (on), B leaves (restores off: off for good)
    entered = {n: threading.Event() for n in ("first", "second")}
    leave = {n: threading.Event() for n in ("first", "second")}
    inside: dict[str, bool] = {}

    def block(name: str) -> None:
        with paused_gc():
            entered[name].set()
            leave[name].wait(10)
            inside[name] = gc.isenabled()

    threads = {n: threading.Thread(target=block, args=(n,)) for n in ("first", "second")}
    threads["first"].start()
    entered["first"].wait(10)
    threads["second"].start()
    entered["second"].wait(10)
    other = "second" if first_to_end == "first" else "first"
    leave[first_to_end].set()
    threads[first_to_end].join(10)
    assert not gc.isenabled()  # the other block still runs
    leave[other].set()
    threads[other].join(10)
    assert inside == {"first": False, "second": False}
    assert gc.isenabled()


def test_defaults_pause_from_the_large_size_on() -> None:
    opts = SolveOptions()
    assert not opts.pausing_gc(opts.large_flows - 1)
    assert opts.pausing_gc(opts.large_flows)
    assert SolveOptions(gc_pause=True).pausing_gc(1)
    assert not SolveOptions(gc_pause=False).pausing_gc(10**6)


def test_a_paused_solve_has_the_optimum_of_one_that_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    import freight.colgen.loop as loop

    seen: list[bool] = []
    real = loop.check_flows

    def check_flows(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "check_flows", check_flows)
    prob = generated_problem("small", tmp_path, 0)
    graph = MultimodalGraph(prob.network, prob.costs)
    paused = solve(prob, graph=graph, options=SolveOptions(gc_pause=True))
    assert gc.isenabled()
    plain = solve(prob, graph=graph, options=SolveOptions(gc_pause=False))
    assert seen == [False, True]
    assert paused.objective_cny == pytest.approx(plain.objective_cny, rel=1e-12)
    assert [(a.flow_id, a.tonnes) for a in paused.assignments] == [
        (a.flow_id, a.tonnes) for a in plain.assignments
    ]

"""Accelerator: price phase 2 in two processes, each about half of the commodities.

A pricing worker (a helper process, :mod:`freight.colgen.processes`) holds a copy of the
pricer; each process then keeps its own caches. One pricing is two exchanges over a pipe,
each side working meanwhile:

1. the worker gathers its flows' candidates and returns their lower bounds, while this
   process gathers its own;
2. with the bounds of both, the first ``limit`` flows in their joint order are split into
   a quota per side, each side builds its flows in order until its quota has columns (at
   least one when it has candidates, so a side whose flows are all checked finds nothing
   only when none of them prices out) and the worker returns its columns.

Pricing stays exact: with ``limit`` None both sides build every flow, as one process
would; with a limit, the two quotas may take a column or two more than one process would,
and other flows among equals -- the loop still ends only when nothing prices out. A lost
worker leaves pricing to this process. Phase 1, and pricing at zero capacity duals, stay
here (they are rare and short).

A worker starts with a copy of the pricer and its caches, pickled, and builds more of its
own as it prices; starting one is seconds for a large graph. So it is kept on the graph
(:class:`WorkerCache`) once its solve is done: the next solve on the graph with the same
flows -- the policy-off run after the rule's -- sends it its flows' rules and goes on.
It ends with the graph, or with this process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import traceback
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from freight.colgen import fast_pricing, processes
from freight.colgen.pricing import FlowRule, Priced, Pricer
from freight.problem import Flow

if TYPE_CHECKING:
    from freight.expanded_graph import MultimodalGraph

_log = logging.getLogger(__name__)


@dataclass
class WorkerCache:
    """The pricing worker kept on a graph between solves, for one ``max_access_km``."""

    worker: PricingWorker | None = None

    def __getstate__(self) -> dict:
        """Pickled without the worker (a process of this process's)."""
        return {"worker": None}


def end_kept(graph: MultimodalGraph, max_access_km: float) -> None:
    """End the pricing worker kept on ``graph`` for ``max_access_km``, if there is one (the
    next solve on the graph starts another). Without this it ends with the graph."""
    kept = graph.derived(WorkerCache, max_access_km)
    worker, kept.worker = kept.worker, None
    if worker is not None:
        worker.close()


class Pricing:
    """Pricing by a :class:`~freight.colgen.pricing.Pricer`, split with a worker once one
    is started (:meth:`start_worker`)."""

    def __init__(self, pricer: Pricer) -> None:
        self.pricer = pricer
        self.worker: PricingWorker | None = None

    def start_worker(self) -> bool:
        """Price about half of the flows, by commodity, in a worker from now on (phase 2
        with capacity duals only). False (and nothing started) where a helper process
        cannot start or the commodities cannot be split."""
        if self.worker is not None:
            return True
        there = _their_commodities(self.pricer.flows)
        if not there or not processes.available():
            return False
        pricer = self.pricer
        kept = pricer.g.derived(WorkerCache, pricer.max_access_km)
        worker = kept.worker
        if worker is not None and worker.serves(pricer.flows, there):
            try:
                worker.rule(pricer.rules, pricer.lower_bounds)
                self.worker = worker
                return True
            except (EOFError, OSError) as exc:  # gone since: start another
                _log.warning("pricing worker lost (%s); starting another", exc)
        end_kept(pricer.g, pricer.max_access_km)  # one that serves other flows, or is gone
        try:
            worker = PricingWorker(pricer, there)
        except OSError as exc:
            _log.warning("no pricing worker (%s); pricing in one process", exc)
            return False
        kept.worker = self.worker = worker
        weakref.finalize(pricer.g, worker.close)  # at the latest, it ends with the graph
        return True

    def stop(self, *, end: bool = False) -> None:
        """Price in this process from now on. The worker stays on the graph for the next
        solve, unless ``end`` (or it was lost): then it ends."""
        worker, self.worker = self.worker, None
        if worker is not None and end:
            kept = self.pricer.g.derived(WorkerCache, self.pricer.max_access_km)
            if kept.worker is worker:
                kept.worker = None
            worker.close()

    def price(
        self,
        pi: np.ndarray,
        sigma: dict[str, float],
        *,
        phase: int,
        flows: list[Flow] | None = None,
        limit: int | None = None,
        skip: set[tuple] | frozenset[tuple] = frozenset(),
        skip_log: Sequence[tuple[bool, tuple]] | None = None,
        fast: bool = False,
    ) -> Priced:
        """:meth:`Pricer.price`, split with the worker in phase 2 under capacity duals.

        ``skip_log``: the changes that made ``skip``, in order (``(True, signature)``
        added, ``(False, signature)`` removed: :attr:`Master.seen_log`), growing from call
        to call; the worker then keeps its copy of ``skip`` from the new entries alone
        instead of receiving its flows' part of ``skip`` at every call."""
        flows = list(self.pricer.flows) if flows is None else flows
        worker = self.worker
        if worker is not None and phase == 2 and np.any(pi < 0):
            try:
                return worker.price(self.pricer, pi, sigma, flows, limit, skip, skip_log, fast)
            except (EOFError, OSError) as exc:  # the worker is gone: price here
                _log.warning("pricing worker lost (%s); pricing in one process", exc)
                self.stop(end=True)
            except BaseException:  # interrupted between two messages: it cannot go on
                self.stop(end=True)
                raise
        return self.pricer.price(
            pi, sigma, phase=phase, flows=flows, limit=limit, skip=skip, fast=fast
        )


class PricingWorker:
    """A helper process pricing the flows of ``commodities`` with a copy of ``pricer``
    (see the module docstring)."""

    def __init__(self, pricer: Pricer, commodities: frozenset[str]) -> None:
        self.commodities = commodities
        self.flows = pricer.flows
        self.their_ids = {f.id for f in pricer.flows if f.commodity in commodities}
        self.log_pos = 0  # entries of the skip log the worker has applied
        self.log: Sequence[tuple[bool, tuple]] | None = None
        self.conn, self.proc = processes.start(_serve, (_portable(pricer),))

    def serves(self, flows: tuple[Flow, ...], commodities: frozenset[str]) -> bool:
        """Whether this worker, alive, prices these flows split this way."""
        return self.proc.is_alive() and commodities == self.commodities and flows == self.flows

    def rule(self, rules: dict[str, FlowRule], lower_bounds: dict[str, dict[str, float]]) -> None:
        """Price under these rules and zero-dual lower bounds from now on (another solve
        on the same graph and flows), the master's skip log started afresh."""
        self.log, self.log_pos = None, 0
        self.conn.send(("rule", rules, lower_bounds))
        self._receive()

    def _receive(self) -> Any:
        out = self.conn.recv()
        if isinstance(out, processes.Failure):
            raise RuntimeError(f"pricing worker failed: {out.text}")
        return out

    def price(
        self,
        pricer: Pricer,
        pi: np.ndarray,
        sigma: dict[str, float],
        flows: list[Flow],
        limit: int | None,
        skip: set[tuple] | frozenset[tuple],
        skip_log: Sequence[tuple[bool, tuple]] | None,
        fast: bool,
    ) -> Priced:
        """:meth:`Pricer.price` of ``flows`` (phase 2), split between the two processes.

        The worker's part of ``skip`` goes over in full, or, given ``skip_log`` (the same
        log as at the last call, grown), as the log's new entries for its flows."""
        theirs = {f.id for f in flows if f.commodity in self.commodities}
        mine = [f for f in flows if f.id not in theirs]
        their_sigma = {fid: v for fid, v in sigma.items() if fid in theirs}
        self.conn.send(("gather", pi, their_sigma, sorted(theirs), fast))
        by_flow, lows = pricer.gather(pi, sigma, 2, mine, fast)
        their_lows: dict[str, float] = self._receive()
        both = lows | their_lows
        quota_mine: int | None = None
        quota_theirs: int | None = None
        if limit is not None:
            first = sorted(both, key=both.__getitem__)[:limit]
            n_theirs = sum(1 for fid in first if fid in their_lows)
            quota_theirs = max(1, n_theirs)
            quota_mine = max(1, len(first) - n_theirs)
        if skip_log is not None and (self.log is None or self.log is skip_log):
            ids = self.their_ids
            news = [e for e in skip_log[self.log_pos :] if e[1][0] in ids]
            self.log, self.log_pos = skip_log, len(skip_log)
            self.conn.send(("build", quota_theirs, None, news))
        else:
            self.log, self.log_pos = None, 0
            self.conn.send(("build", quota_theirs, {sig for sig in skip if sig[0] in theirs}, None))
        found, low, skipped = pricer.build(
            by_flow, sorted(by_flow, key=lows.__getitem__), pi, sigma, 2, quota_mine, skip
        )
        their_found, their_low, their_skipped = self._receive()
        return Priced(
            found + their_found,
            {fid: min(0.0, v) for fid, v in both.items()} | low | their_low,
            skipped + their_skipped,
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.terminate()
        self.conn.close()


def _their_commodities(flows: Sequence[Flow]) -> frozenset[str]:
    """The commodities a worker prices: the lighter side of a split by flow count, the
    largest first (empty when there are fewer than two commodities)."""
    counts: dict[str, int] = {}
    for f in flows:
        counts[f.commodity] = counts.get(f.commodity, 0) + 1
    if len(counts) < 2:
        return frozenset()
    here = 0
    there: list[str] = []
    for c in sorted(counts, key=lambda c: (-counts[c], c)):  # largest first, lighter side
        if here <= sum(counts[t] for t in there):
            here += counts[c]
        else:
            there.append(c)
    return frozenset(there)


def _portable(pricer: Pricer) -> Pricer:
    """A copy of ``pricer`` for the worker: on the graph without its networkx graphs
    (:meth:`~freight.expanded_graph.MultimodalGraph.detached`), with the zero-dual lower
    bounds it keeps and fast pricing attached as here."""
    out = Pricer(
        pricer.g.detached(), pricer.flows, pricer.max_access_km, pricer.rules,
        options=pricer.options,
    )  # fmt: skip
    out.lower_bounds = {kind: dict(v) for kind, v in pricer.lower_bounds.items()}
    if pricer.fast is not None:
        fast_pricing.attach(out)  # the trees are on the graph's caches already
    return out


def _serve(pricer: Pricer, conn: Any, parent: int) -> None:
    """The worker's loop: a message, its answer; ``None`` ends it, and so does the
    parent's death (the pipe closes, or the parent is no longer its parent)."""
    server = _Server(pricer)
    while True:
        try:
            while not conn.poll(processes.PARENT_POLL_S):
                if os.getppid() != parent:
                    return
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            conn.send(server.answer(msg))
        except OSError:  # the pipe is gone with the parent
            return
        except Exception:  # noqa: BLE001 -- reported to the parent, which raises it
            try:
                conn.send(processes.Failure(traceback.format_exc(limit=5)))
            except OSError:
                return


class _Server:
    """The worker's side of one pricing: ``gather``, then ``build``; and ``rule`` between
    two solves."""

    def __init__(self, pricer: Pricer) -> None:
        self.pricer = pricer
        self.by_id = {f.id: f for f in pricer.flows}
        self.state: tuple = ()
        self.mirror: set[tuple] = set()  # the parent's skip for this worker's flows

    def answer(self, msg: tuple) -> Any:
        pricer = self.pricer
        if msg[0] == "rule":
            _, pricer.rules, pricer.lower_bounds = msg
            return True
        if msg[0] == "gather":
            _, pi, sigma, fids, fast = msg
            by_flow, lows = pricer.gather(pi, sigma, 2, [self.by_id[f] for f in fids], fast)
            self.state = (by_flow, lows, pi, sigma)
            return lows
        _, quota, skip, news = msg
        if skip is not None:  # in full (and the log starts again)
            self.mirror = set()
        else:
            for added, sig in news:
                if added:
                    self.mirror.add(sig)
                else:
                    self.mirror.discard(sig)
            skip = self.mirror
        by_flow, lows, pi, sigma = self.state
        self.state = ()
        order = sorted(by_flow, key=lows.__getitem__)
        return pricer.build(by_flow, order, pi, sigma, 2, quota, skip)

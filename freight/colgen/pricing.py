"""Exact pricing: each flow's chain of least reduced cost, by shortest paths.

With duals ``pi <= 0`` on the capacity rows and ``sigma_f`` on the demand rows, the reduced
cost of a chain ``c`` of flow ``f`` is ``cost_c - sigma_f - sum_r pi_r a_rc``. Weighting
every arc by its generalised cost minus the dual of the row it uses (``>= 0``,
:meth:`~freight.colgen.searches.ChainSearch.weights`) turns the search for the most
negative reduced cost into shortest paths (:mod:`freight.colgen.searches`): general chains
over the whole graph, compliant chains joined through the rail/pipeline layer. Phase 1
(feasibility) prices with the duals alone: arc weight ``-pi`` (Farkas pricing).

Pricing is exact: every chain of every flow is a path of the expanded graph, so when the
searches find no chain of negative reduced cost, there is none. A flow whose zero-dual
chain already weighs ``sigma_f`` or more is passed over (arc weights only grow as ``pi <=
0``: :attr:`Pricer.lower_bounds`). Nothing here changes state but the caches on the graph
and those lower bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from freight import tolerances as tol
from freight.colgen.caches import ChainCache
from freight.colgen.options import SolveOptions
from freight.colgen.searches import NO_DUALS, Bounds, Candidate, ChainSearch, FlowRule
from freight.expanded_graph import Column, CostClass, MultimodalGraph
from freight.problem import Flow, Problem

__all__ = ["NO_DUALS", "Bounds", "Candidate", "FlowRule", "Priced", "Pricer"]


@dataclass
class Priced:
    """What a pricing found: each flow's most negative column not in the master, with its
    reduced cost (``columns``); by flow, a lower bound on its most negative reduced cost
    over all chains (``low``, 0 when none can be negative; exact for the flows whose
    chains were built); and how many flows' best columns were passed over as already in
    the master (``skipped``)."""

    columns: list[tuple[Column, float]]
    low: dict[str, float]
    skipped: int


class FastSearch(Protocol):
    """Fast pricing's search for general chains (:mod:`freight.colgen.fast_pricing`)."""

    def candidates(
        self,
        pricer: Pricer,
        flows: list[Flow],
        w: np.ndarray,
        commodity: CostClass,
        bounds: Bounds,
    ) -> list[Candidate]: ...


class Pricer(ChainSearch):
    """Finds, for each flow, its minimum reduced-cost chain of every kind it may use.

    Parameters as :class:`~freight.colgen.searches.ChainSearch`: the graph, the flows,
    the rule's ``max_access_km``, each flow's :class:`FlowRule`, the options.
    """

    def __init__(
        self,
        graph: MultimodalGraph,
        flows: Sequence[Flow],
        max_access_km: float,
        rules: dict[str, FlowRule],
        *,
        options: SolveOptions | None = None,
    ) -> None:
        super().__init__(graph, flows, max_access_km, rules, options=options)
        # weight of each flow's cheapest chain of each kind at zero duals (phase 2): a lower
        # bound on its weight under any duals, since arc weights only grow as pi <= 0
        self.lower_bounds: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
        self.fast: FastSearch | None = None  # set by freight.colgen.fast_pricing.attach

    @classmethod
    def for_problem(
        cls,
        graph: MultimodalGraph,
        problem: Problem,
        rules: dict[str, FlowRule],
        *,
        options: SolveOptions | None = None,
    ) -> Pricer:
        """The pricer of ``problem``'s flows under its rule's ``max_access_km``."""
        return cls(graph, problem.flows, problem.policy.max_access_km, rules, options=options)

    def cheapest(self, flows: Sequence[Flow]) -> dict[str, dict[str, Column]]:
        """Each flow's cheapest chain of each kind (``"general"``, ``"compliant"``) at zero
        duals, i.e. capacities ignored, whatever its rule; costs without penalty.

        A kind is missing when the flow has no such chain. Kept on the graph (by flows, in
        :class:`~freight.colgen.caches.ChainCache`): the rule's checks, the rule's run and
        the policy-off run all start from these. Also sets the lower bounds that let
        pricing pass over a flow.
        """
        key = tuple(flows)
        cache = self.g.derived(ChainCache, self.max_access_km).cheapest
        hit = cache.get(key)
        if hit is None:
            zero = np.zeros(len(self.g.rows))
            cols: dict[str, dict[str, Column]] = {f.id: {} for f in flows}
            lb: dict[str, dict[str, float]] = {"general": {}, "compliant": {}}
            for commodity, group in self.by_cost_class(flows).items():
                w = self.weights(commodity, zero, 2)
                for cand in self.general(group, w, NO_DUALS, lb, penalty=False):
                    cols[cand.flow.id]["general"] = cand.build()
                found = self.compliant(group, w, commodity, NO_DUALS, True, lb, penalty=False)
                for cand in found:
                    cols[cand.flow.id]["compliant"] = cand.build()
            hit = cache[key] = (cols, lb)
        cols, lb = hit
        for kind in ("general", "compliant"):
            self.lower_bounds[kind].update(lb[kind])
        return cols

    # ------------------------------------------------------------------ pricing
    def price(
        self,
        pi: np.ndarray,
        sigma: dict[str, float],
        *,
        phase: int,
        flows: list[Flow] | None = None,
        limit: int | None = None,
        skip: set[tuple] | frozenset[tuple] = frozenset(),
        fast: bool = False,
    ) -> Priced:
        """Each flow's most negative reduced-cost column (:class:`Priced`).

        Parameters
        ----------
        pi : ndarray
            Duals of all rows of the graph (0 for rows not in the master), ``<= 0``.
        sigma : dict
            Duals of the demand rows by flow id.
        phase : int
            1 (feasibility: column cost 0) or 2 (cost).
        flows : list of Flow, optional
            The flows to price (default: all).
        limit : int, optional
            Stop once this many flows have a column, taking flows by their lower bound
            (chain weight minus ``sigma_f``, any penalty left out), most negative first.
        skip : set
            Column signatures to pass over (those already in the master): a flow whose
            best chains are all there offers its next one, or nothing.
        fast : bool
            Fast pricing of general chains (:mod:`freight.colgen.fast_pricing`): may miss
            a chain that prices out, so only an exact pricing that finds nothing ends the
            search.
        """
        flows = list(self.flows) if flows is None else flows
        by_flow, lows = self.gather(pi, sigma, phase, flows, fast)
        order = sorted(by_flow, key=lows.__getitem__)
        found, low, skipped = self.build(by_flow, order, pi, sigma, phase, limit, skip)
        return Priced(found, {fid: min(0.0, v) for fid, v in lows.items()} | low, skipped)

    def gather(
        self,
        pi: np.ndarray,
        sigma: dict[str, float],
        phase: int,
        flows: list[Flow],
        fast: bool,
    ) -> tuple[dict[str, list[Candidate]], dict[str, float]]:
        """The flows' candidates (not built yet), and each flow's lower bound on its
        reduced cost (its lightest candidate's weight less ``sigma_f``)."""
        by_flow: dict[str, list[Candidate]] = {}
        for cand in self.candidates(pi, phase=phase, flows=flows, sigma=sigma, fast=fast):
            by_flow.setdefault(cand.flow.id, []).append(cand)
        lows = {
            fid: min(c.weight for c in cs) - sigma.get(fid, 0.0) for fid, cs in by_flow.items()
        }
        return by_flow, lows

    @staticmethod
    def build(
        by_flow: dict[str, list[Candidate]],
        order: list[str],
        pi: np.ndarray,
        sigma: dict[str, float],
        phase: int,
        limit: int | None,
        skip: set[tuple] | frozenset[tuple],
    ) -> tuple[list[tuple[Column, float]], dict[str, float], int]:
        """Build the flows' candidates in ``order`` until ``limit`` flows have a column
        that prices out and is not in ``skip``: those columns with their reduced costs,
        each built flow's bound on its reduced cost, and the flows passed over by ``skip``."""
        pi_neg = np.minimum(pi, 0.0)
        found: list[tuple[Column, float]] = []
        low: dict[str, float] = {}
        skipped = 0
        for fid in order:
            if limit is not None and len(found) >= limit:
                break
            s = sigma.get(fid, 0.0)
            best: tuple[Column, float] | None = None
            bound = np.inf  # min over its chains: reduced cost if built, else weight - s
            for cand in sorted(by_flow[fid], key=lambda c: c.weight):
                if best is not None and cand.weight - s >= best[1]:
                    bound = min(bound, cand.weight - s)
                    continue  # no penalty makes it cheaper than the one in hand
                col = cand.build()
                cost = col.cost_cny_per_t if phase == 2 else 0.0
                rc = cost - s - sum(pi_neg[r] * k for r, k in col.rows.items())
                bound = min(bound, rc)
                if rc >= -tol.REDUCED_COST_REL * max(1.0, abs(cost)):
                    continue
                if col.signature in skip:
                    skipped += 1
                    continue
                if best is None or rc < best[1]:
                    best = (col, rc)
            low[fid] = min(0.0, bound)
            if best is not None:
                found.append(best)
        return found, low, skipped

    def candidates(
        self,
        pi: np.ndarray,
        *,
        phase: int,
        flows: list[Flow],
        sigma: dict[str, float] | None = None,
        fast: bool = False,
    ) -> list[Candidate]:
        """Each flow's minimum-weight chain of every kind its rule allows, as
        :class:`Candidate` objects that build their columns on demand.

        ``fast`` (phase 2, no road duals, fast pricing attached): general chains are
        searched by :attr:`fast` instead of over the whole graph. With ``sigma``, chains
        whose weight minus ``sigma_f`` is >= 0 are passed over before they are rebuilt:
        their reduced cost (weight + any penalty - sigma_f) cannot be negative.
        """
        bounds = Bounds(sigma, phase)
        zero_duals = phase == 2 and not np.any(pi < 0)
        record = self.lower_bounds if zero_duals else None
        labels: dict = {}  # road searches under this call's road duals, by place
        out: list[Candidate] = []
        for commodity, group in self.by_cost_class(flows).items():
            w = self.weights(commodity, pi, phase)
            gen = [
                f for f in group
                if self.rules[f.id].general and self.may_price(f, "general", bounds)
            ]  # fmt: skip
            comp = [
                f for f in group
                if self.rules[f.id].compliant and self.may_price(f, "compliant", bounds)
            ]  # fmt: skip
            if gen and fast and phase == 2 and self.roads_by_km(pi):
                assert self.fast is not None, "fast pricing is not attached"
                out.extend(self.fast.candidates(self, gen, w, commodity, bounds))
            elif gen:
                out.extend(self.general(gen, w, bounds, record))
            if comp:
                by_km = self.roads_by_km(pi)
                out.extend(
                    self.compliant(comp, w, commodity, bounds, by_km, record, labels=labels)
                )
        return out

    def may_price(self, flow: Flow, kind: str, bounds: Bounds) -> bool:
        """False when no chain of ``kind`` can price out for ``flow``: its zero-dual weight
        (0 in phase 1 when it has a chain at all) already reaches :meth:`below`."""
        if bounds.sigma is None:
            return True
        lb = self.lower_bounds[kind].get(flow.id)
        if lb is None:
            return True
        if bounds.phase == 1 and np.isfinite(lb):
            lb = 0.0
        return not self.priced_out(flow, lb, kind, bounds)

"""Accelerator: Wentges dual smoothing -- price first at a point between the best duals so
far and the master's.

While the duals still travel (the head of a large run), the master's duals jump from round
to round and the columns priced at them are often no better than those of the last round.
Smoothing prices first at ``a centre + (1 - a) duals``, the *stability centre* being the
duals with the best Lagrangian value so far (:func:`lagrangian`), and keeps only the
columns that price out at the master's own duals; when that finds nothing (a
*mispricing*), it prices at the master's own duals, which alone may end the loop. So the
optimum is the same. Off in the tail (``SolveOptions.tail_gain``), where the duals have
settled and smoothing only offers columns already in the master.
"""

from __future__ import annotations

import numpy as np

from freight.colgen.master import MasterResult


def lagrangian(
    pi: np.ndarray,
    sigma: dict[str, float],
    low: dict[str, float],
    tonnes: dict[str, float],
    caps: np.ndarray,
) -> float:
    """A lower bound on the optimum of the master's flows from duals ``(pi, sigma)``:
    ``sum_r pi_r cap_r + sum_f t_f (sigma_f + low_f)``, the Lagrangian relaxing the
    capacity rows, with ``low_f <= min(0, most negative reduced cost of f)`` from (exact)
    pricing at those duals (:attr:`freight.colgen.pricing.Priced.low`).

    Examples
    --------
    One flow of 10 t at sigma 5, a column at reduced cost -2; one row of capacity 4 at
    pi -1: ``-4 + 10 (5 - 2)``.

    >>> lagrangian(np.array([-1.0]), {"f": 5.0}, {"f": -2.0}, {"f": 10.0}, np.array([4.0]))
    26.0
    """
    pim = np.minimum(pi, 0.0)
    return float(
        pim @ caps
        + sum(t * (sigma.get(f, 0.0) + min(0.0, low.get(f, 0.0))) for f, t in tonnes.items())
    )


class Smoothing:
    """The stability centre of one solve, and the smoothed point to price at.

    ``alpha``: the weight of the centre, in ``[0, 1)``; 0 never smooths.
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.centre: tuple[np.ndarray, dict[str, float], float] | None = None

    def point(
        self, res: MasterResult, *, tail: bool
    ) -> tuple[np.ndarray, dict[str, float]] | None:
        """The duals to price at first, between the centre and ``res``'s; None when there
        is no centre yet, the weight is 0, or the run is in its ``tail``."""
        alpha = 0.0 if tail else self.alpha
        if self.centre is None or alpha <= 0.0:
            return None
        centre_pi, centre_sigma, _ = self.centre
        pi = alpha * centre_pi + (1.0 - alpha) * res.pi
        sigma = {
            f: alpha * centre_sigma.get(f, 0.0) + (1.0 - alpha) * v for f, v in res.sigma.items()
        }
        return pi, sigma

    def observe(self, pi: np.ndarray, sigma: dict[str, float], value: float) -> None:
        """Duals priced at, with their Lagrangian value: the new centre if the best."""
        if self.centre is None or value > self.centre[2]:
            self.centre = (pi, sigma, value)

"""Comparing priority orders: HIMO's against the dynamic-programming order.

A run's priorities are planning times on a discrete time grid (the sum of the steps
taken), so two priorities closer than the grid's resolution cannot be ordered by the
run: they are *tied*, not ordered by round-off. :func:`tie_groups` makes that
explicit, and :func:`kendall_tau` compares two orders with Kendall's tau-b, which
counts a pair tied in either order as neither concordant nor discordant.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau


def tie_groups(times: np.ndarray, resolution: float) -> np.ndarray:
    """``(n,)`` integer ranks: times closer than ``resolution`` to a neighbour share a rank.

    Sorted times are chained: each time within ``resolution`` of the previous one joins
    its group, so the groups are the connected runs of near-equal times. Ranks count
    groups from 0 in order of time.
    """
    times = np.asarray(times, dtype=float)
    order = np.argsort(times, kind="stable")
    sorted_times = times[order]
    new_group = np.concatenate([[True], np.diff(sorted_times) >= resolution]) if times.size else np.array([], bool)
    ranks = np.empty(times.size, dtype=int)
    ranks[order] = np.cumsum(new_group) - 1
    return ranks


def kendall_tau(priorities: np.ndarray, reference: np.ndarray, resolution: float) -> float:
    """Kendall's tau-b between ``priorities`` (planning times; near-ties within
    ``resolution`` are ties) and a ``reference`` order (for example the DP sweeps).

    1 when the orders agree on every pair they both order, -1 when they disagree on
    every one; NaN with fewer than two states, or when either order ties every pair.
    """
    priorities, reference = np.asarray(priorities, dtype=float), np.asarray(reference, dtype=float)
    keep = np.isfinite(priorities) & np.isfinite(reference)
    if keep.sum() < 2:
        return float("nan")
    ranks = tie_groups(priorities[keep], resolution)
    if np.unique(ranks).size < 2 or np.unique(reference[keep]).size < 2:
        return float("nan")
    return float(kendalltau(ranks, reference[keep], variant="b").statistic)

"""Comparing priority orders: a run's against the dynamic-programming order.

**What is compared.** A run's priorities are planning times, and planning time is
not a common clock across methods: first-order flows (``gradient``, ``softmax``)
crawl for a long time and then settle many states within a short window, while
HIMO's natural flow moves each state as its advantage arrives. So runs are
compared only through what a change of clock leaves alone, over the states of
their optimal path (the *on-path states*):

* their **order**: each on-path state's rank, with near-ties shared
  (:func:`path_ranks`), and Kendall's tau-b between that order and a reference
  order such as the DP sweeps (:func:`kendall_tau`);
* their **times normalized per run**: ``(p - p_first) / (p_last - p_first)``, 0 for
  the earliest on-path priority and 1 for the latest (:func:`normalized_times`),
  which shows how the run spreads its on-path priorities over its own window.

**Near-ties.** The priorities live on a discrete time grid (the stored planning
times, the sum of the steps taken), so two priorities closer than the grid's
spacing cannot be ordered by the run: they are *tied*, never ordered by round-off.
The resolution of a run's on-path priorities is the widest spacing of its stored
time grid over the window they occupy (:func:`grid_resolution`): the step size
when no step was halved and nothing was thinned. :func:`tie_groups` chains the
priorities closer than that into groups, and Kendall's tau-b counts a pair tied in
either order as neither concordant nor discordant.

Which runs are compared with which, and the tables of the comparison, are in
:mod:`himo.analysis.baselines`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# ----------------------------------------------------------------- orders
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
    return tau_b(ranks, reference[keep])


def tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two orders of the same items, by counting pairs:

        tau_b = (n_c - n_d) / sqrt((n_0 - n_x) (n_0 - n_y))

    with ``n_0`` the pairs, ``n_c`` (``n_d``) those ordered alike (oppositely) by ``x``
    and ``y``, ``n_x`` (``n_y``) those tied in ``x`` (``y``). ``O(n^2)``: the orders
    compared are paths of tens of states. NaN when either order ties every pair.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    upper = np.triu_indices(x.size, k=1)
    sx = np.sign(x[:, None] - x[None, :])[upper]
    sy = np.sign(y[:, None] - y[None, :])[upper]
    n_0 = sx.size
    denominator = np.sqrt(float(n_0 - np.count_nonzero(sx == 0)) * float(n_0 - np.count_nonzero(sy == 0)))
    return float(np.sum(sx * sy) / denominator) if denominator > 0 else float("nan")


def grid_resolution(time: np.ndarray, times: np.ndarray) -> float:
    """The widest spacing of the time grid ``time`` over the window of ``times``.

    The window runs from the earliest to the latest finite value of ``times``; the
    spacings counted are those of every grid interval ``[t_k, t_k+1]`` that meets it
    (so a time on a grid point counts both intervals beside it: a priority refined
    by :func:`himo.analysis.measures.peak_time` is located from the stored times on
    both sides). On an even grid this is the step. NaN when ``times`` has no finite
    value or the grid has a single time.
    """
    time, times = np.asarray(time, dtype=float), np.asarray(times, dtype=float)
    times = times[np.isfinite(times)]
    if times.size == 0 or time.size < 2:
        return float("nan")
    low, high = times.min(), times.max()
    meets = (time[1:] >= low) & (time[:-1] <= high)
    return float(np.diff(time)[meets].max())


def path_ranks(priorities: np.ndarray, on_path: np.ndarray, resolution: float) -> np.ndarray:
    """``(n_states,)`` each on-path state's rank among the on-path priorities (0 =
    earliest), near-ties within ``resolution`` sharing a rank (:func:`tie_groups`);
    -1 off the path and where the priority is NaN."""
    priorities = np.asarray(priorities, dtype=float)
    ranked = np.asarray(on_path, dtype=bool) & np.isfinite(priorities)
    ranks = np.full(priorities.size, -1, dtype=np.int64)
    ranks[ranked] = tie_groups(priorities[ranked], resolution)
    return ranks


def normalized_times(priorities: np.ndarray, on_path: np.ndarray) -> np.ndarray:
    """``(n_states,)`` ``(p - p_first) / (p_last - p_first)`` over the on-path priorities:
    0 for the earliest, 1 for the latest; NaN off the path, where the priority is
    NaN, and (all of them) when the on-path priorities are all equal."""
    priorities = np.asarray(priorities, dtype=float)
    ranked = np.asarray(on_path, dtype=bool) & np.isfinite(priorities)
    out = np.full(priorities.size, np.nan)
    if ranked.any():
        first, last = priorities[ranked].min(), priorities[ranked].max()
        if last > first:
            out[ranked] = (priorities[ranked] - first) / (last - first)
    return out


@dataclass(frozen=True)
class OrderComparison:
    """A run's on-path priority order against a reference order (:func:`compare_orders`)."""

    tau: float  # Kendall's tau-b; NaN when either order ties every pair
    resolution: float  # the time grid's spacing over the on-path priorities (grid_resolution)
    ranks: np.ndarray  # (n_states,) path_ranks: tie-group rank on the path, -1 elsewhere
    normalized: np.ndarray  # (n_states,) normalized_times
    n_compared: int  # on-path states with a priority and a reference value
    n_groups: int  # tie groups among them


def compare_orders(priorities: np.ndarray, on_path: np.ndarray, reference: np.ndarray,
                   time: np.ndarray) -> OrderComparison:
    """The on-path ``priorities`` of a run on the time grid ``time`` against ``reference``.

    ``reference`` is an order of the states (smaller first: the DP sweep, the
    distance to the goal); a negative or NaN reference value leaves the state out
    of the comparison (an unreachable goal).
    """
    priorities = np.asarray(priorities, dtype=float)
    on_path = np.asarray(on_path, dtype=bool)
    reference = np.asarray(reference, dtype=float)
    compared = on_path & np.isfinite(priorities) & np.isfinite(reference) & (reference >= 0)
    resolution = grid_resolution(time, priorities[on_path])
    ranks = path_ranks(priorities, on_path, resolution)
    return OrderComparison(
        tau=kendall_tau(priorities[compared], reference[compared], resolution),
        resolution=resolution,
        ranks=ranks,
        normalized=normalized_times(priorities, on_path),
        n_compared=int(compared.sum()),
        n_groups=int(np.unique(ranks[compared]).size),
    )

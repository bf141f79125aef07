"""Comparing priorities: the one rule by which a priority comes before another, and the
orders it gives (a run's against the dynamic-programming order).

**Near-ties: the one rule.** The priorities live on a discrete time grid (the stored
planning times, the sum of the steps taken) and are located on it only to within a
spacing: the peak of dPD/dt by the parabola through the stored maximum and its two
neighbours, the time at which PD~ reaches 1/2 by linear interpolation inside the
interval of the crossing. So two priorities closer than the grid's spacing cannot be
ordered by the run. The *resolution* of a set of priorities is the widest spacing of
the stored time grid over the window from the earliest to the latest of them
(:func:`grid_resolution`): the step size when no step was halved and nothing was
thinned. Then, for two priorities ``a`` and ``b`` of that set,

    a precedes b       when  b - a >= resolution,
    a and b are tied   when  |a - b| < resolution  (neither precedes)

(:func:`precedes`, :func:`tied`): near-ties are never ordered by round-off. The rule
is pairwise and reads nothing but the two priorities and the resolution, so ties do
not chain: ``a`` may be tied with ``b`` and ``b`` with ``c`` while ``a`` precedes
``c`` (chaining near neighbours into groups would tie priorities many resolutions
apart whenever states lie between them).

Which priorities make the set, and so the window of the resolution, is the
comparison's: the on-path states' priorities for the orders below and for every
claim about the path (:func:`path_resolution`, the resolution stored with the run's
``kendall_tau_dp``); all states' priorities for a claim that compares a state with
every state (H1, :mod:`himo.analysis.claims`): a wider window, so a resolution at
least as coarse. Both priority definitions (``priority``, ``priority_half``) are
located on the same grid to within a spacing, so both get this rule, each over its
own priorities. A resolution of 0 is an exact order (``a`` precedes ``b`` when
``a < b``): the DP sweeps are integers.

**Ranks.** A state's rank among a set is the number of states of the set that
precede it (:func:`precedence_ranks`; 0 = nothing precedes it). States of one rank
are tied with each other, and a state that precedes another has the smaller rank; a
state may also be tied with one of a neighbouring rank. The claims
(:mod:`himo.analysis.judging`), the measures' ``priority_rank`` and
``results/priority_ranks.csv`` (1 + this rank) all read it.

**What is compared.** A run's priorities are planning times, and planning time is
not a common clock across methods: first-order flows (``gradient``, ``softmax``)
crawl for a long time and then settle many states within a short window, while
HIMO's natural flow moves each state as its advantage arrives. So runs are
compared only through what a change of clock leaves alone, over the states of
their optimal path (the *on-path states*):

* their **order**: each on-path state's rank (:func:`path_ranks`), and Kendall's
  tau-b between that order and a reference order such as the DP sweeps
  (:func:`kendall_tau`), which counts a pair tied by the rule as neither
  concordant nor discordant;
* their **times normalized per run**: ``(p - p_first) / (p_last - p_first)``, 0 for
  the earliest on-path priority and 1 for the latest (:func:`normalized_times`),
  which shows how the run spreads its on-path priorities over its own window.

Which runs are compared with which, and the tables of the comparison, are in
:mod:`himo.analysis.baselines`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# ------------------------------------------------------------------ the rule
def precedes(a, b, resolution: float):
    """Priority ``a`` precedes ``b``: earlier by at least ``resolution`` (the one rule;
    with ``resolution`` 0, earlier at all). Broadcasts over arrays; the priorities
    must be finite (a state without a priority is compared with nothing)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = (b - a >= resolution) & (b > a)
    return bool(out) if out.ndim == 0 else out


def tied(a, b, resolution: float):
    """Priorities ``a`` and ``b`` are tied: closer than ``resolution`` (with
    ``resolution`` 0, equal), so neither precedes the other."""
    out = ~np.asarray(precedes(a, b, resolution)) & ~np.asarray(precedes(b, a, resolution))
    return bool(out) if out.ndim == 0 else out


def grid_resolution(time: np.ndarray, times: np.ndarray) -> float:
    """The resolution of the priorities ``times`` on the time grid ``time``: the
    widest spacing of the grid over their window.

    The window runs from the earliest to the latest finite value of ``times``; the
    spacings counted are those of every grid interval ``[t_k, t_k+1]`` that meets it
    (so a time on a grid point counts both intervals beside it: a priority refined
    by :func:`himo.analysis.measures.peak_time` is located from the stored times on
    both sides). On an even grid this is the step. NaN when ``times`` has no finite
    value or the grid has a single time (then nothing can be ordered). A time
    outside the grid is an error: a priority is always one of the run's times.
    """
    time, times = np.asarray(time, dtype=float), np.asarray(times, dtype=float)
    times = times[np.isfinite(times)]
    if times.size == 0 or time.size < 2:
        return float("nan")
    low, high = times.min(), times.max()
    if low < time[0] or high > time[-1]:
        raise ValueError(f"priorities from {low:g} to {high:g} lie outside the time grid "
                         f"[{time[0]:g}, {time[-1]:g}]: are they this run's?")
    meets = (time[1:] >= low) & (time[:-1] <= high)
    return float(np.diff(time)[meets].max())


def path_resolution(priorities: np.ndarray, on_path: np.ndarray, time: np.ndarray) -> float:
    """The resolution of a run's on-path priorities (:func:`grid_resolution` over the
    window of ``priorities[on_path]``): the one the orders, the measures and the
    claims about the path compare them at."""
    return grid_resolution(time, np.asarray(priorities, dtype=float)[np.asarray(on_path, dtype=bool)])


# ----------------------------------------------------------------- orders
def precedence_ranks(times: np.ndarray, resolution: float) -> np.ndarray:
    """``(n,)`` integer ranks: the number of ``times`` that precede each (:func:`precedes`).

    0 for every time that nothing precedes; times of one rank are tied with each
    other (if ``a`` preceded ``b``, all that precede ``a`` would precede ``b`` too,
    and ``a`` itself). The times must be finite.
    """
    times = np.asarray(times, dtype=float)
    return precedes(times[:, None], times[None, :], resolution).sum(axis=0).astype(np.int64)


def pair_signs(values: np.ndarray, resolution: float) -> np.ndarray:
    """The order of every pair ``i < j`` of ``values`` by the rule: +1 when ``j``
    precedes ``i``, -1 when ``i`` precedes ``j``, 0 when tied; in the order of
    ``numpy.triu_indices(n, 1)``."""
    values = np.asarray(values, dtype=float)
    later = precedes(values[None, :], values[:, None], resolution)
    signs = later.astype(int) - later.T.astype(int)  # [i, j]: +1 when j precedes i
    return signs[np.triu_indices(values.size, k=1)]


def kendall_tau(priorities: np.ndarray, reference: np.ndarray, resolution: float) -> float:
    """Kendall's tau-b between ``priorities`` (planning times, ordered by the rule at
    ``resolution``) and a ``reference`` order (for example the DP sweeps, exact).

    1 when the orders agree on every pair they both order, -1 when they disagree on
    every one; NaN with fewer than two states, or when either order ties every pair.
    """
    priorities, reference = np.asarray(priorities, dtype=float), np.asarray(reference, dtype=float)
    keep = np.isfinite(priorities) & np.isfinite(reference)
    if keep.sum() < 2:
        return float("nan")
    return tau_b(pair_signs(priorities[keep], resolution), pair_signs(reference[keep], 0.0))


def tau_b(sx: np.ndarray, sy: np.ndarray) -> float:
    """Kendall's tau-b from the order of every pair in two orders of the same items
    (:func:`pair_signs`: +1, -1, or 0 for a tie):

        tau_b = (n_c - n_d) / sqrt((n_0 - n_x) (n_0 - n_y))

    with ``n_0`` the pairs, ``n_c`` (``n_d``) those ordered alike (oppositely) by ``x``
    and ``y``, ``n_x`` (``n_y``) those tied in ``x`` (``y``). ``O(n^2)``: the orders
    compared are paths of tens of states. NaN when either order ties every pair.
    """
    sx, sy = np.asarray(sx, dtype=float), np.asarray(sy, dtype=float)
    n_0 = sx.size
    denominator = np.sqrt(float(n_0 - np.count_nonzero(sx == 0)) * float(n_0 - np.count_nonzero(sy == 0)))
    return float(np.sum(sx * sy) / denominator) if denominator > 0 else float("nan")


def path_ranks(priorities: np.ndarray, on_path: np.ndarray, resolution: float) -> np.ndarray:
    """``(n_states,)`` each on-path state's rank among the on-path priorities
    (:func:`precedence_ranks`: 0 = nothing precedes it); -1 off the path and where the priority
    is NaN."""
    priorities = np.asarray(priorities, dtype=float)
    ranked = np.asarray(on_path, dtype=bool) & np.isfinite(priorities)
    out = np.full(priorities.size, -1, dtype=np.int64)
    out[ranked] = precedence_ranks(priorities[ranked], resolution)
    return out


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
    resolution: float  # the time grid's spacing over the on-path priorities (path_resolution)
    ranks: np.ndarray  # (n_states,) path_ranks: how many on-path priorities precede it, -1 elsewhere
    normalized: np.ndarray  # (n_states,) normalized_times
    n_compared: int  # on-path states with a priority and a reference value
    n_groups: int  # tie groups among them: their distinct ranks (the states of one rank are tied)


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
    resolution = path_resolution(priorities, on_path, time)
    on_path_ranks = path_ranks(priorities, on_path, resolution)
    return OrderComparison(
        tau=kendall_tau(priorities[compared], reference[compared], resolution),
        resolution=resolution,
        ranks=on_path_ranks,
        normalized=normalized_times(priorities, on_path),
        n_compared=int(compared.sum()),
        n_groups=int(np.unique(on_path_ranks[compared]).size),
    )

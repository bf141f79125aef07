"""Comparing priorities: the one rule by which a priority comes before another, and the
orders it gives (a run's against the dynamic-programming order).

**Near-ties: the one rule.** The priorities live on a discrete time grid (the stored
planning times, the sum of the steps taken) and are located on it only to within a
spacing: the peak of dPD/dt by the parabola through the stored maximum and its two
neighbours (within the two grid intervals beside it), the time at which PD~ reaches
1/2 by linear interpolation inside the interval of the crossing. So two priorities
closer than the grid's spacing cannot be ordered by the run. The *resolution* at
which two priorities ``a`` and ``b`` are compared is the widest spacing of the stored
time grid between them: over every grid interval that meets ``[min(a, b), max(a, b)]``
(:func:`pair_resolution`; a priority on a grid point counts the intervals on both
sides); on an even grid, the step size. Then

    a precedes b       when  b - a >= resolution(a, b)  and  a, b are not one time,
    a and b are tied   otherwise (neither precedes)

(:func:`precedes`, :func:`tied`): near-ties are never ordered. Two priorities are *one
time* when they differ by round-off only (:func:`himo.tolerances.same_time`, relative
:data:`himo.tolerances.PRIORITY_RTOL`): symmetric states (the Tower of Hanoi's 210 and
201) settle at one time computed by different sums. That floor under the resolution
matters where steps were halved far below the priorities' digits; one time is also
never ordered when the grid is None (exact orders). Where one state is picked among
priorities, all those at the picked one's time are named (:func:`earliest`,
:func:`latest`), and a sort by priority puts them in the order of its next key
(:func:`time_sort_keys`), never in the order the rounding fell.

The rule reads the two priorities and the grid, nothing else. So it is the same for
every comparison: between on-path states, between the goal and a state off the path
(claim H1 compares the goal with every state), under either priority definition
(``priority``, ``priority_half``: both are located on the same grid to within a
spacing, each is compared by its own values). A grid whose spacing grows by orders of
magnitude (the first-order runs' bounded steps) compares early priorities at the
early spacing, not at the spacing of the latest state's. Ties do not chain: ``a`` may
be tied with ``b`` and ``b`` with ``c`` while ``a`` precedes ``c`` (chaining near
neighbours into groups would tie priorities many resolutions apart whenever states
lie between them). ``precedes`` is transitive, because the grid between ``a`` and
``c`` is the grid between ``a`` and ``b`` and between ``b`` and ``c``. A grid of
``None`` is an exact order (``a`` precedes ``b`` when ``a < b``): the DP sweeps.

**Ranks.** A state's rank among a set is the number of states of the set that
precede it (:func:`precedence_ranks`; 0 = nothing precedes it). States of one rank
are tied with each other, and a state that precedes another has the smaller rank; a
state may also be tied with one of a neighbouring rank. The claims
(:mod:`himo.verdicts.judging`), the measures' ``priority_rank`` and
``results/priority_ranks.csv`` (1 + this rank) all read it. A run's
:func:`path_resolution`, the widest spacing over the window of its on-path
priorities (stored with ``kendall_tau_dp``), is the coarsest resolution at which two
of them are compared.

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
:mod:`himo.verdicts.baselines`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from himo.tolerances import PRIORITY_RTOL, same_time


# ------------------------------------------------------------------ the rule
def pair_resolution(time: np.ndarray, a, b):
    """The resolution at which priorities ``a`` and ``b`` are compared on the time grid
    ``time``: the widest spacing ``t_k+1 - t_k`` of the grid intervals that meet
    ``[min(a, b), max(a, b)]``.

    Broadcasts over ``a`` and ``b`` (finite). NaN when the grid has a single time
    (nothing can be ordered). A priority outside the grid is an error: a priority
    is always within the run's times.
    """
    time = np.asarray(time, dtype=float)
    if time.ndim != 1:
        raise ValueError(f"the time grid must be the run's stored times (1-d), got shape {time.shape}")
    low, high = np.minimum(a, b), np.maximum(a, b)
    if time.size < 2 or np.size(low) == 0:
        return np.full(np.shape(low), np.nan)[()]
    if np.any(low < time[0]) or np.any(high > time[-1]):
        raise ValueError(f"priorities from {np.min(low):g} to {np.max(high):g} lie outside the time grid "
                         f"[{time[0]:g}, {time[-1]:g}]: are they this run's?")
    first = np.searchsorted(time[1:], low, side="left")  # the first interval with t_k+1 >= low
    last = np.searchsorted(time[:-1], high, side="right") - 1  # the last with t_k <= high
    start = int(np.min(first))
    return _range_max(np.diff(time[start:int(np.max(last)) + 2]), first - start, last - start)


def _range_max(values: np.ndarray, first, last):
    """``max(values[first:last + 1])`` for arrays of index pairs, by a sparse table
    (the maxima of every run of ``2^j`` values): two look-ups per pair."""
    first, last = np.asarray(first), np.asarray(last)
    if first.size == 1:
        return np.full(first.shape, values[int(first.flat[0]):int(last.flat[0]) + 1].max())[()]
    table = [values]
    while 2 ** len(table) <= values.size:
        width = 2 ** (len(table) - 1)
        table.append(np.maximum(table[-1][:-width], table[-1][width:]))
    level = np.floor(np.log2(last - first + 1)).astype(int)
    out = np.empty(np.shape(first))
    for j in np.unique(level):
        here = level == j
        out[here] = np.maximum(table[j][first[here]], table[j][last[here] - 2 ** j + 1])
    return out[()]


def precedes(a, b, time: np.ndarray | None):
    """Priority ``a`` precedes ``b``: earlier by at least the resolution between them
    on the time grid ``time`` (:func:`pair_resolution`; the one rule), and not one time
    with it (:func:`himo.tolerances.same_time`: round-off never orders). With ``time``
    None, an exact order: earlier at all, round-off aside. Broadcasts over arrays; the
    priorities must be finite (a state without a priority is compared with nothing).
    Two numbers take :func:`_scalar_precedes`, the same rule without the arrays' overhead
    (the claims and their null orders ask it about a hundred thousand times a run)."""
    if isinstance(a, (float, int, np.floating, np.integer)) and isinstance(b, (float, int, np.floating, np.integer)):
        return _scalar_precedes(float(a), float(b), time)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = (b > a) & ~np.asarray(same_time(a, b))
    if time is not None:
        out = out & (b - a >= pair_resolution(time, a, b))
    return bool(out) if out.ndim == 0 else out


def _scalar_precedes(a: float, b: float, time: np.ndarray | None) -> bool:
    """:func:`precedes` of two numbers: ``b > a``, not one time (:data:`PRIORITY_RTOL`),
    and, on a grid, ``b - a`` at least the widest spacing of the grid intervals that meet
    ``[a, b]`` (:func:`pair_resolution`, whose checks it shares)."""
    if not b > a or abs(a - b) <= PRIORITY_RTOL * max(abs(a), abs(b)):
        return False
    if time is None:
        return True
    time = np.asarray(time, dtype=float)
    if time.ndim != 1 or time.size < 2 or a < time[0] or b > time[-1]:
        return bool(b - a >= pair_resolution(time, a, b))  # its errors, or NaN: not ordered
    first = int(np.searchsorted(time[1:], a, side="left"))
    last = int(np.searchsorted(time[:-1], b, side="right")) - 1
    return b - a >= float(np.max(time[first + 1:last + 2] - time[first:last + 1]))


def tied(a, b, time: np.ndarray | None):
    """Priorities ``a`` and ``b`` are tied: closer than the resolution between them
    (with ``time`` None, equal), so neither precedes the other."""
    out = ~np.asarray(precedes(a, b, time)) & ~np.asarray(precedes(b, a, time))
    return bool(out) if out.ndim == 0 else out


def earliest(priorities, candidates) -> list[int]:
    """The ``candidates`` (state indices into ``priorities``) whose priority is the
    earliest of theirs, round-off aside: every one at one time with the smallest
    (:func:`himo.tolerances.same_time`), in the order of ``candidates``; none without
    candidates. A claim's rival is all of them, never the one the rounding put first."""
    return _extreme(priorities, candidates, min)


def latest(priorities, candidates) -> list[int]:
    """As :func:`earliest`, for the latest priority."""
    return _extreme(priorities, candidates, max)


def _extreme(priorities, candidates, pick) -> list[int]:
    candidates = [int(s) for s in candidates]
    if not candidates:
        return []
    values = np.asarray(priorities, dtype=float)
    extreme = pick(values[s] for s in candidates)
    return [s for s in candidates if same_time(values[s], extreme)]


def time_sort_keys(times) -> np.ndarray:
    """Sort keys for ``times`` that never order by round-off: each time replaced by
    the smallest of the times it is one time with (:func:`himo.tolerances.same_time`),
    so that times at one time get one key and a sort by ``(key, next key)`` puts them
    in the order of the next key. NaN stays NaN."""
    times = np.asarray(times, dtype=float)
    finite = np.isfinite(times)
    keys = times.copy()
    values = times[finite]
    one_time = np.asarray(same_time(values[:, None], values[None, :])).reshape(values.size, values.size)
    keys[finite] = np.where(one_time, values[None, :], np.inf).min(axis=1)
    return keys


def grid_resolution(time: np.ndarray, times: np.ndarray) -> float:
    """The widest spacing of the time grid ``time`` over the window of ``times`` (from
    their earliest to their latest finite value): the coarsest resolution at which two
    of them are compared (:func:`pair_resolution` of the two ends). On an even grid,
    the step. NaN when ``times`` has no finite value or the grid a single time."""
    times = np.asarray(times, dtype=float)
    times = times[np.isfinite(times)]
    if times.size == 0:
        return float("nan")
    return float(pair_resolution(time, times.min(), times.max()))


def path_resolution(priorities: np.ndarray, on_path: np.ndarray, time: np.ndarray) -> float:
    """The widest spacing of the time grid over a run's on-path priorities
    (:func:`grid_resolution` of ``priorities[on_path]``): the coarsest resolution at
    which two of them are compared, stored with ``kendall_tau_dp``."""
    return grid_resolution(time, np.asarray(priorities, dtype=float)[np.asarray(on_path, dtype=bool)])


# ----------------------------------------------------------------- orders
def precedence_matrix(times: np.ndarray, time: np.ndarray | None) -> np.ndarray:
    """``(n, n)`` booleans: ``[i, j]`` when ``times[i]`` precedes ``times[j]`` (:func:`precedes`)."""
    times = np.asarray(times, dtype=float)
    return np.asarray(precedes(times[:, None], times[None, :], time), dtype=bool).reshape(times.size, times.size)


def precedence_ranks(times: np.ndarray, time: np.ndarray | None) -> np.ndarray:
    """``(n,)`` integer ranks: the number of ``times`` that precede each (:func:`precedes`
    on the time grid ``time``; None: exactly).

    0 for every time that nothing precedes; times of one rank are tied with each
    other (if ``a`` preceded ``b``, all that precede ``a`` would precede ``b`` too,
    and ``a`` itself). The times must be finite.
    """
    return precedence_matrix(times, time).sum(axis=0).astype(np.int64)


def pair_signs(values: np.ndarray, time: np.ndarray | None) -> np.ndarray:
    """The order of every pair ``i < j`` of ``values`` by the rule on the time grid
    ``time`` (None: exactly): +1 when ``j`` precedes ``i``, -1 when ``i`` precedes
    ``j``, 0 when tied; in the order of ``numpy.triu_indices(n, 1)``."""
    first = precedence_matrix(values, time).astype(int)  # [i, j]: i precedes j
    return (first.T - first)[np.triu_indices(first.shape[0], k=1)]


@dataclass(frozen=True)
class PairAgreement:
    """Two runs' orders of the same states, pair by pair (:func:`compare_pair_orders`)."""

    alike: int  # pairs both runs order, the same way
    reversed: int  # pairs both runs order, opposite ways
    one_only: int  # pairs one run orders and the other ties
    reversed_pairs: list[tuple[int, int]]  # the reversed pairs, as (earlier, later) in the states' order


def compare_pair_orders(states: np.ndarray, first: np.ndarray, first_time: np.ndarray | None,
                        second: np.ndarray, second_time: np.ndarray | None) -> PairAgreement:
    """The orders of ``states`` (indices) by the priorities ``first`` on the grid
    ``first_time`` and by ``second`` on ``second_time``, each by the rule on its own grid
    (:func:`pair_signs`), compared pair by pair: a comparison of two runs that needs no
    common clock."""
    states = np.asarray(states, dtype=int)
    sx = pair_signs(np.asarray(first, dtype=float)[states], first_time)
    sy = pair_signs(np.asarray(second, dtype=float)[states], second_time)
    both = (sx != 0) & (sy != 0)
    opposite = both & (sx != sy)
    i, j = np.triu_indices(states.size, k=1)
    return PairAgreement(alike=int((both & (sx == sy)).sum()), reversed=int(opposite.sum()),
                         one_only=int(((sx != 0) ^ (sy != 0)).sum()),
                         reversed_pairs=[(int(states[a]), int(states[b])) for a, b in zip(i[opposite], j[opposite])])


def kendall_tau(priorities: np.ndarray, reference: np.ndarray, time: np.ndarray | None) -> float:
    """Kendall's tau-b between ``priorities`` (planning times, ordered by the rule on
    the time grid ``time``) and a ``reference`` order (for example the DP sweeps, exact).

    1 when the orders agree on every pair they both order, -1 when they disagree on
    every one; NaN with fewer than two states, or when either order ties every pair.
    """
    priorities, reference = np.asarray(priorities, dtype=float), np.asarray(reference, dtype=float)
    keep = np.isfinite(priorities) & np.isfinite(reference)
    if keep.sum() < 2:
        return float("nan")
    return tau_b(pair_signs(priorities[keep], time), pair_signs(reference[keep], None))


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


def path_ranks(priorities: np.ndarray, on_path: np.ndarray, time: np.ndarray | None) -> np.ndarray:
    """``(n_states,)`` each on-path state's rank among the on-path priorities on the
    time grid ``time`` (:func:`precedence_ranks`: 0 = nothing precedes it); -1 off the
    path and where the priority is NaN."""
    priorities = np.asarray(priorities, dtype=float)
    ranked = np.asarray(on_path, dtype=bool) & np.isfinite(priorities)
    out = np.full(priorities.size, -1, dtype=np.int64)
    out[ranked] = precedence_ranks(priorities[ranked], time)
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
    resolution: float  # the coarsest resolution of two on-path priorities (path_resolution)
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
    on_path_ranks = path_ranks(priorities, on_path, time)
    return OrderComparison(
        tau=kendall_tau(priorities[compared], reference[compared], time),
        resolution=path_resolution(priorities, on_path, time),
        ranks=on_path_ranks,
        normalized=normalized_times(priorities, on_path),
        n_compared=int(compared.sum()),
        n_groups=int(np.unique(on_path_ranks[compared]).size),
    )

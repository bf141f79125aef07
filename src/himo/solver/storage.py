"""The trajectory's storage budget: which iterations a run keeps, and why.

A run records its iterations as it goes (:class:`himo.solver.loop.Run`: the policy,
the occupancy, the dependent actions and five numbers each). The setting
``storage_budget`` (MB, :mod:`himo.solver.settings`) bounds their memory: each stored
iteration counts :func:`iteration_bytes`, which is at least what the run holds for
it and at least what the trajectory file holds for it before compression (the dense
``(state, action)`` policy, :mod:`himo.trajectory`), so the budget bounds both. It
holds :func:`storage_capacity` iterations. A run that fits keeps every iteration.
When a run has filled its capacity, its stored iterations are thinned to three
quarters of it (:data:`THINNED_FRACTION`) before the next one is recorded, so the run
never holds more than its capacity; a long run is thinned again each time it fills
up (:func:`thinned_positions`).

**What is kept.** The first stored iteration (the prior, from which PD is measured),
the last three (:data:`KEPT_AT_END`: the latest, whose PD velocity is still a
one-sided secant, and the two before it), and, for each state whose PD has left 0,
the stored iterations its measures read (:func:`measured_positions`): its peak of
dPD/dt on the stored grid with two on each side, the two around PD~'s first reaching
1/2, and the maxima of PD and |CD| (the scales of PD~ and CD~, Eq. 14).

**What is dropped**, where the policy barely moves: among the other stored
iterations, one at a time, the one whose kept neighbours hold the closest policies,
measured by the largest change of any action's probability between them,
``max_ij |pi_ij(next) - pi_ij(previous)|`` (removing it loses least of the policy's
path); after each removal its two neighbours' changes are measured again; the
earliest first on ties. Only when the kept iterations alone exceed three quarters of
the capacity (more distinct peaks than the budget holds) are some of them dropped
too, by the same rule (the first and the last three never); the run counts them
(``measured_dropped``), and the trajectory says so.

**What it guarantees** (docs/MATH.md, section 7, "Storing a long run"). A state's
priority is the vertex of the parabola through its velocity at the peak ``k`` and at
``k - 1`` and ``k + 1`` (:func:`himo.measures.dataset.priority`), each the
three-point derivative over its own neighbours
(:func:`himo.measures.dataset.time_derivative`): it reads PD and the planning times
at ``k - 2 .. k + 2``, nothing else. A thinning keeps those, and a velocity once its
neighbours are recorded no longer changes, so each state's priority is the unthinned
run's, bit for bit, unless peaks had to be dropped or a velocity on a thinned stretch
overtakes the peak: such a velocity is a mean of the unthinned run's secant slopes
over the stretch (each secant is the mean of the derivative over its interval), so
that takes another peak as high. A peak still to come has its two predecessors among
the last three. The time at which PD~ first reaches 1/2 (``priority_half``) is kept
as the grid showed it at each pass; when PD's maximum grows after a pass, the
crossing can move into a stretch thinned before, where it is located within that
stretch's spacing, the resolution at which it is compared.

**Cost.** PD is computed once per stored iteration, at the first pass that holds it
(:func:`himo.measures.dataset.policy_divergence`, in blocks of at most a sixteenth of
the stored iterations), and kept with it; a pass then takes the velocities of the
stored PD and a few policy differences per iteration it drops. The
kept neighbourhoods need at least :data:`MIN_CAPACITY` stored iterations: a budget
that holds fewer is raised to that many (:func:`least_budget`), so that the default
works on any MDP, and the trajectory says so.
"""

from __future__ import annotations

import heapq

import numpy as np

from himo.mdp import MDP

#: Bytes in one MB, the unit of ``storage_budget``.
MB = 10**6
#: A thinning pass keeps this fraction of the capacity (rounded down).
THINNED_FRACTION = 0.75
#: The fewest stored iterations a budget must hold.
MIN_CAPACITY = 16
#: The stored iterations each state's peak protects on each side of it.
PEAK_NEIGHBOURS = 2
#: How many of the last stored iterations a pass always keeps: the latest, whose
#: velocity is still a one-sided secant (a peak still to come may be there), and the
#: :data:`PEAK_NEIGHBOURS` before it, which such a peak's priority reads.
KEPT_AT_END = 1 + PEAK_NEIGHBOURS
#: The numbers recorded per iteration besides the arrays: iteration, time, step size,
#: objective, flow speed.
SCALARS_PER_ITERATION = 5


def iteration_bytes(mdp: MDP) -> int:
    """The bytes one stored iteration counts against the budget: 8 per ``(state,
    action)`` cell (the policy, dense as in the file; the run holds the ``n_pairs <=
    n_states n_actions`` available ones), 8 per state for each of the occupancy, the
    dependent actions (the run's pair indices; the file stores one small integer) and
    PD (which the thinning computes once per stored iteration and keeps with it), and 8
    for each of the :data:`SCALARS_PER_ITERATION` numbers."""
    return 8 * (mdp.n_states * mdp.n_actions + 3 * mdp.n_states + SCALARS_PER_ITERATION)


def least_budget(mdp: MDP) -> float:
    """The budget (MB) that holds :data:`MIN_CAPACITY` iterations of ``mdp``: a smaller
    one is raised to it (:func:`storage_capacity`)."""
    return MIN_CAPACITY * iteration_bytes(mdp) / MB


def storage_capacity(mdp: MDP, budget_mb: float) -> int:
    """How many iterations of ``mdp`` a run with the budget of ``budget_mb`` MB keeps: as
    many as the budget holds, and at least :data:`MIN_CAPACITY`, the fewest the thinning
    works with (a budget below :func:`least_budget`, which on a very large MDP even the
    default may be, is raised to it rather than refused: memory then stays bounded by
    that many iterations of the MDP, each about as large as one of its value vectors
    times its actions; the trajectory says so, :func:`raised_budget_note`)."""
    return max(MIN_CAPACITY, round(budget_mb * MB) // iteration_bytes(mdp))  # whole bytes, whole iterations


def raised_budget_note(mdp: MDP, budget_mb: float) -> str:
    """What the trajectory says when ``budget_mb`` holds fewer than :data:`MIN_CAPACITY`
    iterations of ``mdp`` (empty when it holds enough)."""
    if round(budget_mb * MB) // iteration_bytes(mdp) >= MIN_CAPACITY:
        return ""
    return (f"storage_budget {budget_mb:g} MB holds fewer than {MIN_CAPACITY} iterations of this MDP "
            f"({iteration_bytes(mdp) / MB:.6g} MB each); the run kept up to {MIN_CAPACITY}, "
            f"{least_budget(mdp):.6g} MB, the fewest the thinning works with")


def thinned_positions(mdp: MDP, policies: list[np.ndarray], occupancies: list[np.ndarray],
                      divergences: list[np.ndarray | None], times: list[float], keep: int) -> tuple[np.ndarray, int]:
    """The positions among the stored iterations that a thinning pass keeps (module
    docstring), ascending, and how many of those the measures read it had to drop.

    ``policies`` are the stored ``(n_pairs,)`` policies, the first the run's initial
    one, ``occupancies`` their ``(n_states,)`` occupancies, ``divergences`` their PD
    against the first (``(n_states,)``, None where not computed yet: computed here and
    filled in, so that each is computed once), ``times`` their planning times (strictly
    increasing), ``keep`` how many to keep (at least ``1 + KEPT_AT_END``).
    """
    n = len(policies)
    if n <= keep:
        return np.arange(n), 0
    always = np.zeros(n, dtype=bool)
    always[0] = True
    always[n - KEPT_AT_END:] = True
    protected = always.copy()
    protected[measured_positions(mdp, policies, occupancies, divergences, np.asarray(times, dtype=float))] = True
    alive = np.ones(n, dtype=bool)
    _drop_least_moving(policies, alive, ~protected, n - keep)
    measured_dropped = int(max(alive.sum() - keep, 0))
    if measured_dropped:
        _drop_least_moving(policies, alive, ~always, measured_dropped)
    return np.flatnonzero(alive), measured_dropped


def measured_positions(mdp: MDP, policies: list[np.ndarray], occupancies: list[np.ndarray],
                       divergences: list[np.ndarray | None], time: np.ndarray) -> np.ndarray:
    """The stored positions that each state's measures read (module docstring), ascending:
    its peak of dPD/dt with :data:`PEAK_NEIGHBOURS` on each side (``priority``), the two
    around PD~'s first reaching 1/2 (``priority_half``), and the maxima of PD and |CD|
    (the scales of PD~ and CD~, Eq. 14), for the states whose PD leaves 0."""
    from himo.measures.dataset import PRIORITY_MIN_PD, counter_difference, max_normalize, time_derivative

    pd = _divergences(mdp, policies, divergences)
    moved = pd.max(axis=0) > PRIORITY_MIN_PD
    pd = pd[:, moved]
    peaks = np.argmax(time_derivative(pd, time), axis=0)
    half = np.argmax(max_normalize(pd) >= 0.5, axis=0)
    scales = [np.argmax(pd, axis=0), np.argmax(np.abs(counter_difference(np.asarray(occupancies))), axis=0)]
    offsets = np.arange(-PEAK_NEIGHBOURS, PEAK_NEIGHBOURS + 1)
    positions = np.concatenate([(peaks[:, None] + offsets).ravel(), half - 1, half, *scales])
    return np.unique(np.clip(positions, 0, len(policies) - 1))


def _divergences(mdp: MDP, policies: list[np.ndarray], divergences: list[np.ndarray | None]) -> np.ndarray:
    """``(n_stored, n_states)`` PD of each stored policy against the first (Eq. 12): the
    entries of ``divergences`` not yet computed are computed (in blocks of at most a
    sixteenth of the stored iterations) and filled in."""
    from himo.measures.dataset import policy_divergence
    from himo.solver.policy import to_state_action

    missing = [k for k, row in enumerate(divergences) if row is None]
    if missing:
        prior = to_state_action(mdp, policies[0])
        block = max(1, len(policies) // 16)
        for start in range(0, len(missing), block):
            rows = missing[start:start + block]
            pd = policy_divergence(to_state_action(mdp, np.asarray([policies[k] for k in rows])), prior)
            for k, row in zip(rows, pd):
                divergences[k] = row
    return np.asarray(divergences)


def _drop_least_moving(policies: list[np.ndarray], alive: np.ndarray, candidates: np.ndarray, count: int) -> None:
    """Drop (mark not ``alive``) up to ``count`` of the alive ``candidates``, one at a
    time the one whose alive neighbours hold the closest policies (module docstring);
    the first and the last position are never dropped."""
    n = len(policies)
    previous, following = np.arange(-1, n - 1), np.arange(1, n + 1)
    for k in range(1, n):  # link the alive positions
        previous[k] = k - 1 if alive[k - 1] else previous[k - 1]
    for k in range(n - 2, -1, -1):
        following[k] = k + 1 if alive[k + 1] else following[k + 1]
    droppable = alive & candidates
    droppable[[0, n - 1]] = False

    def change(k: int) -> float:
        return float(np.max(np.abs(policies[following[k]] - policies[previous[k]])))

    heap = [(change(k), k) for k in np.flatnonzero(droppable).tolist()]
    heapq.heapify(heap)
    current = {k: c for c, k in heap}
    while count > 0 and heap:
        cost, k = heapq.heappop(heap)
        if not alive[k] or current.get(k) != cost:
            continue  # dropped already, or its cost has changed since
        alive[k] = False
        count -= 1
        before, after = previous[k], following[k]
        following[before], previous[after] = after, before
        for neighbour in (before, after):
            if droppable[neighbour] and alive[neighbour]:
                current[neighbour] = change(neighbour)
                heapq.heappush(heap, (current[neighbour], neighbour))

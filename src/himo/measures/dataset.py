"""The measures of the paper's section 4, computed from a trajectory dataset.

Pure functions on arrays, plus :func:`measures_dataset`, which assembles the measures
dataset described in ``docs/CONTRACTS.md``. The dataset stores PD and CD per state and
iteration; PD~, CD~ and the four velocities are computed from them when read, by
:func:`time_series`, the one reader of the time series for the figures, the claims and
the tests (they are cheap, and storing them took three times the space of PD and CD). Notation as in ``docs/MATH.md`` (section 7):
``pi_t(.|s)`` the policy after planning time ``t``, ``pi_0`` the uniform prior (Eq. 22),
``D^t`` the successor representation under ``pi_t``, ``D^t_0s`` the expected
(foresight-weighted) number of visits of ``s`` on a path from the start.

    PD(s, t)  = KL(pi_t(.|s) || pi_0(.|s))                     Eq. 12
    CD(s, t)  = D^t_0s - D^0_0s                                Eq. 13
    PD~(s, t) = PD(s, t) / max_t PD(s, t)                      Eq. 14
    CD~(s, t) = CD(s, t) / max_t |CD(s, t)|                    Eq. 14

Time derivatives are taken on the planning-time axis (the sum of the steps taken),
which is uneven when steps were halved or the trajectory was thinned; see
:func:`time_derivative` for the scheme and why its end points cannot make a spurious
peak. The priority of a state (Fig. 1D) is the planning time at which its PD
velocity peaks (:func:`priority`); an alternative definition, for measuring how
much the conclusions rest on that choice, is the time at which PD~ first reaches
1/2 (:func:`half_time`).

Each run is also compared with the dynamic-programming order (docs/MATH.md,
identity 9): the dataset carries each state's DP sweep and distance to the goal,
and the Kendall tau-b between the run's on-path priority order and the DP order,
with priorities closer than the time grid's spacing tied (:mod:`himo.measures.orders`);
with the order of the optimal-action gaps, the prediction of the mechanism once the
values have settled (docs/MATH.md, section 10: ``optimal_gap``, ``kendall_tau_gap``),
and with the order of the prior's rates, its prediction at the start of the run
(``prior_rate``, ``kendall_tau_prior``).

The dataset also carries the state graph (:func:`state_graph`), so that a figure or
a claim never has to guess which states are neighbours; its readers are in
:mod:`himo.measures.states`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from himo.errors import HimoError
from himo.mdp import MDP
from himo.mdpfile import metadata_variables, start_attrs, start_variables
from himo.solver.policy import state_argmax
from himo.tolerances import PATH_ACTION_ATOL, PRIORITY_MIN_PD, action_value_atol


# ----------------------------------------------------------------- Eqs. 12-14
def policy_divergence(policy: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """PD(s, t) = KL(pi_t(.|s) || pi_0(.|s)) (Eq. 12), in nats.

    ``policy`` is ``(..., n_states, n_actions)`` (0 where an action is unavailable),
    ``prior`` the ``(n_states, n_actions)`` prior policy. Terms with
    ``pi_t = 0`` contribute 0 (``0 log 0 = 0``); an action with ``pi_t > 0`` must
    have ``pi_0 > 0`` (the prior is uniform over the available actions, Eq. 22).
    Returns ``(..., n_states)``, clipped at 0 against round-off.
    """
    policy = np.asarray(policy, dtype=float)
    prior = np.asarray(prior, dtype=float)
    if np.any((policy > 0) & (np.broadcast_to(prior, policy.shape) <= 0)):
        raise HimoError("policy puts mass on an action the prior gives probability 0: KL is infinite")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(policy > 0, policy * (np.log(policy) - np.log(np.where(prior > 0, prior, 1.0))), 0.0)
    return np.maximum(terms.sum(axis=-1), 0.0)


def counter_difference(occupancy: np.ndarray) -> np.ndarray:
    """CD(s, t) = D^t_0s - D^0_0s (Eq. 13): ``occupancy`` is ``(n_times, n_states)``, row 0 the prior."""
    occupancy = np.asarray(occupancy, dtype=float)
    return occupancy - occupancy[:1]


def max_normalize(values: np.ndarray, absolute: bool = False) -> np.ndarray:
    """Per-state max-normalization of Eq. 14 over the time axis 0.

    ``values / max_t values`` (PD~), or with ``absolute`` ``values / max_t |values|``
    (CD~). A state whose maximum is 0 gets 0 at every time, never NaN.
    """
    values = np.asarray(values, dtype=float)
    scale = np.max(np.abs(values) if absolute else values, axis=0)
    safe = np.where(scale > 0, scale, 1.0)
    return np.where(scale > 0, values / safe, 0.0)


# ------------------------------------------------------------------ derivatives
def time_derivative(values: np.ndarray, time: np.ndarray) -> np.ndarray:
    """d values / d time along axis 0, on an uneven, strictly increasing time grid.

    Interior points use the second-order three-point formula for uneven steps
    (``h1 = t_i - t_(i-1)``, ``h2 = t_(i+1) - t_i``)::

        f'(t_i) ~ [h2 / (h1 + h2)] (f_i - f_(i-1)) / h1 + [h1 / (h1 + h2)] (f_(i+1) - f_i) / h2

    which is exact for quadratics. The two end points use the one-sided first-order
    differences ``(f_1 - f_0) / h`` and ``(f_n - f_(n-1)) / h``.

    **No spurious end peak.** Every value returned is a secant slope, or a convex
    combination of the two neighbouring secant slopes, and a secant slope is the mean
    of the true derivative over its interval. So no estimate exceeds the largest
    derivative of the underlying curve near that point: an end point cannot
    overshoot (as the second-order one-sided formula can, by extrapolating the
    curvature) and is the peak only when the derivative really is largest there
    (e.g. a monotonically increasing velocity). The price is first-order accuracy at
    the two end points only.

    A single time gives 0; two times give the one secant at both.
    """
    values = np.asarray(values, dtype=float)
    time = np.asarray(time, dtype=float)
    n = time.size
    if values.shape[0] != n:
        raise HimoError(f"time has {n} points but values have {values.shape[0]} along axis 0")
    if n < 2:
        return np.zeros_like(values)
    h = np.diff(time)
    if np.any(h <= 0):
        i = int(np.flatnonzero(h <= 0)[0])
        raise HimoError(f"planning time must increase strictly; t[{i}] = {time[i]!r}, t[{i + 1}] = {time[i + 1]!r}")
    shape = (-1,) + (1,) * (values.ndim - 1)
    secant = np.diff(values, axis=0) / h.reshape(shape)
    out = np.empty_like(values)
    out[0] = secant[0]
    out[-1] = secant[-1]
    if n > 2:
        h1, h2 = h[:-1].reshape(shape), h[1:].reshape(shape)
        out[1:-1] = (h2 * secant[:-1] + h1 * secant[1:]) / (h1 + h2)
    return out


def peak_time(velocity: np.ndarray, time: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """The time of the maximum of ``velocity`` along axis 0, refined between samples.

    The rule: take the global maximum over all stored times, the ends included (the
    earliest on ties). At an end point that time is the answer: with
    :func:`time_derivative` an end value is a plain secant, so an end wins only when
    the velocity really is largest there (a monotonically increasing velocity). At an
    interior maximum, the parabola through it and its two neighbours (uneven
    spacing allowed) locates the peak between the samples; its vertex always lies
    within the two neighbouring intervals. This removes ties that are only the
    resolution of the time grid. ``valid`` (one bool per column) marks the columns
    that have a peak; the others get NaN.
    """
    velocity = np.asarray(velocity, dtype=float)
    time = np.asarray(time, dtype=float)
    k = np.argmax(velocity, axis=0)
    out = time[k].astype(float)
    n = time.size
    flat = velocity.reshape(n, -1)
    kf, outf = k.reshape(-1), out.reshape(-1)
    for col in np.flatnonzero((kf > 0) & (kf < n - 1)):
        i = kf[col]
        outf[col] = parabola_vertex(time[i - 1:i + 2], flat[i - 1:i + 2, col])
    out = outf.reshape(k.shape) if k.ndim else float(outf[0])
    if valid is not None:
        out = np.where(valid, out, np.nan)
    return out


def parabola_vertex(t: np.ndarray, v: np.ndarray) -> float:
    """The time of the vertex of the parabola through three points whose middle is highest.

    Returns the middle time when the three points are collinear or not concave.
    """
    (t0, t1, t2), (v0, v1, v2) = t, v
    s1, s2 = (v1 - v0) / (t1 - t0), (v2 - v1) / (t2 - t1)
    curvature = (s2 - s1) / (t2 - t0)  # the parabola's leading coefficient
    if not curvature < 0:
        return float(t1)
    vertex = 0.5 * (t0 + t1) - s1 / (2 * curvature)
    return float(np.clip(vertex, t0, t2))


def priority(pd: np.ndarray, time: np.ndarray, min_pd: float = PRIORITY_MIN_PD) -> np.ndarray:
    """The priority of each state (Fig. 1D): the planning time at which dPD/dt peaks.

    NaN for a state whose PD never exceeds ``min_pd`` (its local policy never moves,
    e.g. a single-action state). Max-normalization does not move the peak, so this is
    also the peak of dPD~/dt.
    """
    pd = np.asarray(pd, dtype=float)
    return peak_time(time_derivative(pd, time), time, valid=pd.max(axis=0) > min_pd)


def half_time(pd: np.ndarray, time: np.ndarray, min_pd: float = PRIORITY_MIN_PD) -> np.ndarray:
    """The alternative priority: the planning time at which PD~ first reaches 1/2.

    PD~ = PD / max_t PD (Eq. 14) is followed from the start until the first stored
    time at which it is at least 1/2; between that time and the one before, PD~ is
    taken as linear, so the crossing is the linear interpolation

        t = t_(k-1) + (1/2 - PD~_(k-1)) / (PD~_k - PD~_(k-1)) (t_k - t_(k-1)).

    (At ``k = 0`` it is ``t_0``.) Unlike the peak of dPD/dt it needs no derivative,
    and a monotone change of clock leaves the order of these times unchanged. NaN
    where PD never exceeds ``min_pd``, as for :func:`priority`.
    """
    pd = np.asarray(pd, dtype=float)
    time = np.asarray(time, dtype=float)
    fraction = max_normalize(pd)
    valid = pd.max(axis=0) > min_pd
    k = np.argmax(fraction >= 0.5, axis=0)  # the first stored time at or past 1/2
    before = np.maximum(k - 1, 0)
    columns = np.arange(fraction.shape[1])
    f0, f1 = fraction[before, columns], fraction[k, columns]
    t0, t1 = time[before], time[k]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(k > 0, t0 + (0.5 - f0) / (f1 - f0) * (t1 - t0), time[0])
    return np.where(valid, crossing, np.nan)


# --------------------------------------------------------------- optimal path
def path_actions(mdp: MDP, policy: np.ndarray) -> np.ndarray:
    """``(n_states,)`` the pair each state takes on the optimal path: its most probable action.

    ``policy`` is ``(n_states, n_actions)``. Actions within
    :data:`~himo.tolerances.PATH_ACTION_ATOL` of the most probable one are tied
    (equally good actions keep equal probability under the policy flow, up to
    round-off), and ties go to the first in the order of the ``action`` coordinate
    (:func:`himo.solver.policy.state_argmax`), so that the choice does not depend on
    round-off.
    """
    pair_policy = np.asarray(policy, dtype=float)[mdp.pair_state, mdp.pair_action]
    return state_argmax(mdp, pair_policy, atol=PATH_ACTION_ATOL)


def optimal_path(mdp: MDP, policy: np.ndarray) -> list[int]:
    """The path from the start under ``policy`` followed deterministically.

    ``policy`` is ``(n_states, n_actions)``. Start in :attr:`~himo.mdp.MDP.path_start`
    (the start state; when paths start in several states, the most probable one,
    the first on ties). In each state take the most probable action
    (:func:`path_actions`), then its most probable successor (the only one in a
    deterministic MDP; ties to the first state). Stop before a state repeats (for
    example STOP at the goal). Returns the state indices in visiting order, start
    first.
    """
    action = path_actions(mdp, policy)
    P = mdp.P.tocsr()
    path, seen = [], set()
    s = mdp.path_start
    while s not in seen:
        path.append(s)
        seen.add(s)
        row = P.getrow(int(action[s]))
        s = int(row.indices[np.argmax(row.data)])
    return path


# ------------------------------------------------------------------ state graph
def state_graph(mdp: MDP) -> np.ndarray:
    """``(n_edges, 2)`` the undirected transition graph of ``P``, without self-loops.

    States ``i < k`` are joined when some action takes ``i`` to ``k`` or ``k`` to
    ``i`` with positive probability; each edge appears once, as ``(i, k)``, and the
    edges are sorted (by ``i``, then ``k``). A move that stays in place (STOP, a
    bump into a wall) is no edge.
    """
    reach = mdp.transition_graph().tocoo()  # some action, i -> k
    low, high = np.minimum(reach.row, reach.col), np.maximum(reach.row, reach.col)
    keys = np.unique((low * mdp.n_states + high)[low != high])
    return np.column_stack(np.divmod(keys, mdp.n_states)).astype(np.int64).reshape(-1, 2)


# ----------------------------------------------------------- the time series
@dataclass(frozen=True)
class Series:
    """A time series ``(iteration, state)`` of the measures: its attributes, and how it
    is computed from a stored one (``base``; None for PD and CD, which are stored)."""

    attrs: dict
    base: str | None = None
    normalized: bool = False
    derivative: bool = False


#: The time series of a measures dataset, by name. PD and CD are stored; the others
#: are computed from them and the planning time when read (:func:`time_series`), by the
#: functions that computed them when they were stored, so they are the same numbers.
TIME_SERIES = {
    "PD": Series({"long_name": "policy divergence KL(pi_t || pi_0) (Eq. 12)", "short_name": "PD", "units": "nats"}),
    "CD": Series({"long_name": "counter difference D^t_0s - D^0_0s (Eq. 13)", "short_name": "CD",
                  "units": "visits"}),
    "PD_norm": Series({"long_name": "normalized policy divergence PD / max_t PD (Eq. 14)", "short_name": "PD~",
                       "units": "1"}, "PD", normalized=True),
    "CD_norm": Series({"long_name": "normalized counter difference CD / max_t |CD| (Eq. 14)", "short_name": "CD~",
                       "units": "1"}, "CD", normalized=True),
    "dPD_dt": Series({"long_name": "policy divergence velocity dPD/dt", "short_name": "dPD/dt",
                      "units": "nats / planning time"}, "PD", derivative=True),
    "dCD_dt": Series({"long_name": "counter difference velocity dCD/dt", "short_name": "dCD/dt",
                      "units": "visits / planning time"}, "CD", derivative=True),
    "dPD_norm_dt": Series({"long_name": "normalized policy divergence velocity dPD~/dt", "short_name": "dPD~/dt",
                           "units": "1 / planning time"}, "PD", normalized=True, derivative=True),
    "dCD_norm_dt": Series({"long_name": "normalized counter difference velocity dCD~/dt", "short_name": "dCD~/dt",
                           "units": "1 / planning time"}, "CD", normalized=True, derivative=True),
}


def time_series(measures: xr.Dataset, name: str) -> xr.DataArray:
    """The time series ``name`` of a measures dataset (:data:`TIME_SERIES`), ``(iteration, state)``.

    PD and CD are read as stored; PD~ and CD~ are :func:`max_normalize` of them
    (CD~ by ``max_t |CD|``), and the velocities :func:`time_derivative` of PD, CD,
    PD~ or CD~ on the stored planning times, computed here from the stored float64
    values exactly as :func:`measures_dataset` once stored them: the same bits. Every
    reader (the figures, the claims, the tests) reads the series through this function.
    """
    if name not in TIME_SERIES:
        raise HimoError(f"no time series {name!r} in a measures dataset; the series are {', '.join(TIME_SERIES)}")
    recipe = TIME_SERIES[name]
    base = recipe.base or name
    if base not in measures.variables:
        raise HimoError(f"the measures dataset has no variable {base!r}, from which {name} is computed "
                        "(docs/CONTRACTS.md, 'Measures dataset')")
    stored = measures[base].transpose("iteration", "state")
    if base == name:
        return stored
    values = np.asarray(stored.values, dtype=float)
    if recipe.normalized:
        values = max_normalize(values, absolute=base == "CD")
    if recipe.derivative:
        values = time_derivative(values, np.asarray(measures["time"].values, dtype=float))
    return xr.DataArray(values, dims=stored.dims, coords=stored.coords, name=name, attrs=dict(recipe.attrs))


# ---------------------------------------------------------------------- dataset
def measures_dataset(trajectory: xr.Dataset, mdp: MDP) -> xr.Dataset:
    """The measures dataset of one run (``docs/CONTRACTS.md``).

    ``trajectory`` is a trajectory dataset (:mod:`himo.trajectory`) of a run on
    ``mdp``. Every trajectory attribute and the MDP's plotting metadata are copied,
    so that figures and claims need nothing else.
    """
    states = [str(s) for s in trajectory["state"].values]
    actions = [str(a) for a in trajectory["action"].values]
    if states != list(mdp.state_labels):
        raise HimoError("the trajectory's states are not the MDP's states (another MDP?)")
    if actions != list(mdp.action_labels):
        raise HimoError("the trajectory's actions are not the MDP's actions (another MDP?)")
    time = np.asarray(trajectory["time"].values, dtype=float)
    policy = np.asarray(trajectory["policy"].transpose("iteration", "state", "action").values, dtype=float)
    occupancy = np.asarray(trajectory["occupancy"].transpose("iteration", "state").values, dtype=float)
    prior = policy[0]

    pd = policy_divergence(policy, prior)
    cd = counter_difference(occupancy)
    prio = priority(pd, time)
    prio_half = half_time(pd, time)

    final = policy[-1]
    path = optimal_path(mdp, final)
    position = np.full(mdp.n_states, -1, dtype=np.int64)
    position[path] = np.arange(len(path))
    final_action = np.asarray(actions, dtype=object)[mdp.pair_action[path_actions(mdp, final)]].astype(str)
    edges = state_graph(mdp)

    it = ("iteration", "state")
    ds = xr.Dataset(
        {
            "PD": (it, pd, TIME_SERIES["PD"].attrs),
            "CD": (it, cd, TIME_SERIES["CD"].attrs),
            "priority": ("state", prio, {
                "long_name": "priority: planning time at which dPD/dt peaks (NaN: PD stays 0)",
                "units": "planning time",
                "rule": "global maximum of dPD/dt over the stored times (earliest on ties), refined by "
                        "the parabola through an interior maximum and its neighbours; "
                        f"NaN where max_t PD <= {PRIORITY_MIN_PD:g}",
            }),
            "priority_half": ("state", prio_half, {
                "long_name": "priority (alternative): planning time at which PD~ first reaches 1/2 "
                             "(NaN: PD stays 0)",
                "units": "planning time",
                "rule": "linear interpolation between the last stored time below 1/2 and the first at "
                        f"or above it; NaN where max_t PD <= {PRIORITY_MIN_PD:g}",
            }),
            "objective": ("iteration", np.asarray(trajectory["objective"].values, dtype=float),
                          {"long_name": "policy value R(A_t) (Eq. 6)", "units": "reward"}),
            "on_optimal_path": ("state", position >= 0, {
                "long_name": "state on the optimal path from the start under the converged policy",
                "rule": "from the start state (of several, the most probable, the first on ties): most probable "
                        "action, then most probable successor, until a state repeats",
            }),
            "optimal_path_position": ("state", position, {
                "long_name": "position on the optimal path (0 = start, -1 = off the path)", "units": "steps"}),
            "final_occupancy": ("state", occupancy[-1], {
                "long_name": "expected visits D_0s under the converged policy", "units": "visits"}),
            "final_action": ("state", final_action, {
                "long_name": "most probable action of the converged policy",
                "rule": f"ties within {PATH_ACTION_ATOL:g} to the first action: the action the optimal path takes"}),
            "final_max_probability": ("state", final.max(axis=1), {
                "long_name": "probability of the most probable action of the converged policy", "units": "1"}),
            "edge_source": ("edge", edges[:, 0], {
                "long_name": "state index of the edge's first state (the lower index)",
                "rule": "undirected transition graph of P without self-loops, each edge once, sorted"}),
            "edge_target": ("edge", edges[:, 1], {
                "long_name": "state index of the edge's second state (the higher index)"}),
        },
        coords={
            "iteration": ("iteration", np.asarray(trajectory["iteration"].values),
                          {"long_name": "iteration"}),
            "time": ("iteration", time, {"long_name": "planning time", "units": "planning time"}),
            "state": ("state", states, {"long_name": "state"}),
        },
    )
    ds = ds.merge(order_variables(mdp, _foresight(trajectory), time, position >= 0,
                                  {"priority": prio, "priority_half": prio_half}, initial_policy(trajectory, mdp)))
    ds = ds.merge(metadata_variables(mdp)).merge(start_variables(mdp))  # named as in the MDP file
    ds.attrs = {name: value for name, value in trajectory.attrs.items() if name != "start_state"}
    ds.attrs.update(start_attrs(mdp))
    ds.attrs["optimal_path"] = " ".join(mdp.state_labels[s] for s in path)
    ds.attrs["measures_title"] = f"HIMO measures (paper section 4) of: {trajectory.attrs.get('title', mdp.name)}"
    return ds


def order_variables(mdp: MDP, lam: float, time: np.ndarray, on_path: np.ndarray,
                    priorities: dict[str, np.ndarray], initial: np.ndarray) -> xr.Dataset:
    """The run's orders against the dynamic-programming order (docs/MATH.md, identity 9)
    and the orders of the action gaps (section 10).

    ``dp_priority`` (the sweep of value iteration from ``V = 0`` from which each
    state's greedy action is final, at the run's foresight ``lam``) and
    ``goal_distance`` and ``n_optimal_actions`` (how many actions tie for the best
    at the optimum); then, for each priority definition ``name`` in
    ``priorities`` (``priority``, ``priority_half``): ``<name>_rank`` (the on-path
    ranks: how many on-path priorities precede it by the time grid's resolution
    between the two, :func:`himo.measures.orders.path_ranks`) and the 0-d
    ``kendall_tau_dp`` (for ``priority``) or ``kendall_tau_dp_half`` (for
    ``priority_half``), Kendall's tau-b between the on-path priorities and
    ``dp_priority``, with the resolution used among its attributes; and
    ``priority_normalized``, the paper's priorities normalized per run
    (:func:`himo.measures.orders.normalized_times`).

    The mechanism's measures: ``optimal_gap`` (:func:`himo.solver.value_iteration.optimal_gap`
    at ``lam``) and ``prior_rate`` (:func:`prior_rate` of the run's ``initial`` policy,
    ``(n_pairs,)``), each with its 0-d Kendall's tau-b between the on-path
    ``priority`` order and the order of decreasing value (:func:`gap_order`),
    ``kendall_tau_gap`` and ``kendall_tau_prior``, compared exactly as
    ``kendall_tau_dp`` is (:func:`gap_tau`).
    """
    from himo.measures.orders import compare_orders
    from himo.solver.value_iteration import dp_order, goal_distance, optimal_gap, optimal_pairs, value_iteration

    optimum = value_iteration(mdp, lam)
    dp = dp_order(mdp, lam, optimum=optimum)
    tie = action_value_atol(mdp, lam)
    rates = {"optimal_gap": optimal_gap(mdp, lam, optimum=optimum), "prior_rate": prior_rate(mdp, initial, lam)}
    variables = {
        "dp_priority": ("state", dp.astype(np.int64), {
            "long_name": "DP priority: the value-iteration sweep from which the state's greedy action is final",
            "units": "sweeps",
            "rule": f"value iteration from V = 0 at foresight {lam:g} (docs/MATH.md, identity 9)"}),
        "goal_distance": ("state", goal_distance(mdp).astype(np.int64), {
            "long_name": "fewest steps to the goal (-1: no goal reachable)", "units": "steps"}),
        "n_optimal_actions": ("state", np.bincount(mdp.pair_state, weights=optimal_pairs(mdp, lam, optimum),
                                                   minlength=mdp.n_states).astype(np.int64), {
            "long_name": "number of optimal actions (tied at the optimum: the flow keeps them equally likely)",
            "rule": f"Q* of value iteration at foresight {lam:g}; actions within {tie:.3g} of the best"}),
        "optimal_gap": ("state", rates["optimal_gap"], {
            "long_name": "optimal-action gap V*_i - max over non-optimal actions of Q*_ij "
                         "(NaN: every action optimal)",
            "units": "reward",
            "rule": f"Q* of value iteration at foresight {lam:g}; actions within {tie:.3g} "
                    "of the best are optimal (docs/MATH.md, section 10)"}),
        "prior_rate": ("state", rates["prior_rate"], {
            "long_name": "prior rate: d/dt log(pi_best / (1 - pi_best)) at t = 0, the initial policy's "
                         "pi0-weighted mean of Q0_best - Q0_ik over the other actions (0: all actions tied; "
                         "NaN: a single action)",
            "units": "reward",
            "rule": f"Q0 by exact evaluation of the first stored policy at foresight {lam:g}; actions within "
                    f"{tie:.3g} of the best are best (docs/MATH.md, section 10)"}),
    }
    for name, values in priorities.items():
        compared = compare_orders(values, on_path, dp, time)
        suffix = name.removeprefix("priority")
        variables[f"{name}_rank"] = ("state", compared.ranks, {
            "long_name": f"rank of the on-path {name} (0 = earliest; -1 off the path or no priority)",
            "rule": "the number of on-path priorities earlier by at least the widest spacing of the time grid "
                    "between the two (at most the resolution); closer priorities are tied "
                    "(himo.measures.orders.precedes)",
            "resolution": compared.resolution})
        variables[f"kendall_tau_dp{suffix}"] = ((), compared.tau, tau_attributes(name, "dp_priority", compared))
        if name == "priority":
            variables["priority_normalized"] = ("state", compared.normalized, {
                "long_name": "on-path priority normalized per run: (p - first) / (last - first) over the path",
                "units": "1"})
            variables["kendall_tau_gap"] = gap_tau(values, on_path, time, "optimal_gap", rates["optimal_gap"], tie)
            variables["kendall_tau_prior"] = gap_tau(values, on_path, time, "prior_rate", rates["prior_rate"], tie)
    return xr.Dataset(variables)


def gap_tau(priorities: np.ndarray, on_path: np.ndarray, time: np.ndarray, reference: str, rate: np.ndarray,
            tie: float) -> tuple:
    """The 0-d variable of Kendall's tau-b between the on-path ``priorities`` and the
    order of decreasing ``rate`` (a gap or a rate, named ``reference``; :func:`gap_order`
    with ``tie``), compared by :func:`himo.measures.orders.compare_orders` as
    ``kendall_tau_dp`` is."""
    from himo.measures.orders import compare_orders

    compared = compare_orders(priorities, on_path, gap_order(rate, tie), time)
    return ((), compared.tau, dict(
        tau_attributes("priority", reference, compared),
        reference_order=f"decreasing {reference} (the largest first); values within {tie:.3g} tied; "
                        "states without a value (NaN) left out"))


def prior_rate(mdp: MDP, initial: np.ndarray, lam: float) -> np.ndarray:
    """``(n_states,)`` the prior's rate: how fast the natural flow starts to pull each
    state's best action away from the others (docs/MATH.md, section 10).

    ``initial`` is the run's initial policy ``pi0``, ``(n_pairs,)`` (the uniform prior of
    Eq. 22 unless the run started elsewhere), ``Q0`` its action values at foresight
    ``lam`` (:func:`himo.solver.evaluation.evaluate`), ``B`` the state's best actions
    (within :func:`himo.tolerances.action_value_atol` of the largest ``Q0``:
    :func:`himo.solver.value_iteration.best_pairs`, the tie rule of ``optimal_gap``).
    The rate is that of the best actions' log-odds at ``t = 0``,

        d/dt log(pi_B / (1 - pi_B)) = sum over k not in B of pi0_ik (Q0_iB - Q0_ik) / (1 - pi0_iB),

    by identity 10 the ``pi0``-weighted mean of the rates ``Q0_iB - Q0_ik`` of the
    log-ratios against the other actions (equivalently ``(Q0_iB - V0_i) / (1 - pi0_iB)``;
    under the uniform prior, the largest advantage times ``n_i / (n_i - 1)``). Computed
    from the shortfalls ``Q0_iB - Q0_ik >= 0``, free of the cancellation in ``Q - V``.
    0 where the state's actions all tie under ``Q0`` (the prior does not move it: every
    log-ratio starts at rate 0, within the tolerance); NaN for a single-action state,
    which has no decision to make.
    """
    from himo.solver.evaluation import evaluate
    from himo.solver.policy import state_max, state_sums
    from himo.solver.value_iteration import best_pairs

    initial = np.asarray(initial, dtype=float)
    q = evaluate(mdp, initial, lam).q
    shortfall = state_max(mdp, q)[mdp.pair_state] - q
    others = np.where(best_pairs(mdp, q, action_value_atol(mdp, lam)), 0.0, initial)  # pi0 off the best actions
    mass = state_sums(mdp, others)  # 1 - pi0_B; 0 where every action is best
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(mass > 0, state_sums(mdp, others * shortfall) / mass, 0.0)
    return np.where(mdp.actions_per_state > 1, rate, np.nan)


def initial_policy(trajectory: xr.Dataset, mdp: MDP) -> np.ndarray:
    """``(n_pairs,)`` the run's initial policy: the trajectory's policy at iteration 0
    (always stored, whatever the thinning: :mod:`himo.trajectory`)."""
    first = int(trajectory["iteration"].values[0])
    if first != 0:
        raise HimoError(f"the trajectory's first stored iteration is {first}, not 0: its initial policy is missing")
    policy = np.asarray(trajectory["policy"].isel(iteration=0).transpose("state", "action").values, dtype=float)
    return policy[mdp.pair_state, mdp.pair_action]


def gap_order(gap: np.ndarray, tie: float) -> np.ndarray:
    """``(n_states,)`` the order of decreasing gap (``optimal_gap``) or rate (``prior_rate``)
    as ranks (0 = the largest): each state's rank is the number of values larger than
    its own by more than ``tie``, so values within ``tie`` of each other are tied
    (round-off makes no order; like :func:`himo.measures.orders.precedes`, ties do not
    chain); NaN where the value is NaN (left out of a comparison)."""
    gap = np.asarray(gap, dtype=float)
    ranks = np.full(gap.size, np.nan)
    finite = np.flatnonzero(np.isfinite(gap))
    larger = gap[finite][:, None] - gap[finite][None, :] > tie  # [i, j]: gap i exceeds gap j beyond tie
    ranks[finite] = larger.sum(axis=0)
    return ranks


def tau_attributes(name: str, reference: str, compared) -> dict:
    """The attributes of a stored Kendall tau: what was compared, and the comparison's
    resolution and counts (a :class:`himo.measures.orders.OrderComparison`)."""
    return {
        "long_name": f"Kendall tau-b between the on-path {name} order and {reference}",
        "units": "1",
        "priority": name,
        "reference": reference,
        "resolution": compared.resolution,
        "resolution_rule": "the widest spacing of the stored time grid over the window of the on-path "
                           "priorities (the step size when no step was halved and nothing thinned): the "
                           "coarsest at which two of them are compared, each pair at the widest spacing "
                           "between the two (himo.measures.orders.precedes)",
        "n_compared": compared.n_compared,
        "n_tie_groups": compared.n_groups,
        "nan_when": "fewer than two on-path states with a priority, or either order ties every pair"}


def _foresight(trajectory: xr.Dataset) -> float:
    """The run's foresight lambda (the trajectory attribute ``foresight``)."""
    if "foresight" not in trajectory.attrs:
        raise HimoError("the trajectory has no attribute 'foresight' (not written by 'himo solve'?)")
    return float(trajectory.attrs["foresight"])

"""The trajectory dataset: everything one HIMO run computes, self-described.

Dimensions and coordinates
    ``iteration``  0 is the prior; after N steps it runs 0..N when the run fits its
                   storage budget, else it holds the iterations the thinning kept
                   (always the first and the last; see "Storage" below)
    ``time``       (on ``iteration``) planning time, the sum of the steps taken
    ``state``, ``action``  labels; ``action`` is the MDP's whole action vocabulary
    ``snapshot``   the iteration numbers at which ``C`` and ``I`` are stored
    ``pair``, ``pair2``    the available pairs, labelled ``"<state>|<action>"``,
                   ordered state-major and, within a state, in the order of
                   ``action`` (two dimensions with the same labels, for the rows and
                   the columns of ``C``); ``pair_state`` and ``pair_action`` give
                   their parts
    ``free``, ``free2``    the free pairs (all pairs but each state's dependent
                   action), in the same order, for ``I``; with the ``argmax`` rule
                   the dependent actions move, and ``free`` is that of the last
                   snapshot (``I`` at other snapshots is over their own free pairs,
                   in the same positions)

Data variables
    ``policy(iteration, state, action)`` (0 where an action is unavailable),
    ``objective(iteration)`` (R(A) = p0 . V, V(s_0) for one start state, Eq. 6),
    ``occupancy(iteration, state)`` (D_0s), ``step_size(iteration)``, ``flow_speed(iteration)``,
    ``available(state, action)``, ``dependent_action(state)`` (``(iteration, state)``
    for the ``argmax`` rule: the action chosen from that iteration's policy, which
    its step and its snapshot of ``I`` use), stored as the action's position along
    the ``action`` coordinate, an integer (the labels once, in ``action``;
    :func:`dependent_action_labels` reads them back),
    ``optimal_value(state)`` and ``optimal_policy(state, action)`` from value
    iteration, ``start_distribution(state)`` when paths start in several states
    (else the attribute ``start_state``, as in the MDP file), and, where stored, ``C(snapshot, pair, pair2)``,
    ``mean_counts(snapshot, pair)`` and ``I(snapshot, free, free2)``; for a log-linear run
    (``himo.solve(features=...)``) ``theta(iteration, feature)``, with the features' names
    as the coordinate ``feature``.

Log-linear runs (attributes)
    ``features`` what the features are (a registered feature set's name, a file,
    ``array``), ``n_features``, ``parametrization``; ``convergence_rule`` then names the
    compatible advantage (docs/MATH.md, identity 12).

Storage (attributes, see :mod:`himo.solver.storage`)
    ``storage_budget`` the setting (MB, with the other settings), ``storage_capacity``
    how many iterations of this MDP it holds, ``n_iterations`` how many steps the run
    took, ``n_stored`` how many iterations are stored, ``thinning_passes`` how often the
    stored ones were thinned, ``storage_measured_dropped`` how many of the iterations
    that the states' measures read a thinning had to drop for want of room (0: all kept,
    so the priorities are the unthinned run's; docs/MATH.md, section 7), ``storage_rule`` the rule in words and
    ``stored_iterations`` a sentence on what was kept. Planning time (``time``) counts
    every step taken, stored or not, and ``step_size`` is the step taken to reach each
    stored iteration.

Linear solves (attributes, see :mod:`himo.solver.linear`)
    ``linear_solver`` the setting (with the other settings), ``linear_solver_used`` what ran (``direct``,
    ``iterative``, or ``iterative+direct`` when some solves fell back),
    ``linear_solves`` how many systems each solved, ``linear_fallbacks``, and, when
    the iterative solver ran, ``linear_worst_residual`` (the largest relative
    residual of its solutions), ``linear_residual_bound`` and ``linear_residual_rule``.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import xarray as xr

from himo.mdp import MDP, pair_labels
from himo.mdpfile import start_attrs, start_variables
from himo.provenance import netcdf_attrs, package_versions
from himo.solver.counters import counter_correlations, fisher_information
from himo.solver.features import Features
from himo.solver.linear import RESIDUAL_BOUND
from himo.solver.loop import Run
from himo.solver.policy import free_pairs, score_projection, to_state_action
from himo.solver.settings import SolverSettings
from himo.solver.steps import STATE_AVERAGED_METHODS, convergence_rule
from himo.solver.storage import KEPT_AT_END, MIN_CAPACITY, PEAK_NEIGHBOURS, THINNED_FRACTION, raised_budget_note
from himo.solver.value_iteration import Optimum

#: Above this many pairs, the dense C and I are not stored (nor computed).
COUNTER_PAIR_LIMIT = 3000
#: The storage rule in words (the attribute ``storage_rule``; :mod:`himo.solver.storage`).
STORAGE_RULE = (
    "every iteration while the stored ones fit storage_budget (storage_capacity iterations, at least "
    f"{MIN_CAPACITY}); when full, thinned to {THINNED_FRACTION:g} of the capacity, keeping the first, the last "
    f"{KEPT_AT_END} and, for each state, the stored iterations its measures read (its peak of dPD/dt with "
    f"{PEAK_NEIGHBOURS} on each side, the two around PD~ reaching 1/2, the maxima of PD and |CD|), and dropping one "
    "at a time the iteration whose kept neighbours' policies differ least (max |pi(next) - pi(previous)|)"
)
#: The attribute of a solver setting whose name differs from the setting's.
SETTING_ATTRIBUTES = {"lam": "foresight", "dependent": "dependent_rule"}


def snapshot_positions(n_stored: int, between: int) -> np.ndarray:
    """Positions among the stored iterations: the first, the last, ``between`` evenly between."""
    return np.unique(np.round(np.linspace(0, n_stored - 1, between + 2)).astype(int))


def trajectory_dataset(
    mdp: MDP,
    run: Run,
    settings: SolverSettings,
    optimum: Optimum,
    snapshots_between: int = 3,
    store_counters: bool | None = None,
    provenance: dict | None = None,
    features: Features | None = None,
) -> xr.Dataset:
    """Assemble the dataset of one run; ``store_counters=None`` decides by size; ``features``
    are a log-linear run's (:mod:`himo.solver.features`), whose ``theta`` is stored."""
    iteration = np.asarray(run.iteration)
    ds = xr.Dataset(
        {
            "policy": (("iteration", "state", "action"), stored_policies(mdp, run.policy),
                       {"long_name": "policy pi(a|s)", "units": "1"}),
            "objective": ("iteration", np.asarray(run.objective),
                          {"long_name": "policy value R(A)", "units": "reward"}),
            "occupancy": (("iteration", "state"), np.array(run.occupancy),
                          {"long_name": "expected visits D_0s", "units": "visits"}),
            "step_size": ("iteration", np.asarray(run.step_size),
                          {"long_name": "step size taken to reach this iteration", "units": "planning time"}),
            "flow_speed": ("iteration", np.asarray(run.flow_speed),
                           {"long_name": _flow_speed_name(settings.method), "units": "1 / planning time"}),
            "available": (("state", "action"), mdp.available(), {"long_name": "action available"}),
            "dependent_action": _dependent_variable(mdp, run, settings),
            "optimal_value": ("state", optimum.value, {"long_name": "optimal value V*", "units": "reward"}),
            "optimal_policy": (("state", "action"), to_state_action(mdp, optimum.greedy),
                               {"long_name": "greedy optimal policy (value iteration)", "units": "1"}),
        },
        coords={
            "iteration": ("iteration", iteration, {"long_name": "iteration"}),
            "time": ("iteration", np.asarray(run.time), {"long_name": "planning time", "units": "planning time"}),
            "state": ("state", list(mdp.state_labels), {"long_name": "state"}),
            "action": ("action", list(mdp.action_labels), {"long_name": "action"}),
        },
    )
    ds = ds.merge(start_variables(mdp))
    if features is not None:
        ds = ds.merge(feature_variables(run, features))
    asked = store_counters
    if store_counters is None:
        store_counters = mdp.n_pairs <= COUNTER_PAIR_LIMIT
    if store_counters:
        ds = ds.merge(counter_snapshots(mdp, run, settings, snapshot_positions(len(iteration), snapshots_between)))
        counters_note = "stored"
    elif asked is None:
        counters_note = (
            f"not stored: the dense C would be {mdp.n_pairs} x {mdp.n_pairs} "
            f"(limit {COUNTER_PAIR_LIMIT} pairs); C, mean_counts and I are left out"
        )
    else:
        counters_note = "not stored: store_counters=False was asked for; C, mean_counts and I are left out"
    n_run = run.n_iterations + 1
    if len(iteration) < n_run:
        stored_note = (
            f"{len(iteration)} of the {n_run} iterations 0..{run.n_iterations} are stored: the run outgrew its "
            f"storage budget of {settings.storage_budget:g} MB ({run.capacity} iterations) and was thinned "
            f"{run.thinning_passes} time(s) by storage_rule; policy, occupancy, objective, step_size and "
            f"flow_speed of the others are left out, and planning time (coordinate time) still counts every step"
        )
    else:
        stored_note = f"all {n_run} iterations are stored"
    ds.attrs = netcdf_attrs(
        {
            "title": f"HIMO trajectory on {mdp.attrs.get('title', mdp.name)}",
            "environment": mdp.name,
            **start_attrs(mdp),
            **settings_attributes(settings),
            "converged": run.converged,
            "stop_reason": run.stop_reason,
            "n_iterations": run.n_iterations,
            "optimal_objective": optimum.objective,
            "counters": counters_note,
            "stored_iterations": stored_note,
            "n_stored": len(iteration),
            "storage_capacity": run.capacity,
            "storage_note": raised_budget_note(mdp, settings.storage_budget),
            "thinning_passes": run.thinning_passes,
            "storage_measured_dropped": run.measured_dropped,
            "storage_rule": STORAGE_RULE,
            "stop_note": run.stop_note,
            "convergence_rule": convergence_rule(settings.method) if features is None else FEATURE_CONVERGENCE_RULE,
            **({} if features is None else feature_attrs(features)),
            **linear_solve_attrs(run),
            **{f"env_{k}": v for k, v in mdp.attrs.items() if k != "title"},
            **package_versions(),
            **(provenance or {}),
        }
    )
    return ds


#: The convergence test of a log-linear run (:func:`himo.solver.steps.rest_test` on its compatible advantage).
FEATURE_CONVERGENCE_RULE = ("max_ij (phi_ij - phibar_i) . w <= tol (1 - lambda) max(|R(A)|, 1e-3 max |V|), "
                            "w = I_theta^+ g_theta (the compatible advantage in place of Q_ij - V_i)")


def feature_variables(run: Run, features: Features) -> xr.Dataset:
    """``theta(iteration, feature)``, the log-linear policy's parameters at each stored iteration,
    with the features' names as the ``feature`` coordinate."""
    return xr.Dataset(
        {"theta": (("iteration", "feature"), np.array(run.theta),
                   {"long_name": "log-linear policy parameters theta, pi ~ exp(phi . theta)", "units": "1"})},
        coords={"feature": ("feature", list(features.names), {"long_name": "feature"})},
    )


def feature_attrs(features: Features) -> dict:
    """The attributes of a log-linear run: which features, how many."""
    return {"features": features.source, "n_features": features.n_features,
            "parametrization": "log-linear: pi_ij ~ exp(phi_ij . theta), theta = 0 at iteration 0"}


def linear_solve_attrs(run: Run) -> dict:
    """Which linear solver ran and, for the iterative one, its worst residual (see
    :mod:`himo.solver.linear`; the setting itself is ``linear_solver``, with the others)."""
    record = run.linear
    attrs = {
        "linear_solver_used": record.used,
        "linear_solves": record.summary(),
        "linear_fallbacks": record.fallback,
    }
    if record.worst_residual is not None:
        attrs["linear_worst_residual"] = record.worst_residual
        attrs["linear_residual_bound"] = RESIDUAL_BOUND
        attrs["linear_residual_rule"] = (
            "relative residual of A = I - lam T: |r_pi - A V|_inf / |r_pi|_inf (values), |p0 - A^T d|_1 (occupancy)"
        )
    return attrs


def settings_attributes(settings: SolverSettings) -> dict:
    """Every solver setting as a dataset attribute, named as in :data:`SETTING_ATTRIBUTES`
    (``lam`` is recorded as ``foresight``, ``dependent`` as ``dependent_rule``)."""
    return {SETTING_ATTRIBUTES.get(f.name, f.name): getattr(settings, f.name) for f in fields(settings)}


def stored_policies(mdp: MDP, policies: list[np.ndarray]) -> np.ndarray:
    """``(n_stored, n_states, n_actions)`` the stored pair policies in the dense layout
    (:func:`~himo.solver.policy.to_state_action`), filled in blocks of about 32 MB, so
    that no second copy of them all is made on the way."""
    out = np.zeros((len(policies), mdp.n_states, mdp.n_actions))
    rows = max(1, 2**22 // max(mdp.n_pairs, 1))
    for start in range(0, len(policies), rows):
        out[start:start + rows, mdp.pair_state, mdp.pair_action] = np.asarray(policies[start:start + rows])
    return out


def action_index_dtype(n_actions: int) -> np.dtype:
    """The smallest signed integer type that holds the positions ``0..n_actions - 1``."""
    return np.dtype(next(t for t in (np.int8, np.int16, np.int32, np.int64) if n_actions - 1 <= np.iinfo(t).max))


def _dependent_variable(mdp: MDP, run: Run, settings: SolverSettings) -> tuple:
    """``dependent_action(state)`` for a fixed rule, ``(iteration, state)`` for ``argmax``:
    each state's dependent action as its position along ``action``."""
    attrs = {"long_name": "dependent action (Eq. 4), as its position along the action coordinate",
             "rule": settings.dependent, "index_of": "action"}
    dtype = action_index_dtype(mdp.n_actions)
    if settings.dependent == "argmax":
        return ("iteration", "state"), mdp.pair_action[np.asarray(run.dependent_history)].astype(dtype), attrs
    return "state", mdp.pair_action[run.dependent].astype(dtype), attrs


def dependent_action_labels(trajectory: xr.Dataset) -> xr.DataArray:
    """``dependent_action`` with each position replaced by its label along ``action``
    (same dimensions and coordinates)."""
    stored = trajectory["dependent_action"]
    return stored.copy(data=np.asarray(trajectory["action"].values)[np.asarray(stored.values)])


def counter_snapshots(mdp: MDP, run: Run, settings: SolverSettings, positions: np.ndarray) -> xr.Dataset:
    """``C``, ``<n>`` and ``I`` at the stored iterations ``positions``, recomputed exactly."""
    C_all, n_all, I_all = [], [], []
    for pos in positions:
        policy, dependent = run.policy[pos], run.dependent_history[pos]
        C, n = counter_correlations(mdp, policy, settings.lam, settings.e_form)
        C_all.append(C)
        n_all.append(n)
        I_all.append(fisher_information(C, score_projection(mdp, policy, dependent)))
    free = free_pairs(mdp, run.dependent_history[positions[-1]])
    all_pairs = np.arange(mdp.n_pairs)
    labels, free_labels = pair_labels(mdp, all_pairs), pair_labels(mdp, free)
    snapshot = np.asarray(run.iteration)[positions]
    return xr.Dataset(
        {
            "C": (("snapshot", "pair", "pair2"), np.array(C_all),
                  {"long_name": "counter correlations <n_ij n_kl>", "units": "counts^2"}),
            "mean_counts": (("snapshot", "pair"), np.array(n_all),
                            {"long_name": "mean counts <n_ij>", "units": "counts"}),
            "I": (("snapshot", "free", "free2"), np.array(I_all).reshape(len(positions), free.size, free.size),
                  {"long_name": "Fisher information (Eq. 19)", "units": "counts^2"}),
        },
        coords={
            "snapshot": ("snapshot", snapshot, {"long_name": "iteration of the snapshot"}),
            "pair": ("pair", labels), "pair2": ("pair2", labels),
            "free": ("free", free_labels), "free2": ("free2", free_labels),
            "pair_state": ("pair", [mdp.state_labels[s] for s in mdp.pair_state]),
            "pair_action": ("pair", [mdp.action_labels[a] for a in mdp.pair_action]),
        },
    )


def _flow_speed_name(method: str) -> str:
    """What ``flow_speed`` measures for a run of ``method`` (the convergence test's speed)."""
    return "max |D_0i pi (Q - V)|" if method in STATE_AVERAGED_METHODS else "max |pi (Q - V)|"

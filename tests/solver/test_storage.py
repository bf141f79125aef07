"""The storage budget (himo.solver.storage): what a run keeps, what it drops, and that
the measures of a thinned run are those of the whole run."""

from __future__ import annotations

import math

import numpy as np
import pytest

import himo
from himo.measures.dataset import measures_dataset, policy_divergence
from himo.measures.orders import pair_resolution
from himo.solver import loop, storage
from himo.solver.loop import SolverSettings, run_himo
from himo.solver.policy import to_state_action
from himo.solver.storage import iteration_bytes, measured_positions, storage_capacity, thinned_positions
from himo.solver.value_iteration import value_iteration
from himo.trajectory import trajectory_dataset

#: The settings of the workflow's paper runs (config/config.yaml), by the natural method.
PAPER = dict(lam=0.9, method="natural", step=0.1, step_rule="fixed", max_iter=3000, tol=1e-6, dependent="argmax")


def budget_for(mdp, iterations: float) -> float:
    """The storage budget (MB) that holds ``iterations`` iterations of ``mdp``."""
    return iterations * iteration_bytes(mdp) / storage.MB


# ----------------------------------------------------------------- the budget
def test_an_iteration_counts_at_least_what_the_run_and_the_file_hold(random_mdp):
    mdp = random_mdp(seed=1, action_counts=(3, 1, 2, 4))  # uneven: n_pairs < n_states n_actions
    settings = SolverSettings(lam=0.85, step=0.5, max_iter=6)
    run = run_himo(mdp, settings)
    held = run.policy[0].nbytes + 2 * run.occupancy[0].nbytes + run.dependent_history[0].nbytes + 8 * 5  # and PD
    ds = trajectory_dataset(mdp, run, settings, value_iteration(mdp, 0.85), store_counters=False)
    per_iteration = [ds[name] for name in ds.variables if "iteration" in ds[name].dims]
    in_file = sum(var.nbytes for var in per_iteration) / ds.sizes["iteration"]
    assert len(per_iteration) == 8  # policy, occupancy, dependent_action and five numbers (iteration, time, ...)
    assert iteration_bytes(mdp) >= held and iteration_bytes(mdp) >= in_file
    assert iteration_bytes(mdp) == 8 * (4 * 5 + 3 * 4 + 5)
    assert storage_capacity(mdp, 1.0) == math.floor(1e6 / iteration_bytes(mdp))
    for n in (16, 17, 1000, 12345):  # a budget of n iterations holds n, whatever the rounding of the MB
        assert storage_capacity(mdp, budget_for(mdp, n)) == n


def test_a_budget_below_the_fewest_iterations_keeps_the_fewest_and_says_so(hanoi):
    """A budget that holds fewer than MIN_CAPACITY iterations (even the default does, on a
    500 x 500 grid) is raised to that many, not refused, and the trajectory says so."""
    enough = budget_for(hanoi, storage.MIN_CAPACITY)
    assert storage.least_budget(hanoi) == enough and storage_capacity(hanoi, enough) == storage.MIN_CAPACITY
    assert storage_capacity(hanoi, 0.99 * enough) == storage_capacity(hanoi, 1e-9) == storage.MIN_CAPACITY
    assert storage.raised_budget_note(hanoi, enough) == ""
    run = himo.solve(hanoi, lam=0.9, step=0.1, step_rule="fixed", tol=1e-5, storage_budget=0.5 * enough)
    assert run.attrs["storage_capacity"] == storage.MIN_CAPACITY and run.attrs["stop_reason"] == "converged"
    assert run.sizes["iteration"] <= storage.MIN_CAPACITY
    assert run.attrs["storage_note"].startswith(f"storage_budget {0.5 * enough:g} MB holds fewer than 16 iterations")
    assert himo.solve(hanoi, max_iter=2).attrs["storage_note"] == ""


def test_a_run_keeps_every_iteration_within_its_budget_and_the_full_runs_where_thinned(hanoi, monkeypatch):
    """A run that fits keeps every iteration; a longer one never holds more than its
    capacity, keeps the first and the last, and what it keeps is the full run's."""
    settings = SolverSettings(**PAPER)
    full = run_himo(hanoi, settings)
    n = len(full.iteration)
    assert full.iteration == list(range(n)) and full.thinning_passes == 0
    assert full.capacity == storage_capacity(hanoi, settings.storage_budget) > n
    held = []

    def spy(mdp, policies, *args):
        held.append(len(policies))
        return thinned_positions(mdp, policies, *args)

    monkeypatch.setattr(loop, "thinned_positions", spy)
    small = SolverSettings(**PAPER, storage_budget=budget_for(hanoi, 40.5))
    thin = run_himo(hanoi, small)
    assert thin.capacity == 40 and thin.thinning_passes == len(held) > 1 and set(held) == {40}
    assert len(thin.iteration) <= 40 and thin.iteration[0] == 0 and thin.iteration[-1] == n - 1
    assert thin.n_iterations == full.n_iterations and thin.stop_reason == full.stop_reason
    for k, it in enumerate(thin.iteration):
        for name in set(loop.STORED_SERIES) - {"divergence"}:  # (PD: computed by the passes only)
            assert np.array_equal(getattr(thin, name)[k], getattr(full, name)[it]), (name, it)
    # PD, computed once per stored iteration by the passes, is Eq. 12 of its policy
    pd = policy_divergence(to_state_action(hanoi, np.asarray(thin.policy)), to_state_action(hanoi, thin.policy[0]))
    assert any(row is not None for row in thin.divergence)
    for k, row in enumerate(thin.divergence):
        assert row is None or np.array_equal(row, pd[k]), k
    ds = trajectory_dataset(hanoi, thin, small, value_iteration(hanoi, 0.9), store_counters=False)
    assert ds.attrs["n_stored"] == len(thin.iteration) and ds.attrs["storage_capacity"] == 40
    assert ds.attrs["thinning_passes"] == thin.thinning_passes and ds.attrs["n_iterations"] == n - 1
    assert ds.attrs["stored_iterations"].startswith(f"{len(thin.iteration)} of the {n} iterations")
    assert ds.attrs["storage_budget"] == small.storage_budget and "dPD/dt" in ds.attrs["storage_rule"]


# ------------------------------------------------------------------ the rule
def brute_force_drops(policies, protected, count):
    """The rule by its definition: ``count`` times, over every droppable position, the
    largest probability change between its alive neighbours; drop the smallest (the
    earliest on ties)."""
    alive = [True] * len(policies)
    for _ in range(count):
        best = None
        for k in range(1, len(policies) - 1):
            if not alive[k] or protected[k]:
                continue
            before = max(j for j in range(k) if alive[j])
            after = min(j for j in range(k + 1, len(policies)) if alive[j])
            cost = np.max(np.abs(policies[after] - policies[before]))
            if best is None or cost < best[0]:
                best = (cost, k)
        if best is None:
            break
        alive[best[1]] = False
    return np.flatnonzero(alive)


@pytest.mark.parametrize("seed", range(5))
def test_dropping_follows_the_rule(seed):
    rng = np.random.default_rng(seed)
    steps = rng.random((60, 7)) ** 4 * rng.choice([1e-3, 1.0], size=(60, 1))  # still and moving stretches
    policies = list(np.cumsum(steps, axis=0))
    protected = rng.random(60) < 0.2
    alive = np.ones(60, dtype=bool)
    storage._drop_least_moving(policies, alive, ~protected, 25)
    assert np.array_equal(np.flatnonzero(alive), brute_force_drops(policies, protected, 25))


def test_thinning_drops_where_the_policy_stands_still(hanoi):
    """A run that has converged stands still: a thinning drops its tail, not the
    stretch where the policy moves."""
    run = run_himo(hanoi, SolverSettings(**PAPER))
    moving = np.flatnonzero(np.abs(np.diff(np.asarray(run.objective))) > 1e-6 * abs(run.objective[-1]))[-1]
    kept, dropped = thinned_positions(hanoi, run.policy, run.occupancy, run.divergence, run.time, moving + 20)
    assert dropped == 0 and kept.size == moving + 20
    assert np.array_equal(kept[:moving], np.arange(moving))
    assert kept[-1] == len(run.policy) - 1


def test_thinning_keeps_the_positions_each_states_measures_read(hanoi):
    """The positions of each state's PD-velocity peak (two on each side), its PD~
    crossing of 1/2 and the maxima of PD and |CD|, as the measures find them."""
    run = run_himo(hanoi, SolverSettings(**PAPER))
    settings = SolverSettings(**PAPER)
    ds = trajectory_dataset(hanoi, run, settings, value_iteration(hanoi, 0.9), store_counters=False)
    m = measures_dataset(ds, hanoi)
    pd, cd, time = m["PD"].values, m["CD"].values, m["time"].values
    velocity = np.gradient(pd, time, axis=0, edge_order=1)  # the same scheme, by numpy
    peak = np.argmax(velocity, axis=0)
    expected = set()
    for s in range(hanoi.n_states):
        half = int(np.argmax(pd[:, s] >= 0.5 * pd[:, s].max()))
        positions = [*range(peak[s] - 2, peak[s] + 3), half - 1, half, np.argmax(pd[:, s]), np.argmax(np.abs(cd[:, s]))]
        expected |= {int(np.clip(k, 0, len(time) - 1)) for k in positions}
    got = measured_positions(hanoi, run.policy, run.occupancy, run.divergence, np.asarray(run.time))
    assert set(got.tolist()) == expected
    kept, dropped = thinned_positions(hanoi, run.policy, run.occupancy, run.divergence, run.time,
                                      len(expected) + 3)
    assert dropped == 0 and expected <= set(kept.tolist())


# ------------------------------------------------- the measures of a thinned run
@pytest.mark.parametrize("env", ["hanoi", pytest.param("fourrooms", marks=pytest.mark.slow),
                                 pytest.param("wormhole", marks=pytest.mark.slow)])
def test_a_thinned_runs_priorities_are_the_whole_runs(env):
    """The paper runs (natural, step 0.1) with budgets of 40 % and 10 % of their
    iterations: at 40 % no peak neighbourhood is dropped and every priority is the
    whole run's, bit for bit, as are the Kendall taus against the DP order; at 10 %
    peak neighbourhoods must go, and each priority (either definition) stays within
    the thinned grid's resolution of the whole run's."""
    mdp = himo.make_env(env)
    whole = measures_dataset(himo.solve(mdp, **PAPER, store_counters=False), mdp)
    n = whole.sizes["iteration"]
    moved = np.isfinite(whole["priority"].values)
    for fraction in (0.4, 0.1):
        thinned = measures_dataset(himo.solve(mdp, **PAPER, storage_budget=budget_for(mdp, fraction * n + 0.5),
                                              store_counters=False), mdp)
        assert thinned.attrs["thinning_passes"] > 0 and thinned.sizes["iteration"] <= fraction * n + 0.5
        if fraction == 0.4:
            assert thinned.attrs["storage_measured_dropped"] == 0
            np.testing.assert_array_equal(thinned["priority"].values, whole["priority"].values)
            assert float(thinned["kendall_tau_dp"]) == float(whole["kendall_tau_dp"])
        else:
            assert thinned.attrs["storage_measured_dropped"] > 0
        for name in ("priority", "priority_half"):
            a, b = whole[name].values[moved], thinned[name].values[moved]
            resolution = pair_resolution(thinned["time"].values, np.minimum(a, b), np.maximum(a, b))
            assert np.all(np.abs(a - b) < resolution), (fraction, name)


def test_equal_changes_drop_the_earliest_first():
    policies = [np.array([float(k)]) for k in range(10)]  # every change is 2 to begin with
    alive = np.ones(10, dtype=bool)
    storage._drop_least_moving(policies, alive, np.ones(10, dtype=bool), 3)
    assert np.flatnonzero(~alive).tolist() == [1, 3, 5]

"""The large-problem code paths agree with the dense ones on small problems, and the
natural path never allocates an n_states x n_states array (benchmarks/ measures speed)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import himo
from himo.solver import loop
from himo.solver.counters import successor_representation
from himo.solver.evaluation import evaluate, factorize
from himo.solver.loop import SolverSettings, run_himo
from himo.solver.policy import dependent_pairs, free_pairs, state_sums
from himo.solver.steps import natural_direction, newton_direction
from himo.solver.storage import iteration_bytes
from himo.solver.value_iteration import value_iteration
from himo.trajectory import trajectory_dataset

pytestmark = pytest.mark.slow  # large grids and towers

LAM = 0.9
SMALL = [("hanoi", {"n_disks": 4}), ("grid", {"rows": 6, "cols": 6}), ("wormhole", {})]


def random_policy(mdp, seed=0, zeros=False):
    rng = np.random.default_rng(seed)
    p = rng.random(mdp.n_pairs) + 0.05
    if zeros:  # some actions never taken (as in a greedy policy); each state keeps its last
        p *= rng.random(mdp.n_pairs) < 0.5
        p[mdp.state_offsets[1:] - 1] += 0.1
    return p / state_sums(mdp, p)[mdp.pair_state]


def pick_transitions(mdp, policy):
    """T = pick @ P, the straightforward construction the cached pattern replaces."""
    pick = sp.csr_matrix((policy, (mdp.pair_state, np.arange(mdp.n_pairs))), shape=(mdp.n_states, mdp.n_pairs))
    T = (pick @ mdp.P).tocsr()
    T.sort_indices()
    return T


@pytest.mark.parametrize("name, params", SMALL)
@pytest.mark.parametrize("zeros", [False, True])
def test_transitions_and_system_matrix_equal_the_plain_construction(name, params, zeros):
    mdp = himo.make_env(name, **params)
    policy = random_policy(mdp, zeros=zeros)
    T, plain = mdp.state_transitions(policy), pick_transitions(mdp, policy)
    assert T.nnz == plain.nnz
    assert np.array_equal(T.indptr, plain.indptr) and np.array_equal(T.indices, plain.indices)
    assert np.array_equal(T.data, plain.data)  # same summation order: bit for bit
    A = mdp.system_matrix(policy, LAM)
    A_plain = (sp.identity(mdp.n_states, format="csc") - LAM * plain).tocsc()
    assert np.array_equal(A.indptr, A_plain.indptr) and np.array_equal(A.indices, A_plain.indices)
    assert np.array_equal(A.data, A_plain.data)
    # the caller may change what it gets without touching the cached pattern
    T.data[:] = 0
    T.eliminate_zeros()
    assert mdp.state_transitions(policy).nnz == plain.nnz


@pytest.mark.parametrize("name, params", SMALL)
def test_evaluate_equals_the_dense_successor_representation(name, params):
    mdp = himo.make_env(name, **params)
    policy = random_policy(mdp, seed=1)
    D = successor_representation(mdp, policy, LAM)
    ev = evaluate(mdp, policy, LAM)
    r_pi = state_sums(mdp, policy * mdp.R)
    np.testing.assert_allclose(ev.value, D @ r_pi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ev.occupancy, D[mdp.start], rtol=1e-10, atol=1e-12)
    assert ev.objective == pytest.approx(float(D[mdp.start] @ r_pi), rel=1e-10)
    lu = factorize(mdp, policy, LAM)
    np.testing.assert_allclose(lu.solve(np.eye(mdp.n_states)[:, 3]), D[:, 3], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, params", SMALL[:2])
def test_natural_direction_equals_newton_direction(name, params):
    mdp = himo.make_env(name, **params)
    policy = random_policy(mdp, seed=2)
    ev = evaluate(mdp, policy, LAM)
    dependent = dependent_pairs(mdp, "argmax", policy)
    free = free_pairs(mdp, dependent)
    newton = newton_direction(mdp, policy, LAM, dependent, free, ev)
    np.testing.assert_allclose(natural_direction(ev, free), newton, rtol=1e-7, atol=1e-9)


def test_sparse_mdp_file_round_trip(tmp_path):
    mdp = himo.make_env("grid", rows=30, cols=30)
    path = tmp_path / "grid.nc"
    himo.save_mdp(mdp, path, form="sparse")
    back = himo.load_mdp(path)
    assert back.state_labels == mdp.state_labels and back.action_labels == mdp.action_labels
    assert back.start == mdp.start
    assert np.array_equal(back.pair_state, mdp.pair_state) and np.array_equal(back.pair_action, mdp.pair_action)
    assert (back.P != mdp.P).nnz == 0 and np.array_equal(back.R, mdp.R)
    policy = random_policy(mdp, seed=3)
    assert np.array_equal(evaluate(back, policy, LAM).value, evaluate(mdp, policy, LAM).value)


def test_a_200x200_grid_holds_no_square_array():
    """MDP construction, the loop with either linear solver, value iteration and the
    dataset on a 200x200 grid: nothing of size n_states^2 (12.8 GB) is allocated, and
    the iterative solver adds at most a few dozen state vectors (its Krylov vectors and
    the previous solutions of both systems) to the direct path's peak (tracemalloc
    sees numpy, not SuperLU)."""
    n_states = 200 * 200
    peaks, highest = {}, 0
    tracemalloc.start()
    try:
        mdp = himo.make_env("grid", rows=200, cols=200)
        for linear_solver in ("direct", "iterative", "direct"):  # the first direct run builds the cached pattern
            settings = SolverSettings(lam=LAM, method="natural", step=0.1, max_iter=2, dependent="argmax",
                                      linear_solver=linear_solver)
            run = run_himo(mdp, settings)
            peaks[linear_solver] = tracemalloc.get_traced_memory()[1]
            highest = max(highest, peaks[linear_solver])
            assert run.linear.used == linear_solver
            tracemalloc.reset_peak()
        optimum = value_iteration(mdp, LAM, tol=1e-6)
        trajectory_dataset(mdp, run, settings, optimum, store_counters=False)
        peak = max(tracemalloc.get_traced_memory()[1], highest)
    finally:
        tracemalloc.stop()
    square = n_states**2 * 8
    assert peak < square / 100, f"peak {peak / 2**20:.0f} MiB"
    assert peak < 2000 * mdp.P.nnz, f"peak {peak / 2**20:.0f} MiB for {mdp.P.nnz} transitions"
    assert peaks["iterative"] <= peaks["direct"] + 32 * 8 * n_states, peaks


def test_the_storage_budget_bounds_a_runs_memory_and_its_file():
    """40 iterations on a 100x100 grid (0.56 MB each): with a budget of 16 of them the
    run's peak exceeds that of a 2-iteration run by at most 1.5 budgets (the held
    iterations and a thinning pass's PD), and the trajectory's stored iterations take
    at most the budget; with the default budget it holds all 40, more than that."""
    mdp = himo.make_env("grid", rows=100, cols=100)
    budget = 16 * iteration_bytes(mdp)

    def traced(max_iter, **budget_mb):
        settings = SolverSettings(lam=LAM, method="natural", step=0.1, max_iter=max_iter, linear_solver="iterative",
                                  **budget_mb)
        tracemalloc.start()
        try:
            run = run_himo(mdp, settings)
            return run, settings, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    _, _, base = traced(2)
    bounded, settings, peak = traced(40, storage_budget=budget / 1e6)
    assert bounded.thinning_passes > 0 and len(bounded.iteration) <= 16
    assert peak - base <= 1.5 * budget, f"{(peak - base) / budget:.2f} budgets"
    ds = trajectory_dataset(mdp, bounded, settings, value_iteration(mdp, LAM, tol=1e-6), store_counters=False)
    assert sum(var.nbytes for var in ds.variables.values() if "iteration" in var.dims) <= budget
    unbounded, _, peak = traced(40)
    assert len(unbounded.iteration) == 41 and peak - base > 1.5 * budget


def test_progress_is_rate_limited(capsys, monkeypatch):
    """The first and the last iteration are reported, the others once per interval
    (the interval set to never and to always, so that no timing enters)."""
    mdp = himo.make_env("hanoi", n_disks=3)
    settings = SolverSettings(lam=LAM, method="natural", step=0.1, max_iter=40, dependent="argmax")
    monkeypatch.setattr(loop, "PROGRESS_INTERVAL", float("inf"))
    run_himo(mdp, settings, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("iteration      0") and lines[1].startswith("iteration     40")
    assert "(last)" in lines[1] and "(last)" not in lines[0]
    monkeypatch.setattr(loop, "PROGRESS_INTERVAL", 0.0)
    run_himo(mdp, settings, progress=True)
    assert len(capsys.readouterr().err.strip().splitlines()) == 41

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


@pytest.mark.parametrize("method", ["natural", "multiplicative"])
def test_thinned_trajectory_equals_the_full_one_where_kept(method):
    mdp = himo.make_env("hanoi", n_disks=3)
    common = dict(lam=LAM, method=method, step=0.5, step_rule="fixed", max_iter=23, dependent="argmax")
    full = run_himo(mdp, SolverSettings(**common, thin=1))
    thin = run_himo(mdp, SolverSettings(**common, thin=5))
    assert thin.iteration == [0, 5, 10, 15, 20, 23]
    for k, it in enumerate(thin.iteration):
        assert np.array_equal(thin.policy[k], full.policy[it])
        assert np.array_equal(thin.occupancy[k], full.occupancy[it])
        assert thin.objective[k] == full.objective[it] and thin.time[k] == full.time[it]
        assert np.array_equal(thin.dependent_history[k], full.dependent_history[it])
    ds = trajectory_dataset(mdp, thin, SolverSettings(**common, thin=5), value_iteration(mdp, LAM),
                            store_counters=False)
    assert "6 of the 24 iterations" in ds.attrs["stored_iterations"] and "left out" in ds.attrs["stored_iterations"]
    assert "store_counters=False" in ds.attrs["counters"]


def test_natural_path_allocates_no_square_array():
    """MDP construction, the loop, value iteration and the dataset on a 200x200 grid."""
    n_states = 200 * 200
    tracemalloc.start()
    try:
        mdp = himo.make_env("grid", rows=200, cols=200)
        settings = SolverSettings(lam=LAM, method="natural", step=0.1, max_iter=2, dependent="argmax", thin=2)
        run = run_himo(mdp, settings)
        optimum = value_iteration(mdp, LAM, tol=1e-6)
        trajectory_dataset(mdp, run, settings, optimum, store_counters=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    square = n_states**2 * 8  # 12.8 GB
    assert peak < square / 100, f"peak {peak / 2**20:.0f} MiB"
    assert peak < 2000 * mdp.P.nnz, f"peak {peak / 2**20:.0f} MiB for {mdp.P.nnz} transitions"


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

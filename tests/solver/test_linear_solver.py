"""The iterative linear solver (warm-started BiCGSTAB) against the direct LU and a
dense solve: solutions, the documented error bound, warm starts, the fallback."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import himo
from himo.errors import ParameterError
from himo.solver import linear
from himo.solver.evaluation import evaluate
from himo.solver.linear import (
    LINEAR_SOLVERS,
    RESIDUAL_BOUND,
    LinearSolver,
    bicgstab,
    check_linear_solver,
    choose_linear_solver,
)
from himo.solver.policy import state_sums

FORESIGHTS = (0.5, 0.9, 0.99, 0.999)
PAPER_ENVS = ("hanoi", "fourrooms", "wormhole")


def dense_solutions(mdp, policy, lam):
    """``V`` and ``d`` by a dense LAPACK solve: an independent route."""
    A = np.eye(mdp.n_states) - lam * mdp.state_transitions(policy).toarray()
    e_0 = np.zeros(mdp.n_states)
    e_0[mdp.start] = 1.0
    return np.linalg.solve(A, state_sums(mdp, policy * mdp.R)), np.linalg.solve(A.T, e_0)


def assert_within_bound(mdp, policy, lam, value, occupancy, bound=RESIDUAL_BOUND):
    """The error bound of himo.solver.linear, checked against the dense solutions
    (with room for the dense solve's own rounding)."""
    V, d = dense_solutions(mdp, policy, lam)
    r_pi = state_sums(mdp, policy * mdp.R)
    scale_v = np.abs(r_pi).max() / (1 - lam)
    rounding = 1e-14 / (1 - lam)
    assert np.abs(value - V).max() <= (bound + rounding) * scale_v
    assert np.abs(occupancy - d).sum() <= (bound + rounding) / (1 - lam)


def residuals(mdp, policy, lam, value, occupancy):
    A = mdp.system_matrix(policy, lam)
    r_pi = state_sums(mdp, policy * mdp.R)
    e_0 = np.zeros(mdp.n_states)
    e_0[mdp.start] = 1.0
    return (np.abs(r_pi - A @ value).max() / np.abs(r_pi).max(), np.abs(e_0 - A.T @ occupancy).sum())


@pytest.mark.parametrize("lam", FORESIGHTS)
@pytest.mark.parametrize("seed", [0, 3, 7])
def test_iterative_equals_direct_on_random_mdps(random_mdp, random_policy, seed, lam):
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 4, 2, 5, 1, 3), unreachable=(5,) if seed == 7 else ())
    policy = random_policy(mdp, seed=seed)
    solver = LinearSolver("iterative")
    ev = evaluate(mdp, policy, lam, solver)
    direct = evaluate(mdp, policy, lam)
    assert solver.record.iterative == 2 and solver.record.fallback == 0
    assert_within_bound(mdp, policy, lam, ev.value, ev.occupancy)
    np.testing.assert_allclose(ev.value, direct.value, rtol=0, atol=1e-9 * np.abs(direct.value).max())
    np.testing.assert_allclose(ev.occupancy, direct.occupancy, rtol=0, atol=1e-9 * direct.occupancy.sum())
    np.testing.assert_allclose(ev.advantage, direct.advantage, rtol=0, atol=1e-9 * np.abs(direct.q).max())
    value_residual, occupancy_residual = residuals(mdp, policy, lam, ev.value, ev.occupancy)
    assert max(value_residual, occupancy_residual) <= RESIDUAL_BOUND
    assert solver.record.worst_residual == pytest.approx(max(value_residual, occupancy_residual), rel=1e-3)


@pytest.mark.parametrize("lam", FORESIGHTS)
@pytest.mark.parametrize("name", PAPER_ENVS)
def test_iterative_equals_direct_on_the_paper_environments(name, lam, random_policy):
    mdp = himo.make_env(name)
    for policy in (mdp.uniform_policy(), random_policy(mdp, seed=4, concentration=0.3, floor=1e-3)):
        solver = LinearSolver("iterative")
        ev = evaluate(mdp, policy, lam, solver)
        assert solver.record.used == "iterative"
        assert_within_bound(mdp, policy, lam, ev.value, ev.occupancy)
        direct = evaluate(mdp, policy, lam)
        assert ev.objective == pytest.approx(direct.objective, abs=1e-9 * np.abs(direct.value).max())


def test_the_error_bound_is_what_the_residual_promises(random_mdp, random_policy):
    """A looser bound gives a rougher solution, and still within what it promises."""
    mdp = random_mdp(seed=5, action_counts=(2,) * 30)
    policy = random_policy(mdp, seed=5)
    for bound in (1e-4, 1e-8, 1e-12):
        solver = LinearSolver("iterative", bound=bound)
        value, occupancy = solver.solve(mdp.system_matrix(policy, 0.95), state_sums(mdp, policy * mdp.R), mdp.start)
        assert 0 < solver.record.worst_residual <= bound
        assert_within_bound(mdp, policy, 0.95, value, occupancy, bound=bound)


def test_warm_start_from_the_previous_policy_saves_iterations(random_policy):
    mdp = himo.make_env("grid", rows=30, cols=30)
    lam = 0.95
    policies = himo.solver.run_himo(
        mdp, himo.SolverSettings(lam=lam, method="natural", step=0.1, max_iter=2, dependent="argmax")
    ).policy
    warm = LinearSolver("iterative")
    evaluate(mdp, policies[1], lam, warm)
    first = warm.record.krylov_iterations
    ev = evaluate(mdp, policies[2], lam, warm)
    cold = LinearSolver("iterative")
    evaluate(mdp, policies[2], lam, cold)
    assert warm.record.krylov_iterations - first < cold.record.krylov_iterations
    direct = evaluate(mdp, policies[2], lam)
    np.testing.assert_allclose(ev.value, direct.value, rtol=0, atol=1e-9 * np.abs(direct.value).max())


def test_a_budget_too_small_falls_back_to_the_direct_solve(random_mdp, random_policy):
    mdp = random_mdp(seed=2, action_counts=(3, 2, 2, 4, 1, 3))
    policy = random_policy(mdp, seed=2)
    solver = LinearSolver("iterative", budget=1)
    ev = evaluate(mdp, policy, 0.9, solver)
    assert solver.record.fallback == 2 and solver.record.iterative == 0
    assert solver.record.krylov_iterations == 2 and solver.record.used == "iterative+direct"
    direct = evaluate(mdp, policy, 0.9)
    # the fallback is the direct solve itself: bit for bit
    assert np.array_equal(ev.value, direct.value) and np.array_equal(ev.occupancy, direct.occupancy)
    assert 0 <= solver.record.worst_residual <= 1e-14


def test_direct_choice_records_its_residuals(random_mdp, random_policy):
    mdp = random_mdp(seed=3)
    policy = random_policy(mdp, seed=3)
    solver = LinearSolver("direct")
    ev = evaluate(mdp, policy, 0.9, solver)
    direct = evaluate(mdp, policy, 0.9)
    assert np.array_equal(ev.value, direct.value) and np.array_equal(ev.occupancy, direct.occupancy)
    assert solver.record.direct == 2 and solver.record.used == "direct" and solver.record.krylov_iterations == 0
    assert solver.record.worst_residual == pytest.approx(max(residuals(mdp, policy, 0.9, ev.value, ev.occupancy)))


def test_zero_rewards_give_zero_values_at_once(random_mdp, random_policy):
    mdp = himo.make_env("hanoi", n_disks=3, goal_reward=0.0)
    solver = LinearSolver("iterative")
    ev = evaluate(mdp, mdp.uniform_policy(), 0.9, solver)
    assert np.array_equal(ev.value, np.zeros(mdp.n_states)) and solver.record.iterative == 2


def random_m_matrix(n, lam, seed):
    """``I - lam T`` for a random sparse row-stochastic ``T``."""
    rng = np.random.default_rng(seed)
    T = sp.random(n, n, density=4 / n, random_state=rng, format="csr") + sp.identity(n) * 0.1
    T = sp.diags(1 / np.asarray(T.sum(axis=1)).ravel()) @ T
    return (sp.identity(n) - lam * T).tocsc()


@pytest.mark.parametrize("norm", [np.linalg.norm, lambda v: np.abs(v).max()])
def test_bicgstab_meets_its_tolerance_on_the_true_residual(norm):
    A = random_m_matrix(500, 0.97, seed=1)
    b = np.random.default_rng(2).normal(size=500)
    result = bicgstab(A, b, np.zeros(500), 1e-11 * norm(b), norm, budget=500)
    assert result.converged and result.iterations > 5
    assert norm(b - A @ result.x) == result.residual <= 1e-11 * norm(b)
    exact = np.linalg.solve(A.toarray(), b)
    np.testing.assert_allclose(result.x, exact, rtol=0, atol=1e-8 * np.abs(exact).max())
    again = bicgstab(A, b, result.x, 1e-11 * norm(b), norm, budget=500)
    assert again.iterations == 0 and np.array_equal(again.x, result.x)


def test_bicgstab_out_of_budget_reports_not_converged():
    A = random_m_matrix(300, 0.99, seed=3)
    b = np.ones(300)
    result = bicgstab(A, b, np.zeros(300), 1e-14, np.linalg.norm, budget=3)
    assert not result.converged and result.iterations == 3
    assert result.residual == pytest.approx(np.linalg.norm(b - A @ result.x))


@pytest.mark.parametrize("n", [1, 100, linear.DOT_BLOCK, linear.DOT_BLOCK + 1, 3 * linear.DOT_BLOCK + 17])
def test_blocked_dot_equals_the_plain_dot(n):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    assert linear._dot(x, y) == pytest.approx(float(x @ y), rel=1e-12, abs=1e-12)


def test_the_setting_is_checked_and_resolved():
    assert LINEAR_SOLVERS == ("auto", "direct", "iterative")
    for name in LINEAR_SOLVERS:
        check_linear_solver(name)
    with pytest.raises(ParameterError, match="linear_solver must be one of"):
        check_linear_solver("lu")
    with pytest.raises(ParameterError):
        LinearSolver("auto")
    assert choose_linear_solver("direct", 10**6, 5 * 10**6, 0.9) == "direct"
    assert choose_linear_solver("iterative", 10, 50, 0.999) == "iterative"
    assert choose_linear_solver("auto", 104, 520, 0.9) == "direct"  # the paper's grids: LU is cheaper

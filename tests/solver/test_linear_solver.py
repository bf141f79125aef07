"""The iterative linear solver (warm-started BiCGSTAB) against the direct LU and a
dense solve: solutions, the documented error bound, warm starts, the fallback."""

from __future__ import annotations


import numpy as np
import pytest
import scipy.sparse as sp
import xarray as xr

import himo
from himo.errors import ParameterError
from himo.solver import linear
from himo.solver.evaluation import evaluate
from himo.solver.linear import kernels
from himo.solver.linear import (
    DECIDED_BY_FILL,
    LINEAR_SOLVER_HELP,
    LINEAR_SOLVERS,
    RESIDUAL_BOUND,
    LinearSolver,
    bicgstab,
    choose_linear_solver,
)
from himo.solver.policy import state_sums
from himo.solver.settings import SolverSettings, setting_schemas

FORESIGHTS = (0.5, 0.9, 0.99, 0.999)
PAPER_ENVS = ("hanoi", "fourrooms", "wormhole")


def dense_solutions(mdp, policy, lam):
    """``V`` and ``d`` by a dense LAPACK solve: an independent route."""
    A = np.eye(mdp.n_states) - lam * mdp.state_transitions(policy).toarray()
    return np.linalg.solve(A, state_sums(mdp, policy * mdp.R)), np.linalg.solve(A.T, mdp.start_distribution)


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
    p0 = mdp.start_distribution
    return (np.abs(r_pi - A @ value).max() / np.abs(r_pi).max(), np.abs(p0 - A.T @ occupancy).sum())


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
def test_iterative_equals_direct_with_a_spread_start_distribution(random_mdp, random_policy, lam):
    """``A^T d = p0`` for a ``p0`` over several states (one of them a state no other
    state reaches): the iterative occupancy and objective ``p0 . V`` are the direct
    ones to 1e-9, the residual is checked against ``p0`` (not a one-hot start), and
    ``d`` is the ``p0``-average of the single starts' iterative occupancies."""
    p0 = np.array([0.3, 0.0, 0.25, 0.0, 0.1, 0.05, 0.0, 0.3])
    mdp = random_mdp(seed=2, action_counts=(3, 1, 2, 4, 2, 5, 1, 3), unreachable=(4,), start_distribution=p0)
    policy = random_policy(mdp, seed=2)
    solver = LinearSolver("iterative")
    ev = evaluate(mdp, policy, lam, solver)
    direct = evaluate(mdp, policy, lam)
    assert solver.record.iterative == 2 and solver.record.fallback == 0
    assert ev.occupancy[4] > 0 and direct.occupancy.sum() == pytest.approx(1 / (1 - lam), rel=1e-9)
    np.testing.assert_allclose(ev.occupancy, direct.occupancy, rtol=0, atol=1e-9 * direct.occupancy.sum())
    assert ev.objective == pytest.approx(direct.objective, abs=1e-9 * np.abs(direct.value).max())
    assert_within_bound(mdp, policy, lam, ev.value, ev.occupancy)  # against dense solves with p0
    value_residual, occupancy_residual = residuals(mdp, policy, lam, ev.value, ev.occupancy)
    assert max(value_residual, occupancy_residual) <= RESIDUAL_BOUND
    assert solver.record.worst_residual == pytest.approx(max(value_residual, occupancy_residual), rel=1e-3)
    A, r_pi = mdp.system_matrix(policy, lam), state_sums(mdp, policy * mdp.R)
    single_starts = [LinearSolver("iterative").solve(A, r_pi, np.eye(mdp.n_states)[s])[1] for s in mdp.start_states]
    averaged = p0[mdp.start_states] @ np.array(single_starts)
    np.testing.assert_allclose(ev.occupancy, averaged, rtol=0, atol=1e-9 * averaged.sum())


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
        value, occupancy = solver.solve(mdp.system_matrix(policy, 0.95), state_sums(mdp, policy * mdp.R), mdp.start_distribution)
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
    assert solver.record.summary() == (
        "0 iterative (warm-started BiCGSTAB, 2 iterations), "
        "2 solved directly after BiCGSTAB missed the residual bound 1e-12 in 1 iterations"
    )


def test_direct_choice_is_the_plain_lu(random_mdp, random_policy):
    mdp = random_mdp(seed=3)
    policy = random_policy(mdp, seed=3)
    solver = LinearSolver("direct")
    ev = evaluate(mdp, policy, 0.9, solver)
    direct = evaluate(mdp, policy, 0.9)
    assert np.array_equal(ev.value, direct.value) and np.array_equal(ev.occupancy, direct.occupancy)
    assert solver.record.direct == 2 and solver.record.used == "direct" and solver.record.krylov_iterations == 0
    assert solver.record.worst_residual is None  # LU is not checked
    assert solver.record.summary() == "2 direct (sparse LU)"


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


def test_the_starting_point_combines_previous_solutions():
    """Solutions of a smoothly moving system: their best combination starts closer than
    the latest one alone, and never farther."""
    n, norm = 400, lambda v: np.abs(v).max()
    b = np.random.default_rng(5).normal(size=n)
    systems = [random_m_matrix(n, 0.9 + 0.01 * k, seed=7) for k in range(5)]
    history = [np.linalg.solve(A.toarray(), b) for A in systems[:4]]
    A = systems[4]
    assert np.array_equal(linear.starting_point(A, b, [], 1e-12, norm), np.zeros(n))
    plain = norm(b - A @ history[-1])
    start = linear.starting_point(A, b, history, 1e-12, norm)
    assert norm(b - A @ start) < plain / 10
    assert np.array_equal(linear.starting_point(A, b, history, 2 * plain, norm), history[-1])  # already good


@pytest.mark.parametrize("n", [1, 100, linear.DOT_BLOCK, linear.DOT_BLOCK + 1, 3 * linear.DOT_BLOCK + 17])
def test_blocked_dot_and_axpy_equal_the_plain_ones(n):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    assert linear.dot(x, y) == pytest.approx(float(x @ y), rel=1e-12, abs=1e-12)
    expected = y + 0.37 * x
    kernels.axpy(y, 0.37, x)  # in place
    np.testing.assert_allclose(y, expected, rtol=1e-15, atol=1e-15)


def test_the_setting_is_checked_and_resolved():
    assert LINEAR_SOLVERS == ("auto", "direct", "iterative")
    for name in LINEAR_SOLVERS:
        assert SolverSettings(linear_solver=name).linear_solver == name
    with pytest.raises(ParameterError, match="^linear_solver must be one of"):
        SolverSettings(linear_solver="lu")
    with pytest.raises(ParameterError):
        LinearSolver("auto")
    assert choose_linear_solver("direct", 10**6, 0.9) == "direct"
    assert choose_linear_solver("iterative", 10, 0.999) == "iterative"
    assert choose_linear_solver("auto", 104, 0.9) == "direct"  # the paper's grids: LU is cheaper
    assert choose_linear_solver("auto", 10**5, 0.95) == "iterative"
    # stiff: BiCGSTAB needs hundreds of iterations, and the first LU's fill decides
    assert choose_linear_solver("auto", 10**5, 0.999) == DECIDED_BY_FILL
    threshold = linear.AUTO_FILL_PER_KRYLOV_ITERATION * linear.expected_krylov_iterations(0.999)
    assert choose_linear_solver("auto", 10**5, 0.999, fill=2.85) == "direct"  # a Hanoi tower's LU
    assert choose_linear_solver("auto", 10**5, 0.999, fill=23.2) == "iterative"  # a 500 x 500 grid's
    assert choose_linear_solver("auto", 10**5, 0.999, fill=threshold) == "iterative"
    assert choose_linear_solver("auto", 10**5, 0.95, fill=1.0) == "iterative"  # the fill decides only above 0.99
    assert choose_linear_solver("auto", 10**3, 0.999, fill=100.0) == "direct"
    with pytest.raises(ParameterError, match="needs the foresight"):
        LinearSolver(DECIDED_BY_FILL)


@pytest.mark.parametrize("env, kwargs, chosen", [("grid", dict(rows=100, cols=100), "iterative"),
                                                 ("hanoi", dict(n_disks=8), "direct")])
@pytest.mark.slow
def test_auto_above_the_foresight_limit_decides_by_the_first_lu(env, kwargs, chosen):
    """At 0.995 a 100 x 100 grid's LU fills in (ratio 13) and a Hanoi tower's hardly
    (2.8): auto solves the first evaluation by that LU and then takes the solver the
    fill says, records the decision, and its iterates are the direct run's."""
    import scipy.sparse.linalg as spla

    mdp = himo.make_env(env, **kwargs)
    lam = 0.995
    assert mdp.n_states >= linear.AUTO_MIN_STATES and lam > linear.AUTO_MAX_FORESIGHT
    A = mdp.system_matrix(mdp.uniform_policy(), lam)
    fill = linear.fill_ratio(spla.splu(A), A)
    assert choose_linear_solver("auto", mdp.n_states, lam, fill=fill) == chosen
    common = dict(lam=lam, method="natural", step=0.1, max_iter=4, dependent="argmax")
    auto = himo.solver.run_himo(mdp, himo.SolverSettings(**common))
    direct = himo.solver.run_himo(mdp, himo.SolverSettings(**common, linear_solver="direct"))
    assert auto.linear_solver == chosen and auto.linear.fill_ratio == pytest.approx(fill)
    assert auto.linear.used == chosen and auto.linear.direct == (10 if chosen == "direct" else 2)
    assert auto.linear.fallback == 0
    assert f"auto chose {chosen} after the first LU: fill ratio nnz(L+U)/nnz(A) {fill:.3g}" in auto.linear.summary()
    assert_same_iterates(direct, auto)
    ds = himo.solve(mdp, store_counters=False, **common)
    assert f"auto chose {chosen}" in ds.attrs["linear_solves"] and ds.attrs["linear_solver"] == "auto"


# ------------------------------------------------------------------ whole runs
def assert_same_iterates(direct, iterative):
    """Policy, occupancy and objective of two runs equal to 1e-9 of their scale."""
    assert direct.iteration == iterative.iteration and direct.stop_reason == iterative.stop_reason
    np.testing.assert_allclose(np.array(iterative.policy), np.array(direct.policy), rtol=0, atol=1e-9)
    occupancy = np.array(direct.occupancy)
    np.testing.assert_allclose(np.array(iterative.occupancy), occupancy, rtol=0, atol=1e-9 * occupancy.sum(axis=1).max())
    scale = max(np.abs(direct.objective).max(), 1.0)
    np.testing.assert_allclose(iterative.objective, direct.objective, rtol=0, atol=1e-9 * scale)


@pytest.mark.parametrize("name, lam", [("hanoi", 0.9), ("fourrooms", 0.95), ("wormhole", 0.99)])
def test_iterative_runs_take_the_direct_runs_steps(name, lam):
    mdp = himo.make_env(name)
    common = dict(lam=lam, method="natural", step=0.1, step_rule="fixed", max_iter=150, dependent="argmax")
    direct = himo.solver.run_himo(mdp, himo.SolverSettings(**common, linear_solver="direct"))
    iterative = himo.solver.run_himo(mdp, himo.SolverSettings(**common, linear_solver="iterative"))
    assert direct.linear.used == "direct" and iterative.linear.used == "iterative"
    assert iterative.linear.iterative == 2 * 151 and iterative.linear.fallback == 0
    assert 0 < iterative.linear.worst_residual <= RESIDUAL_BOUND
    assert_same_iterates(direct, iterative)


@pytest.mark.parametrize("lam", [0.9, 0.99])
@pytest.mark.parametrize("dependent, step", [("argmax", 0.5), ("last", 0.1)])
def test_iterative_and_direct_runs_agree_on_a_grid(dependent, step, lam):
    """On a symmetric grid, where many actions tie (and far from the goal values are
    tiny): the argmax rule's tie tolerance (ARGMAX_RTOL) keeps both runs' choices the same.

    (A fixed dependent action with a large step stalls, see himo.solver.steps: the
    halvings then sit at the feasibility boundary, where any rounding, a direct
    solve's included, may decide them differently.)
    """
    mdp = himo.make_env("grid", rows=40, cols=40)
    common = dict(lam=lam, method="natural", step=step, max_iter=30, dependent=dependent)
    direct = himo.solver.run_himo(mdp, himo.SolverSettings(**common, linear_solver="direct"))
    iterative = himo.solver.run_himo(mdp, himo.SolverSettings(**common, linear_solver="iterative"))
    assert iterative.linear.used == "iterative" and iterative.linear.worst_residual <= 1e-12
    assert_same_iterates(direct, iterative)


def test_the_fallback_is_taken_and_recorded_in_the_trajectory(monkeypatch):
    mdp = himo.make_env("hanoi", n_disks=3)
    common = dict(lam=0.9, method="natural", step=0.5, max_iter=20, dependent="argmax", store_counters=False)
    monkeypatch.setattr(linear.solver, "KRYLOV_BUDGET", 3)  # where LinearSolver reads it  # too small to reach 1e-12 from a cold start
    ds = himo.solve(mdp, linear_solver="iterative", **common)
    assert ds.attrs["linear_solver"] == "iterative" and ds.attrs["linear_solver_used"] == "iterative+direct"
    assert ds.attrs["linear_fallbacks"] > 0
    assert "solved directly after BiCGSTAB missed the residual bound 1e-12 in 3 iterations" in ds.attrs["linear_solves"]
    assert 0 < ds.attrs["linear_worst_residual"] <= ds.attrs["linear_residual_bound"] == RESIDUAL_BOUND
    monkeypatch.undo()
    direct = himo.solve(mdp, linear_solver="direct", **common)
    assert direct.attrs["linear_solver_used"] == "direct" and "linear_worst_residual" not in direct.attrs
    np.testing.assert_allclose(ds.policy.values, direct.policy.values, rtol=0, atol=1e-9)


def test_the_setting_is_validated_everywhere(tmp_path):
    mdp = himo.make_env("hanoi", n_disks=2)
    with pytest.raises(ParameterError, match="linear_solver must be one of"):
        himo.solve(mdp, linear_solver="cg")
    from himo.cli import main

    himo.save_mdp(mdp, tmp_path / "m.nc")
    with pytest.raises(SystemExit) as exit_info:
        main(["solve", str(tmp_path / "m.nc"), str(tmp_path / "t.nc"), "--linear-solver", "cg"])
    assert exit_info.value.code == 2 and not (tmp_path / "t.nc").exists()
    assert main(["solve", str(tmp_path / "m.nc"), str(tmp_path / "t.nc"), "--linear-solver", "iterative",
                 "--max-iter", "5"]) == 0
    with xr.open_dataset(tmp_path / "t.nc") as ds:
        assert ds.attrs["linear_solver"] == "iterative" and ds.attrs["linear_solver_used"] == "iterative"


def test_the_setting_is_defined_with_the_solvers_constants():
    """Its choices and help come from himo.solver.linear (the rest derives from the
    settings, see tests/solver/test_settings.py); the help states the auto rule."""
    schema = setting_schemas()["linear_solver"]
    assert schema["enum"] == list(LINEAR_SOLVERS) and schema["default"] == "auto"
    assert schema["description"] == LINEAR_SOLVER_HELP
    assert f"{linear.AUTO_MIN_STATES:,} states" in LINEAR_SOLVER_HELP and "1e-12" in LINEAR_SOLVER_HELP


def test_argmax_counts_rounding_level_differences_as_ties():
    """Within ARGMAX_RTOL of the top, the last action is dependent: a direct and an
    iterative solve, which differ at that level, choose alike."""
    from himo.solver.policy import dependent_pairs
    from himo.tolerances import ARGMAX_RTOL

    mdp = himo.make_env("hanoi", n_disks=2)
    lo, hi = mdp.state_offsets[0], mdp.state_offsets[1]
    policy = mdp.uniform_policy()
    policy[lo] *= 1 + ARGMAX_RTOL / 10  # the first action ahead by less than the band
    policy[lo + 1:hi] -= (policy[lo] - 1 / (hi - lo)) / (hi - lo - 1)
    assert dependent_pairs(mdp, "argmax", policy)[0] == hi - 1
    policy = mdp.uniform_policy()
    policy[lo] *= 1 + 10 * ARGMAX_RTOL  # ahead by more: it is the top
    policy[lo + 1:hi] -= (policy[lo] - 1 / (hi - lo)) / (hi - lo - 1)
    assert dependent_pairs(mdp, "argmax", policy)[0] == lo


def test_the_row_system_and_the_products_are_scipys():
    """SystemRows gives MDP.system_matrix(...).tocsr() entry for entry, for consecutive
    matrices of one pattern, after the pattern changes (another MDP, a policy with a
    zero), with and without every diagonal entry in T; Operator's products are
    A @ x and A.T @ x."""
    rows = linear.SystemRows()
    rng = np.random.default_rng(8)
    cases = [("grid", dict(rows=12, cols=9), False), ("grid", dict(rows=12, cols=9), False),
             ("grid", dict(rows=12, cols=9), True), ("hanoi", dict(n_disks=4), False)]
    for env, kwargs, with_a_zero in cases:
        mdp = himo.make_env(env, **kwargs)
        policy = rng.random(mdp.n_pairs)
        if with_a_zero:
            policy[np.flatnonzero(mdp.actions_per_state[mdp.pair_state] > 1)[:3]] = 0.0
        policy /= state_sums(mdp, policy)[mdp.pair_state]
        A, expected = rows.matrix(mdp.state_transitions(policy), 0.9), mdp.system_matrix(policy, 0.9).tocsr()
        assert A.format == "csr" and A.has_sorted_indices
        assert np.array_equal(A.indptr, expected.indptr) and np.array_equal(A.indices, expected.indices)
        assert np.array_equal(A.data, expected.data)
        x, out = rng.normal(size=mdp.n_states), np.full(mdp.n_states, np.nan)
        assert np.array_equal(linear.Operator(A).apply(x, out), expected @ x)
        np.testing.assert_allclose(linear.Operator(A, transposed=True) @ x, expected.T @ x, rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(linear.Operator(A).residual(x, x, out), x - expected @ x, rtol=1e-15, atol=1e-15)
    assert np.all(mdp.state_transitions(mdp.uniform_policy()).diagonal() > 0) and rows._of_t is None  # Hanoi


def test_the_evaluation_names_the_argmax_rules_dependent_actions(random_mdp, random_policy):
    """The loop takes the argmax rule's dependent actions from the evaluation (one
    argmax per iteration): they are dependent_pairs(mdp, "argmax", policy)."""
    from himo.solver.policy import dependent_pairs

    mdp = random_mdp(seed=6, action_counts=(3, 1, 2, 4, 2, 5, 1, 3))
    for policy in (mdp.uniform_policy(), random_policy(mdp, seed=6)):
        ev = evaluate(mdp, policy, 0.9)
        assert np.array_equal(ev.most_probable, dependent_pairs(mdp, "argmax", policy))
        relative = ev.q - ev.q[ev.most_probable][mdp.pair_state]  # Q - Q_im: the reference's advantage is -sum pi (Q - Q_im)
        assert np.all(ev.advantage[ev.most_probable] == -state_sums(mdp, policy * relative))


# ------------------------------------------------------------------ SciPy's private kernels
def kernels_without_sparsetools(monkeypatch):
    """A fresh copy of himo.solver.linear.kernels, imported where SciPy has no
    scipy.sparse._sparsetools."""
    import importlib.util
    import sys

    monkeypatch.setitem(sys.modules, "scipy.sparse._sparsetools", None)  # its import now fails
    spec = importlib.util.spec_from_file_location("kernels_without_sparsetools", kernels.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pinned_scipy_has_the_private_kernels():
    """On the SciPy requirements.lock pins, the products run in place (the kernels'
    docstring says which versions it is tested on)."""
    import re
    from pathlib import Path

    import scipy

    lock = (Path(__file__).resolve().parents[2] / "requirements.lock").read_text()
    pinned = re.search(r"^scipy==(\S+)$", lock, re.MULTILINE).group(1)
    assert f"Tested on SciPy {pinned}" in " ".join(kernels.__doc__.split())
    if scipy.__version__ != pinned:
        pytest.skip(f"SciPy {scipy.__version__} is not the pinned {pinned}")
    assert kernels.SPARSETOOLS_MATVEC is not None
    assert kernels.Operator(sp.identity(3, format="csr"))._kernel is kernels.SPARSETOOLS_MATVEC["csr"]


def test_without_the_private_kernels_the_products_are_the_same_bits(monkeypatch):
    """Where scipy.sparse._sparsetools is missing, Operator falls back to the public
    A @ x, copied into the caller's vector: the same numbers, bit for bit, for CSR and
    CSC matrices and their transposes."""
    public = kernels_without_sparsetools(monkeypatch)
    assert public.SPARSETOOLS_MATVEC is None and kernels.SPARSETOOLS_MATVEC is not None
    mdp = himo.make_env("grid", rows=12, cols=9)
    rng = np.random.default_rng(9)
    policy = rng.random(mdp.n_pairs)
    policy /= state_sums(mdp, policy)[mdp.pair_state]  # (the uniform policy's T is symmetric on a grid)
    csr = kernels.SystemRows().matrix(mdp.state_transitions(policy), 0.9)
    assert (csr != csr.T).nnz
    for A in (csr, csr.tocsc()):
        for transposed in (False, True):
            x = rng.normal(size=mdp.n_states)
            fallback, in_place = public.Operator(A, transposed), kernels.Operator(A, transposed)
            assert fallback._kernel is None and in_place._kernel is not None
            out = np.full(mdp.n_states, np.nan)
            assert fallback.apply(x, out) is out
            assert np.array_equal(out, in_place @ x)
            assert np.array_equal(out, (A.T if transposed else A) @ x)
            assert np.array_equal(fallback.residual(x, x, out), in_place.residual(x, x, np.empty_like(x)))


def test_a_run_without_the_private_kernels_takes_the_same_steps(monkeypatch):
    """A whole iterative run on the public route: every iterate equal, bit for bit."""
    mdp = himo.make_env("grid", rows=20, cols=20)
    settings = himo.SolverSettings(lam=0.95, method="natural", step=0.1, max_iter=8, dependent="argmax",
                                   linear_solver="iterative")
    in_place = himo.solver.run_himo(mdp, settings)
    monkeypatch.setattr(kernels, "SPARSETOOLS_MATVEC", None)
    assert kernels.Operator(sp.identity(3, format="csr"))._kernel is None
    public = himo.solver.run_himo(mdp, settings)
    assert public.linear == in_place.linear and public.linear.used == "iterative"
    assert np.array_equal(np.array(public.policy), np.array(in_place.policy))
    assert np.array_equal(np.array(public.occupancy), np.array(in_place.occupancy))
    assert np.array_equal(public.objective, in_place.objective)

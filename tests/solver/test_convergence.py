"""docs/MATH.md, identity 6: run to convergence, HIMO reaches the optimal deterministic policy.

The reference optimum is value iteration, itself checked against a brute-force
enumeration of every deterministic policy on tiny MDPs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import himo
from himo.solver.evaluation import evaluate
from himo.solver.settings import SolverSettings
from himo.solver.steps import flow_speed, objective_scale, rest_test
from himo.solver.value_iteration import greedy_policy, policy_iteration, value_iteration


def brute_force_optimum(mdp, lam):
    """The best value of every state over all deterministic policies, by enumeration."""
    offsets = mdp.state_offsets
    P = mdp.P.toarray()
    best = np.full(mdp.n_states, -np.inf)
    for choice in itertools.product(*(range(lo, hi) for lo, hi in zip(offsets[:-1], offsets[1:]))):
        pairs = np.array(choice)
        value = np.linalg.solve(np.eye(mdp.n_states) - lam * P[pairs], mdp.R[pairs])
        best = np.maximum(best, value)
    return best


@pytest.mark.parametrize(
    "spec, lam",
    [
        pytest.param(dict(seed=1, action_counts=(3, 1, 2, 4)), 0.9, id="4states-lam0.9"),
        pytest.param(dict(seed=2, action_counts=(2, 3, 3)), 0.5, id="3states-lam0.5"),
        pytest.param(dict(seed=11, action_counts=(3, 2, 3, 2, 2)), 0.95, id="5states-lam0.95"),
        pytest.param(dict(seed=5, action_counts=(3, 2, 3, 2), unreachable=(2,)), 0.8, id="unreachable-lam0.8"),
    ],
)
def test_value_iteration_equals_brute_force(random_mdp, spec, lam):
    mdp = random_mdp(**spec)
    optimum = value_iteration(mdp, lam)
    best = brute_force_optimum(mdp, lam)
    np.testing.assert_allclose(optimum.value, best, rtol=1e-10, atol=1e-12)
    # the greedy policy is deterministic and attains V* everywhere; Q* is consistent
    np.testing.assert_array_equal(np.bincount(mdp.pair_state, weights=optimum.greedy), 1.0)
    assert set(np.unique(optimum.greedy)) <= {0.0, 1.0}
    np.testing.assert_allclose(evaluate(mdp, optimum.greedy, lam).value, best, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(optimum.q, mdp.R + lam * mdp.P @ best, rtol=1e-10, atol=1e-12)
    # policy iteration, from its default start and from the uniform prior, reaches it too
    for start in (None, mdp.uniform_policy()):
        howard = policy_iteration(mdp, lam, start)
        np.testing.assert_allclose(howard.value, best, rtol=1e-10, atol=1e-12)
        assert set(np.unique(howard.greedy)) <= {0.0, 1.0} and 1 <= howard.iterations <= 10


def random_family(size: int, seed: int, build):
    """``size`` random MDPs of 2-30 states with foresights in [0.5, 0.99]: each state
    has 1-5 actions (a third of them one), and each state but the start is
    unreachable with probability 0.15."""
    rng = np.random.default_rng(seed)
    family = []
    for k in range(size):
        n_states = int(rng.integers(2, 31))
        counts = tuple(int(c) for c in rng.choice([1, 1, 2, 3, 4, 5], size=n_states))
        unreachable = tuple(s for s in range(1, n_states) if rng.random() < 0.15)
        lam = float(np.round(rng.uniform(0.5, 0.99), 3))
        family.append((build(seed=seed + k, action_counts=counts, unreachable=unreachable), lam))
    return family


def assert_reaches_the_optimum(ds, mdp, lam):
    """Converged, and within the default tol = 1e-8 of value iteration's optimum (relative)."""
    assert ds.attrs["stop_reason"] == "converged", ds.attrs["stop_note"]
    best = value_iteration(mdp, lam).objective
    final = float(ds.objective[-1])
    assert final <= best + 1e-12 * abs(best)
    assert best - final <= SolverSettings().tol * abs(best)


@pytest.mark.slow
def test_defaults_converge_on_random_mdps(random_mdp):
    family = random_family(16, seed=700, build=random_mdp)
    # the family has what makes the fixed dependent rules stall
    assert any(mdp.n_states >= 25 for mdp, _ in family)
    assert all(np.ptp(mdp.actions_per_state) > 0 for mdp, _ in family if mdp.n_states > 3)
    assert sum(np.any(mdp.actions_per_state == 1) for mdp, _ in family) >= 12
    reached = [evaluate(mdp, mdp.uniform_policy(), lam).occupancy > 0 for mdp, lam in family]
    assert sum(not r.all() for r in reached) >= 8, "some states are unreachable"
    for mdp, lam in family:
        assert_reaches_the_optimum(himo.solve(mdp, lam=lam), mdp, lam)


@pytest.mark.parametrize(
    "name, params",
    [("hanoi", {}), ("hanoi", {"n_disks": 4}), ("fourrooms", {}), ("wormhole", {}), ("grid", {"rows": 6, "cols": 6})],
    ids=["hanoi3", "hanoi4", "fourrooms", "wormhole", "grid6x6"],
)
def test_defaults_converge_on_the_environments(name, params):
    mdp = himo.make_env(name, **params)
    ds = himo.solve(mdp, store_counters=False)
    assert ds.attrs["dependent_rule"] == SolverSettings().dependent
    assert_reaches_the_optimum(ds, mdp, SolverSettings().lam)


# newton on the grid worlds is exact too, but forms a dense 500 x 500 C per iteration
@pytest.mark.parametrize(
    "name, method",
    [("hanoi", "newton"), ("hanoi", "natural"), ("fourrooms", "natural"), ("wormhole", "natural"),
     ("random", "newton"), ("random", "multiplicative")],
    ids=lambda v: v,
)
def test_argmax_rule_converges_to_the_optimum(random_mdp, name, method):
    mdp = random_mdp(seed=11, action_counts=(3, 1, 2, 4, 2)) if name == "random" else himo.make_env(name)
    lam = 0.9
    ds = himo.solve(mdp, lam=lam, method=method, dependent="argmax", step=1.0, tol=1e-9, max_iter=3000,
                    store_counters=False)
    assert ds.attrs["stop_reason"] == "converged"
    assert ds.attrs["converged"] == 1
    assert ds.flow_speed.values[-1] < 1e-9
    optimum = value_iteration(mdp, lam)
    best = float(optimum.value[mdp.start])
    assert ds.attrs["optimal_objective"] == best
    np.testing.assert_allclose(ds.optimal_value.values, optimum.value)
    final = float(ds.objective[-1])
    assert final <= best + 1e-12 * abs(best)
    assert final == pytest.approx(best, rel=1e-7)
    # the converged policy is (nearly) deterministic and its argmax is an optimal policy
    policy = ds.policy.isel(iteration=-1).values[mdp.pair_state, mdp.pair_action]
    deterministic = greedy_policy(mdp, policy)
    assert evaluate(mdp, deterministic, lam).objective == pytest.approx(best, rel=1e-12)
    assert np.all(np.diff(ds.objective.values) >= -1e-12 * abs(best)), "each step improves R(A)"


@pytest.mark.parametrize("method, step, step_rule", [
    ("newton", 1.0, "geometric"), ("newton", 0.1, "fixed"), ("natural", 1.0, "geometric"), ("natural", 0.1, "fixed"),
])
def test_a_fixed_dependent_rule_stops_before_the_optimum_and_says_so(hanoi, method, step, step_rule):
    """A documented finding, not a bug: with a fixed dependent action that is not
    optimal, Eq. 19 loses its digits (newton) or the step stalls before convergence,
    whatever the step rule."""
    ds = himo.solve(hanoi, method=method, dependent="last", step=step, step_rule=step_rule, max_iter=3000,
                    store_counters=False)
    assert ds.attrs["stop_reason"] in ("ill_conditioned", "stalled")
    assert ds.attrs["converged"] == 0
    assert ds.attrs["n_iterations"] < 3000
    assert ds.attrs["stop_note"].startswith(f"stopped at iteration {ds.attrs['n_iterations']}")
    assert ds.attrs["dependent_rule"] == "last"
    assert float(ds.objective[-1]) < ds.attrs["optimal_objective"]
    assert np.all(np.isfinite(ds.policy.values))


# ----------------------------------------------------- converged never lies
#: Steps far beyond any sensible one: the policy jumps to a deterministic one and the
#: probabilities of the other actions round to 1e-300 or to exactly 0.
HUGE_STEPS = [1e3, 1e5, 1e8]


@pytest.mark.parametrize("method", ["multiplicative", "softmax", "natural", "gradient"])
def test_a_run_reported_converged_is_at_the_optimum_whatever_the_step(random_mdp, method):
    """With a huge step, max |pi (Q - V)| can be 0 only because the probability of an
    action that would improve its state has rounded to 0: such runs were reported
    converged 2-5 % below the optimum (softmax with step 1e3 on the first MDP here).
    Whatever the step, a run reported converged is at value iteration's optimum, and
    one that cannot get there says why (underflow) or runs out of iterations."""
    lam = 0.9
    mdps = [random_mdp(seed=seed, action_counts=(3, 2, 4, 2, 3, 2)) for seed in range(6)]
    reasons = []
    for mdp in mdps:
        best = float(value_iteration(mdp, lam).value[mdp.start])
        for step in HUGE_STEPS:
            ds = himo.solve(mdp, lam=lam, method=method, step=step, max_iter=60, store_counters=False)
            reason = ds.attrs["stop_reason"]
            reasons.append(reason)
            if reason == "converged":
                assert float(ds.objective[-1]) == pytest.approx(best, rel=1e-6), (mdp.name, step)
            else:
                assert reason in ("underflow", "max_iter", "stalled") and ds.attrs["converged"] == 0
    assert "converged" in reasons, "some runs do converge"


def test_a_lost_improving_action_is_told_from_rest():
    """The flow can be at rest (speed below epsilon) and not converged: an action that
    improves its state has a probability so small that it barely moves. Above 0 it
    grows back (the run goes on); at exactly 0 it never can (``lost``: underflow)."""
    lam, tol = 0.9, 1e-8
    mdp = one_state_two_rewards(lam, low=0.5)  # the improving action "one" has Q - V = (1 - p) / 2
    for p, lost in ((1e-300, None), (0.0, [True, False])):
        policy = np.array([p, 1 - p])
        evaluation = evaluate(mdp, policy, lam)
        speed = flow_speed(policy, evaluation)
        rest = rest_test(mdp, "natural", policy, evaluation, lam, tol, speed, speed)
        assert speed <= rest.threshold < 0.5 == pytest.approx(evaluation.advantage[0])
        assert not rest.converged
        assert (rest.lost is None) if lost is None else (rest.lost.tolist() == lost)


# ----------------------------------------------- the relative convergence test
def one_state_two_rewards(lam, low: float = 0.0):
    """One state, two actions that both stay: reward 1 and reward ``low`` (0 by default).
    Under ``pi = (p, 1 - p)``, with ``low = 0``: ``V = p / (1 - lambda)``,
    ``V* = 1 / (1 - lambda)`` and ``max (Q - V) = 1 - p``, so that the
    performance-difference bound ``V* - V <= max (Q - V) / (1 - lambda)`` holds with equality."""
    from himo.mdp import MDP

    return MDP.from_pairs(name="two-rewards", state_labels=["s"], action_labels=["one", "low"],
                          pair_state=np.array([0, 0]), pair_action=np.array([0, 1]),
                          P=np.array([[1.0], [1.0]]), R=np.array([1.0, low]), start=0)


@pytest.mark.parametrize("lam", [0.5, 0.9, 0.99])
def test_the_relative_test_converges_exactly_where_the_relative_gap_is_tol(lam):
    """On the hand-made MDP the relative gap to R(A) is (1 - p) / p: the test passes just
    below tol and fails just above (epsilon = tol (1 - lambda) |R(A)|, docs/MATH.md)."""
    mdp, tol = one_state_two_rewards(lam), 1e-6
    for relative_gap, converged in ((0.9 * tol, True), (1.1 * tol, False)):
        p = 1 / (1 + relative_gap)
        policy = np.array([p, 1 - p])
        evaluation = evaluate(mdp, policy, lam)
        np.testing.assert_allclose(evaluation.value, p / (1 - lam), rtol=1e-12)
        np.testing.assert_allclose(evaluation.advantage.max(), 1 - p, rtol=1e-9)
        assert (1 / (1 - lam) - evaluation.objective) == pytest.approx(evaluation.advantage.max() / (1 - lam))
        speed = flow_speed(policy, evaluation)
        assert rest_test(mdp, "natural", policy, evaluation, lam, tol, speed, speed).converged is converged


def test_the_performance_difference_bound_on_random_policies(random_mdp, random_policy):
    """Independently of the solver's test: for any policy, every state's value is within
    max (Q - V) / (1 - lambda) of value iteration's V*, which is what the test relies on."""
    for seed in range(20):
        mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 4, 2, 3))
        lam = [0.5, 0.9, 0.99][seed % 3]
        policy = random_policy(mdp, seed=seed)
        evaluation = evaluate(mdp, policy, lam)
        gap = value_iteration(mdp, lam).value - evaluation.value
        bound = max(evaluation.advantage.max(), 0.0) / (1 - lam)
        assert np.all(gap >= -1e-12) and np.all(gap <= bound * (1 + 1e-9))
        assert gap.max() >= bound * (1 - lam)  # the bound is not vacuous: within 1/(1 - lambda)


def test_a_converged_run_is_within_tol_of_the_optimum_on_every_state(random_mdp):
    """Every run that converges has every value within tol |R(A)| of V* (random MDPs of
    the family, foresights 0.5-0.99, tol 1e-8 and 1e-4)."""
    for tol in (1e-8, 1e-4):
        for mdp, lam in random_family(8, seed=900, build=random_mdp):
            ds = himo.solve(mdp, lam=lam, tol=tol, store_counters=False)
            assert ds.attrs["stop_reason"] == "converged"
            policy = ds.policy.isel(iteration=-1).values[mdp.pair_state, mdp.pair_action]
            evaluation = evaluate(mdp, policy, lam)
            scale = objective_scale(evaluation)
            assert np.all(value_iteration(mdp, lam).value - evaluation.value <= tol * scale * (1 + 1e-9) + 1e-14)


# ------------------------------------------- the first-order baselines' rest test
@pytest.mark.parametrize("method", ["gradient", "softmax"])
def test_first_order_runs_stop_at_the_optimum_on_the_reached_states(random_mdp, method):
    """A first-order flow leaves a state the start never reaches where it is (its rate
    carries D_0i = 0), so by HIMO's test it would never be at rest. Its own test
    weights by D_0i: the run converges, at value iteration's optimum, with the
    unreachable state's policy untouched; the recorded speed is max |D_0i pi (Q - V)|."""
    from tests.solver.test_baselines import dense_evaluation

    lam = 0.9
    mdp = random_mdp(seed=5, action_counts=(3, 2, 3, 2), unreachable=(2,))
    ds = himo.solve(mdp, lam=lam, method=method, step=0.3, step_rule="bounded", max_iter=3000,
                    store_counters=False)
    assert ds.attrs["stop_reason"] == "converged"
    assert float(ds.objective[-1]) == pytest.approx(value_iteration(mdp, lam).objective, rel=1e-5)
    unreached = mdp.pair_state == 2
    policy = ds.policy.isel(iteration=-1).values[mdp.pair_state, mdp.pair_action]
    np.testing.assert_array_equal(policy[unreached], mdp.uniform_policy()[unreached])
    for k in (0, len(ds.iteration) // 2, -1):
        pi = ds.policy.isel(iteration=k).values[mdp.pair_state, mdp.pair_action]
        D, V, Q = dense_evaluation(mdp, pi, lam)
        speed = np.max(np.abs(D[0][mdp.pair_state] * pi * (Q - V[mdp.pair_state])))
        assert float(ds.flow_speed[k]) == pytest.approx(speed, rel=1e-9)
    assert ds.flow_speed.attrs["long_name"] == "max |D_0i pi (Q - V)|"


def corridor(length: int):
    """A one-row grid of ``length`` cells, start at one end and goal at the other."""
    from himo.envs import make_env

    return make_env("grid", rows=1, cols=length)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradient", "softmax"])
def test_a_first_order_plateau_is_not_taken_for_rest(method):
    """Far from the reward the prior's first-order speed is exponentially small: on a
    corridor of 10 cells at foresight 0.5 it is about 1e-8, below the tolerance of
    1e-6, which an absolute test would call converged at iteration 0. The test is
    relative to the run's peak speed, so the run crosses its plateau: within 3000
    iterations it has gone from under 1 % of the optimum to within G1's 1e-4 of it."""
    from himo.solver.evaluation import evaluate
    from himo.solver.steps import flow_speed, rest_weight

    lam, tol = 0.5, 1e-6
    mdp = corridor(10)
    prior = mdp.uniform_policy()
    evaluation = evaluate(mdp, prior, lam)
    assert flow_speed(prior, evaluation, rest_weight(mdp, method, evaluation)) < tol / 10
    ds = himo.solve(mdp, lam=lam, method=method, step=0.3, step_rule="bounded", max_iter=3000, tol=tol,
                    store_counters=False)
    optimum = value_iteration(mdp, lam).objective
    assert float(ds.objective[0]) < 0.01 * optimum
    assert float(ds.objective[-1]) == pytest.approx(optimum, rel=1e-4)


def test_himo_keeps_the_unweighted_test():
    """HIMO's methods are not weighted: their speed is max |pi (Q - V)|, and their test
    is the relative one (``convergence_rule``)."""
    from himo.solver.evaluation import evaluate
    from himo.solver.steps import rest_weight

    mdp = corridor(5)
    evaluation = evaluate(mdp, mdp.uniform_policy(), 0.9)
    for method in ("newton", "natural", "multiplicative"):
        assert rest_weight(mdp, method, evaluation) is None
    ds = himo.solve(mdp, lam=0.9, max_iter=5, store_counters=False)
    assert ds.flow_speed.attrs["long_name"] == "max |pi (Q - V)|"
    assert ds.attrs["convergence_rule"] == "max (Q_ij - V_i) <= tol (1 - lambda) max(|R(A)|, 0.001 max |V|)"

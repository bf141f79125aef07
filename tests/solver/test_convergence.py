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
from himo.solver.value_iteration import greedy_policy, value_iteration


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
    assert ds.attrs["stop_reason"] == "converged", ds.attrs["stop_note"]
    best = float(value_iteration(mdp, lam).value[mdp.start])
    final = float(ds.objective[-1])
    assert final <= best + 1e-12 * abs(best)
    assert final == pytest.approx(best, rel=1e-6)


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


@pytest.mark.parametrize("step", [1.0, 0.1])
def test_newton_with_fixed_last_dependent_stops_and_says_so(hanoi, step):
    """A documented finding, not a bug: with a fixed dependent action that is not
    optimal, Eq. 19 loses its digits (or the step stalls) before convergence."""
    ds = himo.solve(hanoi, method="newton", dependent="last", step=step, max_iter=3000, store_counters=False)
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


def test_improving_pairs_none_at_rest_and_the_lost_action_otherwise(random_mdp):
    """At a converged run's policy no action improves its state; drive the best action
    of one state to probability 0 and it improves its state (and the values it feeds
    may make actions elsewhere improving too)."""
    from himo.solver.steps import flow_speed, improving_pairs

    lam, tol = 0.9, 1e-9
    mdp = random_mdp(seed=11, action_counts=(3, 1, 2, 4, 2))
    ds = himo.solve(mdp, lam=lam, tol=tol, store_counters=False)
    policy = ds.policy.isel(iteration=-1).values[mdp.pair_state, mdp.pair_action]
    evaluation = evaluate(mdp, policy, lam)
    assert flow_speed(policy, evaluation) < tol and not improving_pairs(mdp, evaluation, tol).any()
    optimum = value_iteration(mdp, lam)
    best = int(np.flatnonzero((optimum.greedy == 1.0) & (mdp.pair_state == 3))[0])
    lost = policy.copy()
    lost[best] = 0.0
    lost /= np.bincount(mdp.pair_state, weights=lost)[mdp.pair_state]
    evaluation = evaluate(mdp, lost, lam)
    improving = improving_pairs(mdp, evaluation, tol)
    assert improving[best] and improving[mdp.pair_state == 3].sum() == 1
    assert flow_speed(lost, evaluation) < tol < 1e-3 < evaluation.advantage[best]  # at rest, yet far from it


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


def test_himo_keeps_the_absolute_unweighted_test():
    """HIMO's methods are not weighted: their speed is max |pi (Q - V)| and tol is absolute."""
    from himo.solver.evaluation import evaluate
    from himo.solver.steps import rest_weight

    mdp = corridor(5)
    evaluation = evaluate(mdp, mdp.uniform_policy(), 0.9)
    for method in ("newton", "natural", "multiplicative"):
        assert rest_weight(mdp, method, evaluation) is None
    ds = himo.solve(mdp, lam=0.9, max_iter=5, store_counters=False)
    assert ds.flow_speed.attrs["long_name"] == "max |pi (Q - V)|"

"""The default step schedule (``step_rule="geometric"``, docs/MATH.md "The step schedule").

The step is the fixed one while the flow is fast (the first iterations are the fixed
run's, bit for bit), then grows by ``GROWTH_FACTOR`` per iteration, capped for HIMO's
methods by ``GROWTH_LOG_LIMIT`` over the largest advantage and for the first-order
ones by the bounded rule; with it the defaults converge like policy iteration.
"""

from __future__ import annotations

import numpy as np
import pytest

import himo
from himo.solver import SolverSettings, run_himo
from himo.solver.evaluation import evaluate
from himo.solver.settings import setting_defaults
from himo.solver.steps import GROWTH_FACTOR, GROWTH_LOG_LIMIT, SLOW_SPEED, bounded_step_size, softmax_direction
from himo.solver.value_iteration import policy_iteration, value_iteration

SPEC = dict(seed=1, action_counts=(3, 1, 2, 4))
METHODS = ["newton", "natural", "multiplicative", "gradient", "softmax"]


def test_the_default_step_rule_is_geometric():
    assert setting_defaults()["step_rule"] == "geometric"


@pytest.mark.parametrize("method", METHODS)
def test_the_schedule_is_the_fixed_step_until_the_flow_is_slow(random_mdp, method):
    """Bit for bit the fixed run's iterations while the flow's speed is at least
    SLOW_SPEED (the first iteration below it still takes ``step``), then larger steps."""
    mdp = random_mdp(**SPEC)
    runs = {rule: run_himo(mdp, SolverSettings(lam=0.9, method=method, step_rule=rule, max_iter=200))
            for rule in ("geometric", "fixed")}
    geometric, fixed = runs["geometric"], runs["fixed"]
    is_slow = np.array(fixed.flow_speed) < SLOW_SPEED
    slow = int(np.argmax(is_slow))
    assert is_slow.any() and slow < len(geometric.policy) - 2, "the flow becomes slow"
    if method not in ("gradient", "softmax"):  # their weighted flow may be slow from the start
        assert slow >= 2, "HIMO's flow is fast at first"
    assert geometric.step_size[:slow + 2] == fixed.step_size[:slow + 2]
    for a, b in zip(geometric.policy[:slow + 2], fixed.policy[:slow + 2], strict=True):
        assert np.array_equal(a, b)
    assert max(geometric.step_size) > 1.0 == max(fixed.step_size)


@pytest.mark.parametrize("method", ["natural", "multiplicative"])
def test_himo_steps_grow_by_the_factor_up_to_the_advantage_cap(random_mdp, method):
    """Once slow, each step is GROWTH_FACTOR times the previous one, or the ratio by which
    the largest advantage shrank since the previous iteration times it if that is larger
    (``natural`` may halve it), or GROWTH_LOG_LIMIT over the largest advantage if that is smaller."""
    mdp, lam = random_mdp(seed=5, action_counts=(3, 2, 4, 2, 3)), 0.9
    run = run_himo(mdp, SolverSettings(lam=lam, method=method, max_iter=200))
    assert run.converged
    slow = int(np.argmax(np.array(run.flow_speed) < SLOW_SPEED))
    largest = [evaluate(mdp, policy, lam).advantage.max() for policy in run.policy]
    grew = by_factor = by_shrinking = 0
    for k in range(slow + 1, run.n_iterations):  # the step taken from policy k is step_size[k + 1]
        growth = max(GROWTH_FACTOR, largest[k - 1] / largest[k])
        start = min(growth * max(run.step_size[k], 1.0), GROWTH_LOG_LIMIT / largest[k])
        taken = run.step_size[k + 1]
        assert taken == start or (method == "natural" and start / taken in 2.0 ** np.arange(1, 31))
        grew += taken == growth * run.step_size[k]
        by_factor += taken == GROWTH_FACTOR * run.step_size[k]
        by_shrinking += taken == growth * run.step_size[k] > GROWTH_FACTOR * run.step_size[k]
    assert grew >= 2 and by_factor >= 1 and by_shrinking >= 1


def test_first_order_steps_grow_within_the_bounded_rule(random_mdp):
    """softmax: once slow, min(GROWTH_FACTOR times the last step, the bounded rule's step)."""
    mdp, lam = random_mdp(**SPEC), 0.9
    run = run_himo(mdp, SolverSettings(lam=lam, method="softmax", max_iter=40))
    slow = int(np.argmax(np.array(run.flow_speed) < SLOW_SPEED))
    assert run.step_size[1:slow + 2] == [1.0] * (slow + 1)
    for k in range(slow + 1, run.n_iterations):
        policy = run.policy[k]
        direction = softmax_direction(mdp, policy, evaluate(mdp, policy, lam))
        bound = bounded_step_size(direction, 1.0, SolverSettings().tol)
        assert run.step_size[k + 1] == min(GROWTH_FACTOR * max(run.step_size[k], 1.0), bound)
    assert max(run.step_size) > 100


@pytest.mark.parametrize("method", ["gradient", "softmax"])
def test_first_order_defaults_cross_their_plateau(method):
    """A corridor of 10 cells at foresight 0.5: the fixed step of 1 has not left the
    plateau after 300 iterations; the default schedule reaches the optimum (G1's 1e-4)."""
    mdp = himo.make_env("grid", rows=1, cols=10)
    lam = 0.5
    optimum = value_iteration(mdp, lam).objective
    objective = {rule: himo.solve(mdp, lam=lam, method=method, step_rule=rule, max_iter=300,
                                  store_counters=False).objective.values[-1] for rule in ("fixed", "geometric")}
    assert objective["fixed"] < 0.01 * optimum
    assert objective["geometric"] == pytest.approx(optimum, rel=1e-4)


def fast_cases():
    import mdptoolbox.example

    return [
        ("hanoi", himo.make_env("hanoi"), 0.9),
        ("frozenlake-4x4", himo.from_gymnasium("FrozenLake-v1"), 0.95),
        ("forest", himo.from_arrays("pymdptoolbox", **dict(zip("PR", mdptoolbox.example.forest()))), 0.9),
    ]


@pytest.mark.parametrize("index", range(3), ids=["hanoi", "frozenlake-4x4", "forest"])
def test_the_defaults_converge_like_policy_iteration(index):
    """With no option but the foresight: converged to 1e-8 relative, within ten times
    policy iteration's evaluations (the fixed step takes 2,773 on FrozenLake 4x4)."""
    name, mdp, lam = fast_cases()[index]
    run = himo.solve(mdp, lam=lam, store_counters=False)
    optimum = value_iteration(mdp, lam).objective
    assert run.attrs["stop_reason"] == "converged"
    assert abs(optimum - float(run.objective[-1])) <= 1e-8 * abs(optimum)
    assert run.attrs["n_iterations"] <= 10 * policy_iteration(mdp, lam).iterations


def test_near_tied_actions_are_resolved_geometrically(random_mdp):
    """Two actions of one state differ by 1e-7 in reward: the fixed step would need about
    1e7 units of planning time to tell them apart. The schedule meets the tie at its own
    time scale as soon as the other states have settled (the step jumps by the ratio the
    largest advantage shrank): 10 iterations, where growing by GROWTH_FACTOR alone took 17."""
    from himo.mdp import MDP

    base = random_mdp(seed=3, action_counts=(2, 2, 3))
    P, R = base.P.toarray(), base.R.copy()
    P[1], R[1] = P[0], R[0] + 1e-7 * np.abs(R).max()
    mdp = MDP.from_pairs(name="tied", state_labels=list(base.state_labels), action_labels=list(base.action_labels),
                         pair_state=base.pair_state, pair_action=base.pair_action, P=P, R=R, start=0)
    lam = 0.9
    run = himo.solve(mdp, lam=lam, store_counters=False)
    assert run.attrs["stop_reason"] == "converged" and run.attrs["n_iterations"] <= 12
    optimum = value_iteration(mdp, lam).objective
    assert abs(optimum - float(run.objective[-1])) <= 1e-8 * abs(optimum)
    fixed = himo.solve(mdp, lam=lam, step_rule="fixed", max_iter=2000, store_counters=False)
    assert fixed.attrs["stop_reason"] == "max_iter"

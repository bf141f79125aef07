"""docs/MATH.md, identities 4 and 5: the three ways to take a step.

Identity 4: the Newton direction ``I^-1 g`` of Algorithm 1 (dense ``C``, ``I``) equals
the advantage ``Q - V`` that the ``natural`` method takes from one sparse solve.
Identity 5: the ``multiplicative`` step follows the same flow to first order in alpha.
Also: what the solver does at a state the start never reaches.
"""

from __future__ import annotations

import numpy as np
import pytest

import himo
from himo.solver.evaluation import evaluate, reachable_states
from himo.solver.policy import dependent_pairs, free_pairs
from himo.solver.steps import (
    multiplicative_step,
    natural_direction,
    newton_direction,
    pair_preference_step,
    preference_step,
)
from himo.trajectory import dependent_action_labels

RULES = ["last", "first", "argmax"]
MDPS = [
    pytest.param(dict(seed=1, action_counts=(3, 1, 2, 4)), 0.9, id="4states-lam0.9"),
    pytest.param(dict(seed=2, action_counts=(2, 3, 3)), 0.5, id="3states-lam0.5"),
    pytest.param(dict(seed=8, action_counts=(4, 2, 1, 3, 5, 2), n_actions=6), 0.97, id="6states-lam0.97"),
]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec, lam", MDPS)
@pytest.mark.parametrize("policy_seed", [0, 1])
def test_newton_direction_is_the_advantage(random_mdp, random_policy, spec, lam, rule, policy_seed):
    mdp = random_mdp(**spec)
    policy = random_policy(mdp, seed=policy_seed, concentration=0.5)
    evaluation = evaluate(mdp, policy, lam)
    dependent = dependent_pairs(mdp, rule, policy)
    free = free_pairs(mdp, dependent)
    newton = newton_direction(mdp, policy, lam, dependent, free, evaluation)
    natural = natural_direction(evaluation, free)
    # the advantage from the definitions, without the cancellation-free rearrangement
    value = np.linalg.solve(np.eye(mdp.n_states) - lam * mdp.state_transitions(policy).toarray(),
                            np.bincount(mdp.pair_state, weights=policy * mdp.R))
    q = mdp.R + lam * mdp.P @ value
    scale = np.abs(natural).max()
    np.testing.assert_allclose(natural, (q - value[mdp.pair_state])[free], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(newton, natural, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize(
    "rule, max_iter", [("argmax", 40), ("last", 11), ("first", 11)], ids=["argmax-40", "last-11", "first-11"]
)
def test_newton_and_natural_trajectories_agree_on_hanoi(hanoi, rule, max_iter):
    """Full runs, halvings and all, from the prior. (``last`` and ``first`` stop being
    computable for ``newton`` after about a dozen steps: see test_convergence.)"""
    runs = [
        himo.solve(hanoi, method=method, dependent=rule, step=1.0, step_rule="fixed", max_iter=max_iter,
                   store_counters=False)
        for method in ("newton", "natural")
    ]
    newton, natural = runs
    assert newton.sizes["iteration"] == natural.sizes["iteration"] >= min(max_iter, 30)
    np.testing.assert_array_equal(newton.step_size.values, natural.step_size.values)
    np.testing.assert_allclose(newton.policy.values, natural.policy.values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(newton.objective.values, natural.objective.values, rtol=1e-9)
    assert newton.objective.values[-1] > newton.objective.values[0]


@pytest.mark.parametrize("rule", ["last", "argmax"])
def test_multiplicative_agrees_with_natural_to_first_order(random_mdp, random_policy, rule):
    """Identity 5: the gap between the two steps shrinks like alpha^2, each step like alpha."""
    mdp, lam = random_mdp(seed=8, action_counts=(4, 2, 1, 3, 5, 2), n_actions=6), 0.9
    policy = random_policy(mdp, seed=3)
    evaluation = evaluate(mdp, policy, lam)
    dependent = dependent_pairs(mdp, rule, policy)
    free = free_pairs(mdp, dependent)
    direction = natural_direction(evaluation, free)
    gaps, moves = [], []
    for alpha in 0.08 / 2.0 ** np.arange(5):
        natural = preference_step(mdp, policy, dependent, free, direction, alpha)
        assert natural.size == alpha, "no halving expected at these small steps"
        multiplicative = multiplicative_step(mdp, policy, evaluation, alpha)
        gaps.append(np.abs(natural.policy - multiplicative.policy).max())
        moves.append(np.abs(natural.policy - policy).max())
    gap_ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    move_ratios = np.array(moves[:-1]) / np.array(moves[1:])
    np.testing.assert_allclose(gap_ratios, 4.0, rtol=0.1)  # second order
    np.testing.assert_allclose(move_ratios, 2.0, rtol=0.1)  # first order
    assert gaps[-1] < 0.05 * moves[-1]


def test_flow_does_not_depend_on_the_dependent_action(random_mdp, random_policy):
    """Identity 5: ``d pi_ij / dt = pi_ij (Q_ij - V_i)`` for every action, dependent ones included."""
    mdp, lam = random_mdp(seed=1), 0.9
    policy = random_policy(mdp, seed=4)
    evaluation = evaluate(mdp, policy, lam)
    alpha = 1e-6
    rates = []
    for rule in ("last", "first"):
        dependent = dependent_pairs(mdp, rule)
        free = free_pairs(mdp, dependent)
        new = preference_step(mdp, policy, dependent, free, natural_direction(evaluation, free), alpha).policy
        rates.append((new - policy) / alpha)
    flow = policy * evaluation.advantage
    for rate in rates:
        np.testing.assert_allclose(rate, flow, rtol=0, atol=1e-5 * np.abs(flow).max())
    assert not np.allclose(dependent_pairs(mdp, "last"), dependent_pairs(mdp, "first"))


def test_feasibility_rule_halves_the_step(random_mdp):
    """A full step that would empty a dependent action is halved until it keeps 1%."""
    mdp = random_mdp(seed=2, action_counts=(2, 3, 3))
    policy = mdp.uniform_policy()
    dependent = dependent_pairs(mdp, "last")
    free = free_pairs(mdp, dependent)
    direction = np.full(free.size, 5.0)  # every free action grows e^5-fold at alpha = 1
    step = preference_step(mdp, policy, dependent, free, direction, 1.0)
    assert step.halvings > 0 and step.size == 1.0 / 2**step.halvings
    assert np.all(step.policy > 0)
    np.testing.assert_allclose(np.bincount(mdp.pair_state, weights=step.policy), 1.0, atol=1e-14)
    assert np.all(step.policy[dependent] >= 0.01 * policy[dependent])
    np.testing.assert_allclose(np.log(step.policy[free] / policy[free]), step.size * direction, rtol=1e-12)


@pytest.mark.parametrize("scale", [0.1, 5.0])  # 5: a step that must be halved
def test_the_step_on_whole_pair_vectors_is_the_free_pair_step_bit_for_bit(random_mdp, random_policy, scale):
    """``pair_preference_step`` (what ``natural`` runs) against Eq. 20 and Eq. 4 written
    out over the free pairs: the same probabilities, bit for bit, the same halvings;
    the direction's entries at the dependent pairs play no part."""
    mdp = random_mdp(seed=4, action_counts=(3, 1, 2, 4, 2, 5))
    policy = random_policy(mdp, seed=4)
    dependent = dependent_pairs(mdp, "argmax", policy)
    free = free_pairs(mdp, dependent)
    direction = scale * np.random.default_rng(4).normal(size=mdp.n_pairs)
    step = pair_preference_step(mdp, policy, dependent, direction, 1.0)
    alpha, halvings = 1.0, 0
    while True:
        new_free = policy[free] * np.exp(alpha * direction[free])
        new_dependent = policy[dependent] - np.bincount(
            mdp.pair_state[free], weights=policy[free] * np.expm1(alpha * direction[free]), minlength=mdp.n_states)
        if np.all(new_dependent[mdp.actions_per_state > 1] >= 0.01 * policy[dependent][mdp.actions_per_state > 1]):
            break
        alpha, halvings = alpha / 2, halvings + 1
    assert (step.size, step.halvings) == (alpha, halvings) and (halvings > 0) == (scale > 1)
    assert np.array_equal(step.policy[free], new_free) and np.array_equal(step.policy[dependent], new_dependent)
    direction[dependent] = 1e3  # ignored
    assert np.array_equal(pair_preference_step(mdp, policy, dependent, direction, 1.0).policy, step.policy)
    on_free = preference_step(mdp, policy, dependent, free, direction[free], 1.0)
    assert np.array_equal(on_free.policy, step.policy)


# ------------------------------------------------------------------ unreachable state
@pytest.fixture(scope="module")
def unreachable_mdp(random_mdp):
    return random_mdp(seed=5, action_counts=(3, 2, 3, 2), unreachable=(2,))


def test_unreachable_fixture_is_unreachable(unreachable_mdp):
    assert reachable_states(unreachable_mdp).tolist() == [True, True, False, True]
    evaluation = evaluate(unreachable_mdp, unreachable_mdp.uniform_policy(), 0.9)
    assert evaluation.occupancy[2] == 0.0 and np.all(evaluation.occupancy[[0, 1, 3]] > 0)


@pytest.mark.parametrize("rule", ["last", "argmax"])
def test_newton_direction_at_unreachable_state_is_the_advantage(unreachable_mdp, random_policy, rule):
    """There the Fisher block is zero and Eq. 20 undefined; the documented choice is the
    advantage (the limit of a vanishing start probability), as ``natural`` takes."""
    mdp, lam = unreachable_mdp, 0.9
    policy = random_policy(mdp, seed=6)
    evaluation = evaluate(mdp, policy, lam)
    dependent = dependent_pairs(mdp, rule, policy)
    free = free_pairs(mdp, dependent)
    newton = newton_direction(mdp, policy, lam, dependent, free, evaluation)
    assert np.all(np.isfinite(newton))
    at_unreachable = mdp.pair_state[free] == 2
    assert np.any(np.abs(evaluation.advantage[free][at_unreachable]) > 1e-3), "the test needs a nonzero advantage"
    np.testing.assert_allclose(newton, natural_direction(evaluation, free), rtol=0, atol=1e-10)


def test_a_large_step_keeps_every_probability_positive_and_relatively_exact(random_mdp):
    """``pi e^{alpha d}`` for a free pair that loses: at ``alpha d = -100`` (CliffWalking's
    rewards of -100 give such steps) the new probability is ``pi e^-100 ~ 1e-44``, not the
    0 that ``pi (1 + expm1(alpha d))`` rounded it to (the cause of newton's NaN there)."""
    mdp = random_mdp(seed=3, action_counts=(3, 2))
    policy = mdp.uniform_policy()
    dependent = dependent_pairs(mdp, "first", policy)
    free = free_pairs(mdp, dependent)
    direction = np.full(free.size, -100.0)
    step = preference_step(mdp, policy, dependent, free, direction, 1.0)
    assert step.size == 1.0
    np.testing.assert_allclose(step.policy[free], policy[free] * np.exp(-100.0), rtol=1e-15)
    np.testing.assert_allclose(np.bincount(mdp.pair_state, weights=step.policy), 1.0, rtol=1e-15)


@pytest.mark.parametrize("rule", ["last", "argmax"])
def test_newton_direction_with_an_underflowed_probability_is_the_advantage(random_mdp, random_policy, rule):
    """A free probability that has underflowed to exactly 0 has a zero row and column
    in ``I`` (a zero Fisher diagonal: NaN from the scaled solve before). Its direction is
    the advantage, and the other pairs of its state still get ``I^-1 g`` = the advantage
    (identity 4): checked against the advantage computed from the definitions."""
    mdp, lam = random_mdp(seed=8, action_counts=(4, 2, 1, 3, 5, 2), n_actions=6), 0.97
    policy = random_policy(mdp, seed=1, concentration=0.5)
    dependent = dependent_pairs(mdp, rule, policy)
    free = free_pairs(mdp, dependent)
    lost = free[mdp.pair_state[free] == 4][:2]  # two of the five actions of state 4
    policy[lost] = 0.0
    policy /= np.bincount(mdp.pair_state, weights=policy)[mdp.pair_state]
    evaluation = evaluate(mdp, policy, lam)
    newton = newton_direction(mdp, policy, lam, dependent, free, evaluation)
    value = np.linalg.solve(np.eye(mdp.n_states) - lam * mdp.state_transitions(policy).toarray(),
                            np.bincount(mdp.pair_state, weights=policy * mdp.R))
    advantage = (mdp.R + lam * mdp.P @ value - value[mdp.pair_state])[free]
    assert np.all(np.isfinite(newton))
    np.testing.assert_allclose(newton, advantage, rtol=0, atol=1e-10 * np.abs(advantage).max())


@pytest.mark.parametrize("method", ["newton", "natural", "multiplicative"])
def test_solve_with_unreachable_state(unreachable_mdp, method):
    """No NaN anywhere; the unreachable state's policy moves along its advantage at
    every step and ends greedy with respect to the optimal Q."""
    mdp, lam = unreachable_mdp, 0.9
    ds = himo.solve(mdp, lam=lam, method=method, dependent="argmax", step=0.5, max_iter=2000, store_counters=True)
    for name, var in ds.variables.items():
        if var.dtype.kind == "f":
            assert not np.isnan(var.values).any(), f"{name} has NaN"
    assert ds.attrs["stop_reason"] == "converged"
    assert np.all(ds.occupancy.sel(state="s2").values == 0.0)
    # Fisher block of the unreachable state is zero; C's row of it too
    free_states = [label.split("|")[0] for label in ds.free.values]
    block = np.array(free_states) == "s2"
    assert np.all(ds.I.values[:, block, :] == 0.0)

    # every step at s2 moves log pi along the advantage: for newton and natural, the
    # free preferences by exactly alpha (Q - V) (the dependent one follows by Eq. 4);
    # for multiplicative, every action's, up to the state's normalizer
    pairs = np.flatnonzero(mdp.pair_state == 2)
    dependent_labels = dependent_action_labels(ds).sel(state="s2").values
    for it in range(3):
        before = ds.policy.isel(iteration=it).values
        after = ds.policy.isel(iteration=it + 1).values
        advantage = evaluate(mdp, before[mdp.pair_state, mdp.pair_action], lam).advantage[pairs]
        actions = mdp.pair_action[pairs]
        log_ratio = np.log(after[2, actions] / before[2, actions])
        alpha = float(ds.step_size[it + 1])
        if method == "multiplicative":
            np.testing.assert_allclose(log_ratio - log_ratio.mean(), alpha * (advantage - advantage.mean()),
                                       rtol=1e-9, atol=1e-12)
        else:
            free = np.array([mdp.action_labels[a] != dependent_labels[it] for a in actions])
            assert free.sum() == len(actions) - 1
            np.testing.assert_allclose(log_ratio[free], alpha * advantage[free], rtol=1e-9, atol=1e-12)

    optimum = himo.value_iteration(mdp, lam)
    final = ds.policy.isel(iteration=-1).values[2, mdp.pair_action[pairs]]
    assert np.argmax(final) == np.argmax(optimum.q[pairs])
    assert final.max() > 0.99

"""The first-order baselines (docs/MATH.md, identities 7 and 8), each against an independent route.

``gradient``: one step is ``A_free + alpha g`` with ``g = B C R``, the dense path
gradient of Algorithm 1 (Eq. 18), which in turn matches finite differences
(test_gradient.py). ``softmax``: the gradient of ``R(theta)`` in the softmax
parametrization, checked against central finite differences in ``theta``.
"""

from __future__ import annotations

import numpy as np
import pytest

import himo
from himo.solver.counters import counter_correlations, path_gradient
from himo.solver.evaluation import evaluate
from himo.solver.loop import SolverSettings, run_himo
from himo.solver.policy import dependent_pairs, free_pairs, score_projection
from himo.solver.steps import gradient_direction, softmax_gradient_step

RULES = ["last", "first", "argmax"]
CASES = [
    pytest.param(dict(seed=1, action_counts=(3, 1, 2, 4)), 0.9, id="4states-lam0.9"),
    pytest.param(dict(seed=2, action_counts=(2, 3, 3)), 0.6, id="3states-lam0.6"),
    pytest.param(dict(seed=8, action_counts=(4, 2, 1, 3, 5, 2), n_actions=6), 0.97, id="6states-lam0.97"),
]


def dense_evaluation(mdp, policy, lam):
    """``D``, ``V`` and ``Q`` from dense linear algebra: the definitions, no rearrangement."""
    T = mdp.state_transitions(policy).toarray()
    D = np.linalg.inv(np.eye(mdp.n_states) - lam * T)
    V = D @ np.bincount(mdp.pair_state, weights=policy * mdp.R, minlength=mdp.n_states)
    Q = mdp.R + lam * mdp.P @ V
    return D, V, Q


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec, lam", CASES)
def test_gradient_direction_is_the_dense_path_gradient(random_mdp, random_policy, spec, lam, rule):
    """Identity 7: ``D_0i pi_ij (Q_ij - Q_iw)`` equals Algorithm 1's ``B C R``."""
    mdp = random_mdp(**spec)
    policy = random_policy(mdp, seed=3, concentration=0.5)
    dependent = dependent_pairs(mdp, rule, policy)
    free = free_pairs(mdp, dependent)
    C, _ = counter_correlations(mdp, policy, lam)
    dense = path_gradient(C, score_projection(mdp, policy, dependent), mdp.R)
    closed = gradient_direction(mdp, policy, evaluate(mdp, policy, lam), dependent, free)
    np.testing.assert_allclose(closed, dense, rtol=0, atol=1e-11 * np.abs(dense).max())


@pytest.mark.parametrize("spec, lam", CASES)
def test_one_gradient_step_is_a_free_plus_alpha_g(random_mdp, spec, lam):
    """With a fixed dependent action, one ``gradient`` step is exactly ``A_free + alpha g``."""
    mdp = random_mdp(**spec)
    alpha = 0.05
    run = run_himo(mdp, SolverSettings(lam=lam, method="gradient", step=alpha, dependent="last", max_iter=1))
    prior = mdp.uniform_policy()
    dependent = dependent_pairs(mdp, "last")
    free = free_pairs(mdp, dependent)
    C, _ = counter_correlations(mdp, prior, lam)
    g = path_gradient(C, score_projection(mdp, prior, dependent), mdp.R)
    expected = prior.copy()
    expected[free] = np.exp(np.log(prior[free]) + alpha * g)  # A_free <- A_free + alpha g
    expected[dependent] = 1.0 - np.bincount(mdp.pair_state[free], weights=expected[free], minlength=mdp.n_states)
    assert run.step_size[-1] == alpha  # no halving was needed
    np.testing.assert_allclose(run.policy[-1], expected, rtol=1e-12, atol=1e-15)


def softmax_objective(mdp, theta, lam):
    weights = np.exp(theta - np.maximum.reduceat(theta, mdp.state_offsets[:-1])[mdp.pair_state])
    policy = weights / np.bincount(mdp.pair_state, weights=weights)[mdp.pair_state]
    D, V, _ = dense_evaluation(mdp, policy, lam)
    return V[mdp.start]


@pytest.mark.parametrize("spec, lam", CASES)
def test_softmax_step_follows_the_softmax_gradient(random_mdp, random_policy, spec, lam):
    """Identity 8: ``dR/dtheta_ij = D_0i pi_ij (Q_ij - V_i)``, by central finite differences,
    and one ``softmax`` step is ``theta + alpha`` times it, renormalized."""
    mdp = random_mdp(**spec)
    policy = random_policy(mdp, seed=5)
    theta = np.log(policy)
    h = 1e-6
    numeric = np.empty(mdp.n_pairs)
    for x in range(mdp.n_pairs):
        up, down = theta.copy(), theta.copy()
        up[x] += h
        down[x] -= h
        numeric[x] = (softmax_objective(mdp, up, lam) - softmax_objective(mdp, down, lam)) / (2 * h)
    D, V, Q = dense_evaluation(mdp, policy, lam)
    analytic = D[mdp.start, mdp.pair_state] * policy * (Q - V[mdp.pair_state])
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-7 * max(1.0, np.abs(numeric).max()))

    alpha = 0.3
    step = softmax_gradient_step(mdp, policy, evaluate(mdp, policy, lam), alpha)
    new_theta = theta + alpha * analytic
    expected = np.exp(new_theta) / np.bincount(mdp.pair_state, weights=np.exp(new_theta))[mdp.pair_state]
    np.testing.assert_allclose(step.policy, expected, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradient", "softmax"])
def test_first_order_baselines_ascend_towards_the_optimum(random_mdp, method):
    """Steps of either baseline raise the objective monotonically, and the gap to value
    iteration's optimum closes like ``1/t`` (first-order flows near a deterministic
    optimum; Mei et al. 2020): ten times the iterations, about a tenth of the gap.
    The natural step reaches the optimum to 1e-7 in under 100 iterations here."""
    mdp = random_mdp(seed=1, action_counts=(3, 1, 2, 4))
    trajectory = himo.solve(mdp, lam=0.8, method=method, step=1.0, step_rule="fixed", dependent="argmax",
                            max_iter=5000, store_counters=False)
    objective = trajectory.objective.values
    gap = trajectory.attrs["optimal_objective"] - objective
    assert np.all(np.diff(objective) > -1e-12)
    assert np.all(gap > -1e-12)
    assert 5 < gap[500] / gap[5000] < 20

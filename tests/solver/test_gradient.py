"""docs/MATH.md, identities 2 and 3: the path gradient (Eq. 18) and the Fisher information (Eq. 19).

The gradient is checked against central finite differences of the objective
``R(A) = V(s_0)`` evaluated exactly by :func:`himo.solver.evaluation.evaluate`, a
route that uses neither ``C`` nor ``B``: perturb one free preference ``A_ij``,
recompute the dependent one by Eq. 4, evaluate. The Fisher information is checked
entry by entry against the closed form of its state blocks.
"""

from __future__ import annotations

import numpy as np
import pytest

from himo.solver.counters import counter_correlations, fisher_information, path_gradient
from himo.solver.evaluation import evaluate
from himo.solver.policy import dependent_pairs, free_pairs, score_projection

RULES = ["last", "first", "argmax"]
CASES = [
    pytest.param(dict(seed=1, action_counts=(3, 1, 2, 4)), 0.9, id="4states-lam0.9"),
    pytest.param(dict(seed=2, action_counts=(2, 3, 3)), 0.6, id="3states-lam0.6"),
    pytest.param(dict(seed=7, action_counts=(4, 2, 1, 3), zero_fraction=0.0), 0.95, id="dense-lam0.95"),
]


def objective_at(mdp, preferences, dependent, lam):
    """``R(A)`` with the dependent preferences recomputed from the free ones (Eq. 4)."""
    policy = np.exp(preferences)
    free = free_pairs(mdp, dependent)
    others = np.bincount(mdp.pair_state[free], weights=policy[free], minlength=mdp.n_states)
    policy[dependent] = 1.0 - others
    assert np.all(policy > 0)
    return evaluate(mdp, policy, lam).objective


def finite_difference_gradient(mdp, policy, dependent, lam, h=1e-5):
    A = np.log(policy)
    grad = []
    for x in free_pairs(mdp, dependent):
        up, down = A.copy(), A.copy()
        up[x] += h
        down[x] -= h
        grad.append((objective_at(mdp, up, dependent, lam) - objective_at(mdp, down, dependent, lam)) / (2 * h))
    return np.array(grad)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec, lam", CASES)
def test_path_gradient_equals_finite_differences(random_mdp, random_policy, spec, lam, rule):
    mdp = random_mdp(**spec)
    policy = random_policy(mdp, seed=spec["seed"] + 10)
    dependent = dependent_pairs(mdp, rule, policy)
    C, _ = counter_correlations(mdp, policy, lam)
    g = path_gradient(C, score_projection(mdp, policy, dependent), mdp.R)
    fd = finite_difference_gradient(mdp, policy, dependent, lam)
    assert g.shape == (mdp.n_free,)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


def test_path_gradient_with_printed_e_is_wrong(random_mdp, random_policy):
    """The printed ``E`` (no lambda) gives a gradient that is not the objective's."""
    mdp, lam = random_mdp(seed=1), 0.9
    policy = random_policy(mdp, seed=11)
    dependent = dependent_pairs(mdp, "last")
    C, _ = counter_correlations(mdp, policy, lam, e_form="printed")
    g = path_gradient(C, score_projection(mdp, policy, dependent), mdp.R)
    fd = finite_difference_gradient(mdp, policy, dependent, lam)
    assert np.max(np.abs(g - fd)) > 1e-3 * np.abs(fd).max()


def test_score_projection_rows(random_mdp, random_policy):
    """Row (ij) of B is ``+1`` at (ij) and ``-r_ij = -pi_ij / pi_iw`` at the dependent (iw)."""
    mdp = random_mdp(seed=1)
    policy = random_policy(mdp, seed=2)
    dependent = dependent_pairs(mdp, "first")
    B = score_projection(mdp, policy, dependent).toarray()
    free = free_pairs(mdp, dependent)
    for row, x in enumerate(free):
        w = dependent[mdp.pair_state[x]]
        expected = np.zeros(mdp.n_pairs)
        expected[x], expected[w] = 1.0, -policy[x] / policy[w]
        np.testing.assert_allclose(B[row], expected, rtol=1e-15)


def eq19_entrywise(mdp, policy, dependent, C):
    """Eq. 19 written out: ``C_x,y - r_y C_x,w(y) - r_x C_y,w(x) + r_x r_y C_w(x),w(y)``."""
    free = free_pairs(mdp, dependent)
    w = dependent[mdp.pair_state[free]]
    r = policy[free] / policy[w]
    return (
        C[np.ix_(free, free)]
        - r[None, :] * C[np.ix_(free, w)]
        - r[:, None] * C[np.ix_(free, w)].T
        + r[:, None] * r[None, :] * C[np.ix_(w, w)]
    )


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec, lam", CASES)
def test_fisher_is_block_diagonal_with_closed_form_blocks(random_mdp, random_policy, spec, lam, rule):
    mdp = random_mdp(**spec)
    policy = random_policy(mdp, seed=spec["seed"] + 20)
    dependent = dependent_pairs(mdp, rule, policy)
    free = free_pairs(mdp, dependent)
    C, _ = counter_correlations(mdp, policy, lam)
    fisher = fisher_information(C, score_projection(mdp, policy, dependent))
    np.testing.assert_allclose(fisher, eq19_entrywise(mdp, policy, dependent, C), rtol=1e-12, atol=1e-12 * np.abs(C).max())

    scale = np.abs(fisher).max()
    state_of = mdp.pair_state[free]
    across = state_of[:, None] != state_of[None, :]
    assert np.abs(fisher[across]).max() < 1e-12 * scale, "entries between different states must vanish"

    D0 = evaluate(mdp, policy, lam).occupancy
    for i in np.unique(state_of):
        block = np.flatnonzero(state_of == i)
        pi_i, pi_w = policy[free[block]], policy[dependent[i]]
        expected = D0[i] * (np.diag(pi_i) + np.outer(pi_i, pi_i) / pi_w)
        np.testing.assert_allclose(fisher[np.ix_(block, block)], expected, rtol=1e-11, atol=1e-13 * scale)

    # C itself is dense: entries between different states are of the size of the rest
    pair_across = mdp.pair_state[:, None] != mdp.pair_state[None, :]
    assert np.abs(C[pair_across]).max() > 0.1 * np.abs(C).max()
    assert np.mean(np.abs(C[pair_across]) > 1e-6 * np.abs(C).max()) > 0.5


def test_fisher_does_not_depend_on_e_form(random_mdp, random_policy):
    """The cross terms of ``C`` are killed by the projection (``pi_kl - r_kl pi_kw = 0``),
    so ``I = B diag(<n>) B^T`` whatever ``E`` is: the erratum changes only ``g``."""
    mdp, lam = random_mdp(seed=1), 0.9
    policy = random_policy(mdp, seed=3)
    B = score_projection(mdp, policy, dependent_pairs(mdp, "last"))
    C_exact, n = counter_correlations(mdp, policy, lam, e_form="exact")
    C_printed, _ = counter_correlations(mdp, policy, lam, e_form="printed")
    scale = np.abs(C_exact).max()
    np.testing.assert_allclose(fisher_information(C_printed, B), fisher_information(C_exact, B), atol=1e-12 * scale)
    np.testing.assert_allclose(fisher_information(C_exact, B), (B @ np.diag(n) @ B.T), atol=1e-12 * scale)


def test_fisher_is_positive_definite_on_reachable_states(random_mdp, random_policy):
    mdp, lam = random_mdp(seed=7, action_counts=(4, 2, 1, 3)), 0.9
    policy = random_policy(mdp, seed=8)
    dependent = dependent_pairs(mdp, "last")
    C, _ = counter_correlations(mdp, policy, lam)
    fisher = fisher_information(C, score_projection(mdp, policy, dependent))
    np.testing.assert_allclose(fisher, fisher.T, rtol=1e-12, atol=1e-14)
    assert np.linalg.eigvalsh(fisher).min() > 0


def test_objective_is_expected_path_reward(random_mdp, random_policy):
    """Eq. 6: ``R(A) = sum_ij <n_ij> R_ij = V(s_0)``."""
    mdp, lam = random_mdp(seed=4), 0.8
    policy = random_policy(mdp, seed=5)
    _, n = counter_correlations(mdp, policy, lam)
    assert evaluate(mdp, policy, lam).objective == pytest.approx(n @ mdp.R, rel=1e-12)

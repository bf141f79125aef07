"""docs/MATH.md, identity 1: ``<n_ij>`` and ``C`` (Algorithm 1) equal Monte Carlo estimates.

Paths are sampled from the path model itself, independently of Algorithm 1: start
at ``s_0``; at every step draw ``a ~ pi(.|s)``, move to ``s' ~ p(.|s, a)``, then go
on with probability ``lambda``. Each path's pair counts ``n_x`` give the estimates
``mean(n_x)`` and ``mean(n_x n_y)``; the tolerance is 5 standard errors, from the
sample variance of ``n_x`` and of the products ``n_x n_y``. The printed form of ``E``
(Algorithm 1 without the factor lambda, ``e_form="printed"``) must fail that test.
"""

from __future__ import annotations

import numpy as np
import pytest

from himo.mdp import MDP
from himo.solver.counters import counter_correlations, mean_counts, successor_representation

N_PATHS = 200_000
Z_TOLERANCE = 5.0


def sample_pair_counts(mdp: MDP, policy: np.ndarray, lam: float, n_paths: int, seed: int) -> np.ndarray:
    """``(n_paths, n_pairs)`` pair counts of paths sampled from the path model."""
    rng = np.random.default_rng(seed)
    offsets = mdp.state_offsets
    n_actions = mdp.actions_per_state
    # per state, the cumulative probabilities of its actions, padded with 1
    action_cdf = np.ones((mdp.n_states, n_actions.max()))
    for s in range(mdp.n_states):
        action_cdf[s, : n_actions[s]] = np.cumsum(policy[offsets[s] : offsets[s + 1]])
    action_cdf[np.arange(mdp.n_states), n_actions - 1] = 1.0
    next_cdf = np.cumsum(mdp.P.toarray(), axis=1)
    next_cdf[:, -1] = 1.0
    counts = np.zeros((n_paths, mdp.n_pairs), dtype=np.int64)
    state = np.full(n_paths, mdp.start)
    alive = np.arange(n_paths)
    while alive.size:
        here = state[alive]
        choice = (rng.random(alive.size)[:, None] >= action_cdf[here]).sum(axis=1)
        pair = offsets[here] + choice
        counts[alive, pair] += 1  # one pair per path and step: no repeated index
        state[alive] = (rng.random(alive.size)[:, None] >= next_cdf[pair]).sum(axis=1)
        alive = alive[rng.random(alive.size) < lam]
    return counts


@pytest.fixture(scope="module", params=[0.5, 0.85], ids=lambda lam: f"lam{lam}")
def sampled(request, random_mdp, random_policy):
    lam = request.param
    mdp = random_mdp(seed=3, action_counts=(3, 1, 2, 4))
    policy = random_policy(mdp, seed=4)
    counts = sample_pair_counts(mdp, policy, lam, N_PATHS, seed=5).astype(float)
    n = counts.shape[0]
    mean = counts.mean(axis=0)
    mean_se = counts.std(axis=0, ddof=1) / np.sqrt(n)
    second = counts.T @ counts / n  # mean of n_x n_y
    fourth = (counts**2).T @ (counts**2) / n  # mean of (n_x n_y)^2
    second_se = np.sqrt((fourth - second**2) / (n - 1))  # sample variance / n
    visits = counts @ (mdp.pair_state[:, None] == np.arange(mdp.n_states)[None, :])  # per path and state
    return dict(mdp=mdp, policy=policy, lam=lam, mean=mean, mean_se=mean_se, second=second, second_se=second_se,
                visits=visits.mean(axis=0), visits_se=visits.std(axis=0, ddof=1) / np.sqrt(n))


def test_random_mdp_has_uneven_stochastic_structure(sampled):
    mdp = sampled["mdp"]
    assert sorted(mdp.actions_per_state) == [1, 2, 3, 4]
    assert np.any((mdp.P.toarray() > 0).sum(axis=1) > 1), "transitions must be stochastic"


def test_successor_representation_is_expected_state_visits(sampled):
    """``D_0i``: the expected visits of each state."""
    mdp = sampled["mdp"]
    D = successor_representation(mdp, sampled["policy"], sampled["lam"])
    z = (D[mdp.start] - sampled["visits"]) / sampled["visits_se"]
    assert np.max(np.abs(z)) < Z_TOLERANCE, f"max |z| = {np.max(np.abs(z)):.2f}"


def test_mean_counts_match_monte_carlo(sampled):
    mdp, policy, lam = sampled["mdp"], sampled["policy"], sampled["lam"]
    _, n = counter_correlations(mdp, policy, lam)
    z = (n - sampled["mean"]) / sampled["mean_se"]
    assert np.max(np.abs(z)) < Z_TOLERANCE, f"max |z| = {np.max(np.abs(z)):.2f}"
    D = successor_representation(mdp, policy, lam)
    np.testing.assert_allclose(mean_counts(mdp, policy, D[mdp.start]), n, rtol=1e-14)


def test_counter_correlations_match_monte_carlo(sampled):
    mdp, policy, lam = sampled["mdp"], sampled["policy"], sampled["lam"]
    C, _ = counter_correlations(mdp, policy, lam, e_form="exact")
    np.testing.assert_allclose(C, C.T, rtol=1e-14)
    z = (C - sampled["second"]) / sampled["second_se"]
    assert np.max(np.abs(z)) < Z_TOLERANCE, f"max |z| = {np.max(np.abs(z)):.2f} at {np.unravel_index(np.argmax(np.abs(z)), z.shape)}"


def test_printed_e_form_disagrees_with_monte_carlo(sampled):
    """The erratum: without lambda in ``E``, ``C`` is off by far more than sampling error."""
    mdp, policy, lam = sampled["mdp"], sampled["policy"], sampled["lam"]
    C_printed, n_printed = counter_correlations(mdp, policy, lam, e_form="printed")
    z = (C_printed - sampled["second"]) / sampled["second_se"]
    assert np.max(np.abs(z)) > 4 * Z_TOLERANCE, f"printed E is within {np.max(np.abs(z)):.2f} standard errors"
    # the printed form only rescales the cross terms by 1 / lambda; <n> is unchanged
    C_exact, n_exact = counter_correlations(mdp, policy, lam, e_form="exact")
    np.testing.assert_array_equal(n_printed, n_exact)
    np.testing.assert_allclose(C_printed - np.diag(n_exact), (C_exact - np.diag(n_exact)) / lam, rtol=1e-12, atol=1e-15)


def test_counter_correlations_rejects_unknown_e_form(random_mdp):
    from himo.errors import ParameterError

    mdp = random_mdp(seed=0)
    with pytest.raises(ParameterError, match="e_form"):
        counter_correlations(mdp, mdp.uniform_policy(), 0.9, e_form="typo")

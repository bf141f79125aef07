"""Kakade's state-averaged natural policy gradient (method ``kakade``) against
independent routes: identity 11's closed form, a dense Fisher system, the
multiplicative step on a faster clock (docs/MATH.md, identity 11)."""

from __future__ import annotations

import numpy as np
import pytest

import himo
from himo.solver.evaluation import evaluate
from himo.solver.linear import LinearSolver
from himo.solver.policy import state_sums
from himo.solver.steps import kakade_direction



def evaluation_of(mdp, policy, lam):
    return evaluate(mdp, policy, lam, LinearSolver("direct", lam=lam))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lam", [0.5, 0.95])
def test_direction_is_the_centred_advantage_over_one_minus_lambda(seed, lam, random_mdp, random_policy):
    mdp = random_mdp(seed, action_counts=(3, 1, 2, 4, 3), unreachable=(4,))
    policy = random_policy(mdp, seed)
    evaluation = evaluation_of(mdp, policy, lam)
    direction = kakade_direction(mdp, policy, evaluation, lam)
    advantage = evaluation.advantage
    mean = (state_sums(mdp, advantage) / mdp.actions_per_state)[mdp.pair_state]
    reached = evaluation.occupancy[mdp.pair_state] > 0
    assert not reached.all()  # the unreachable state is in the test
    np.testing.assert_allclose(direction[reached], ((advantage - mean) / (1 - lam))[reached],
                               rtol=1e-9, atol=1e-9 * np.abs(advantage).max() / (1 - lam))
    assert np.all(direction[~reached] == 0)


def test_direction_against_a_dense_fisher(random_mdp, random_policy):
    """F = sum_i d_i F_i and g formed as whole matrices; the minimum-norm solution by lstsq."""
    lam = 0.9
    mdp = random_mdp(3, action_counts=(3, 2, 4, 3))
    policy = random_policy(mdp, 3)
    evaluation = evaluation_of(mdp, policy, lam)
    d = (1 - lam) * evaluation.occupancy
    fisher = np.zeros((mdp.n_pairs, mdp.n_pairs))
    offsets = mdp.state_offsets
    for i in range(mdp.n_states):
        block = slice(offsets[i], offsets[i + 1])
        p = policy[block]
        fisher[block, block] = d[i] * (np.diag(p) - np.outer(p, p))
    g = evaluation.occupancy[mdp.pair_state] * policy * evaluation.advantage
    expected = np.linalg.lstsq(fisher, g, rcond=1e-12)[0]
    np.testing.assert_allclose(kakade_direction(mdp, policy, evaluation, lam), expected, rtol=1e-8, atol=1e-10)


def test_iterates_are_the_multiplicative_steps_on_a_faster_clock():
    lam, step = 0.9, 0.01
    mdp = himo.make_env("hanoi")
    npg = himo.solve(mdp, lam=lam, method="kakade", step=step, step_rule="fixed", max_iter=100)
    multiplicative = himo.solve(mdp, lam=lam, method="multiplicative", step=step / (1 - lam), step_rule="fixed",
                                max_iter=100)
    np.testing.assert_allclose(npg.policy.values, multiplicative.policy.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(npg.time.values / (1 - lam), multiplicative.time.values, rtol=1e-12)


def test_unreached_states_do_not_move_and_the_run_converges(random_mdp):
    """A state the start never reaches keeps the prior (zero Fisher block), yet the run
    is at rest by the occupancy-weighted test and optimal where the start reaches."""
    mdp = random_mdp(5, action_counts=(3, 2, 3, 2), unreachable=(3,))
    trajectory = himo.solve(mdp, lam=0.9, method="kakade", step=0.1, step_rule="bounded", max_iter=20000)
    assert trajectory.attrs["stop_reason"] == "converged"
    policy = trajectory.policy.transpose("iteration", "state", "action").values
    np.testing.assert_array_equal(policy[-1, 3], policy[0, 3])
    assert abs(float(trajectory.objective[-1]) - trajectory.attrs["optimal_objective"]) < 1e-4 * abs(
        trajectory.attrs["optimal_objective"])

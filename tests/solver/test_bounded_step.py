"""The bounded step rule (``step_rule="bounded"``): ``alpha_k = min(step / tol, step / max |d|)``.

Checked from the outside: the largest change of a free preference (gradient) or a
logit (softmax) between two consecutive policies is exactly ``step``; bounded
first-order runs reach value iteration's optimum where fixed-step runs do not; and
the ``fixed`` rule (the default before the step schedule, tests/solver/test_step_schedule.py)
stays selectable: every iteration starts from ``step``.
"""

from __future__ import annotations

import numpy as np
import pytest

from himo.solver import SolverSettings, run_himo, value_iteration
from himo.solver.policy import free_pairs
from himo.solver.steps import bounded_step_size

from tests.solver.test_baselines import dense_evaluation

SPEC = dict(seed=1, action_counts=(3, 1, 2, 4))


def test_bounded_step_size_is_step_over_the_largest_entry_capped_at_step_over_tol():
    assert bounded_step_size(np.array([0.5, -2.0, 1.0]), 0.3, 1e-8) == 0.3 / 2.0
    assert bounded_step_size(np.array([1e-12, -1e-10]), 0.3, 1e-8) == 0.3 / 1e-8
    assert bounded_step_size(np.array([]), 0.3, 1e-8) == 0.3 / 1e-8


def test_gradient_preferences_change_by_at_most_step(random_mdp):
    """Free preferences ``A_ij = log pi_ij`` (Eq. 4: the dependent action ``w`` each step
    used takes the rest): the largest change per iteration is exactly ``step``."""
    mdp = random_mdp(**SPEC)
    step = 0.2
    run = run_himo(mdp, SolverSettings(lam=0.8, method="gradient", step=step, step_rule="bounded", max_iter=40))
    for k in range(len(run.policy) - 1):
        dependent = run.dependent_history[k]
        free = free_pairs(mdp, dependent)
        before, after = (np.log(p[free]) for p in run.policy[k:k + 2])
        np.testing.assert_allclose(np.abs(after - before).max(), step, rtol=1e-9)
    np.testing.assert_allclose(np.diff(run.time), run.step_size[1:], rtol=1e-12)  # time = sum of steps
    assert np.ptp(run.step_size[1:]) > 0  # the step size really varies


def test_softmax_logits_change_by_at_most_step(random_mdp):
    """Logit changes ``alpha d_ij``, ``d = D_0i pi_ij (Q_ij - V_i)`` from dense linear
    algebra: ``alpha`` recovered from two consecutive policies (the change of
    ``log pi_ij - log pi_ik`` is ``alpha (d_ij - d_ik)``) times ``max |d|`` is ``step``."""
    mdp = random_mdp(**SPEC)
    step, lam = 0.2, 0.8
    run = run_himo(mdp, SolverSettings(lam=lam, method="softmax", step=step, step_rule="bounded", max_iter=30))
    for k in range(len(run.policy) - 1):
        before, after = run.policy[k], run.policy[k + 1]
        D, V, Q = dense_evaluation(mdp, before, lam)
        d = D[0][mdp.pair_state] * before * (Q - V[mdp.pair_state])
        first = np.array([np.flatnonzero(mdp.pair_state == s)[0] for s in range(mdp.n_states)])
        relative_log = np.log(after) - np.log(before)
        relative_log -= relative_log[first][mdp.pair_state]
        relative_d = d - d[first][mdp.pair_state]
        alpha = relative_log @ relative_d / (relative_d @ relative_d)
        np.testing.assert_allclose(alpha * np.abs(d).max(), step, rtol=1e-7)
        np.testing.assert_allclose(alpha, run.step_size[k + 1], rtol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradient", "softmax"])
def test_bounded_first_order_runs_reach_the_optimum(random_mdp, method):
    """Within 3000 iterations the bounded run has converged at value iteration's
    optimum (relative 1e-5: its flow is at rest relative to its peak speed, well
    within G1's 1e-4); the fixed step of 1 has done neither."""
    mdp = random_mdp(seed=8, action_counts=(4, 2, 1, 3, 5, 2), n_actions=6)
    lam = 0.97
    optimum = value_iteration(mdp, lam).objective
    gaps = {}
    for rule in ("fixed", "bounded"):
        run = run_himo(mdp, SolverSettings(lam=lam, method=method, step=1.0 if rule == "fixed" else 0.3,
                                           step_rule=rule, max_iter=3000, tol=1e-6))
        gaps[rule] = (optimum - run.objective[-1]) / abs(optimum), run.converged
    assert gaps["bounded"][0] < 1e-5 and gaps["bounded"][1]
    assert gaps["fixed"][0] > 1e-5 and not gaps["fixed"][1]


@pytest.mark.parametrize("method", ["newton", "natural", "multiplicative", "gradient", "softmax"])
def test_the_fixed_rule_starts_every_iteration_from_step(random_mdp, method):
    """``step`` itself, or ``step`` halved to stay feasible (never for the logit steps)."""
    mdp = random_mdp(**SPEC)
    run = run_himo(mdp, SolverSettings(lam=0.9, method=method, step=0.7, step_rule="fixed", max_iter=300))
    halvings = np.log2(0.7 / np.array(run.step_size[1:]))
    np.testing.assert_array_equal(halvings, np.round(halvings))
    assert (halvings.max() == 0) == (method in ("multiplicative", "softmax"))
    assert run.n_iterations > 100

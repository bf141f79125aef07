"""docs/MATH.md, identity 10: the HIMO flow is replicator dynamics on Q.

The closed form of the flow ``d pi_ij / dt = pi_ij (Q_ij - V_i)`` (identity 5) is

    log(pi_ij(t) / pi_ij(0)) - log(pi_ik(t) / pi_ik(0)) = integral_0^t (Q_ij - Q_ik) ds.

The independent route: run the solver with a small step, evaluate ``Q`` of every
stored policy with a dense solve written here (not the package's evaluation),
integrate it along the stored planning times by the trapezoid rule, and compare
with the stored policies' log-ratios. For the natural flow (``natural`` and
``multiplicative``) the mismatch is the discretization error of the step: halving
the step halves it. For the first-order flows (``gradient``, ``softmax``) it does
not shrink: their log-ratio rate carries the occupancy ``D_0i`` (identities 7-8),
and with that weight the softmax run does follow its own closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

import himo

STEPS = (0.1, 0.05, 0.025)
CASES = [
    pytest.param("random", 0.9, 4.0, id="random-6states-lam0.9"),
    pytest.param("random", 0.6, 4.0, id="random-6states-lam0.6"),
    pytest.param("hanoi", 0.9, 3.0, id="hanoi-lam0.9"),
]


def case_mdp(name, random_mdp):
    if name == "hanoi":
        return himo.make_env("hanoi")
    return random_mdp(seed=3, action_counts=(3, 1, 2, 4, 2, 3))


def dense_evaluation(mdp, policy, lam):
    """``Q``, ``V`` and the occupancy ``D_0.`` of ``policy`` from dense solves of the definitions."""
    P = mdp.P.toarray()
    T = np.zeros((mdp.n_states, mdp.n_states))
    np.add.at(T, mdp.pair_state, policy[:, None] * P)
    system = np.eye(mdp.n_states) - lam * T
    value = np.linalg.solve(system, np.bincount(mdp.pair_state, weights=policy * mdp.R, minlength=mdp.n_states))
    occupancy = np.linalg.solve(system.T, mdp.start_distribution)
    return mdp.R + lam * P @ value, value, occupancy


def stored_run(mdp, lam, method, step, horizon, **settings):
    """The pair policies and planning times of a run of ``horizon / step`` steps, every one stored."""
    ds = himo.solve(mdp, lam=lam, method=method, step=step, step_rule="fixed", max_iter=int(round(horizon / step)),
                    tol=1e-300, store_counters=False, **settings)
    policy = ds.policy.values[:, mdp.pair_state, mdp.pair_action]
    return policy, ds.time.values, ds.step_size.values[1:]


def trapezoid(rates, time):
    """``integral_0^t rate ds`` at every stored time (axis 0), by the trapezoid rule."""
    increments = 0.5 * (rates[1:] + rates[:-1]) * np.diff(time)[:, None]
    return np.concatenate([np.zeros((1,) + rates.shape[1:]), np.cumsum(increments, axis=0)])


def relative_to_first_action(mdp, pair_values):
    """Each pair's value minus that of its state's first action (axis -1 over pairs)."""
    first = mdp.state_offsets[:-1][mdp.pair_state]
    return pair_values - pair_values[..., first]


def closed_form_mismatch(mdp, lam, policy, time):
    """The largest gap between the log-ratio moves of the stored policies and the integrated
    ``Q_ij - Q_ik`` (``k`` the state's first action), and the largest such move."""
    q = np.array([dense_evaluation(mdp, p, lam)[0] for p in policy])
    log_ratio = relative_to_first_action(mdp, np.log(policy))
    moved = log_ratio - log_ratio[0]
    predicted = relative_to_first_action(mdp, trapezoid(q, time))
    return np.abs(moved - predicted).max(), np.abs(predicted).max()


@pytest.mark.parametrize("method", ["multiplicative", "natural"])
@pytest.mark.parametrize("name, lam, horizon", CASES)
def test_natural_flow_is_replicator_dynamics_on_q(random_mdp, name, lam, horizon, method):
    """Identity 10: the log-ratio moves are the integrated Q differences, to an error
    that halves with the step."""
    mdp = case_mdp(name, random_mdp)
    mismatches = []
    for step in STEPS:
        policy, time, sizes = stored_run(mdp, lam, method, step, horizon)
        assert np.all(sizes == step), "no halving expected at these small steps"
        mismatch, moved = closed_form_mismatch(mdp, lam, policy, time)
        assert moved > 1.0, "the policies must move for the test to mean anything"
        mismatches.append(mismatch)
    ratios = np.array(mismatches[:-1]) / np.array(mismatches[1:])
    assert np.all(ratios > 1.8), f"mismatch {mismatches} does not shrink with the step"
    assert mismatches[-1] < 0.01 * moved


@pytest.mark.parametrize("method", ["gradient", "softmax"])
@pytest.mark.parametrize("name, lam, horizon", CASES)
def test_first_order_flows_are_not_replicator_dynamics(random_mdp, name, lam, horizon, method):
    """The same comparison for the first-order flows: the mismatch stays a large part
    of the move however small the step (their rate is weighted by D_0i pi_ij)."""
    mdp = case_mdp(name, random_mdp)
    results = [closed_form_mismatch(mdp, lam, *stored_run(mdp, lam, method, step, horizon)[:2])
               for step in STEPS[::2]]
    (coarse, _), (fine, moved) = results
    assert fine > 0.3 * moved
    assert fine > 0.8 * coarse, "the mismatch is not the step's: it does not shrink"


@pytest.mark.parametrize("name, lam, horizon", CASES)
def test_softmax_log_ratio_rate_carries_the_occupancy(random_mdp, name, lam, horizon):
    """Identity 8 integrated: ``log(pi_ij / pi_ik)`` moves by the integral of
    ``D_0i (pi_ij (Q_ij - V_i) - pi_ik (Q_ik - V_i))``: the first-order closed form."""
    mdp = case_mdp(name, random_mdp)
    mismatches = []
    for step in STEPS:
        policy, time, _ = stored_run(mdp, lam, "softmax", step, horizon)
        rates = []
        for p in policy:
            q, value, occupancy = dense_evaluation(mdp, p, lam)
            rates.append(occupancy[mdp.pair_state] * p * (q - value[mdp.pair_state]))
        log_ratio = relative_to_first_action(mdp, np.log(policy))
        predicted = relative_to_first_action(mdp, trapezoid(np.array(rates), time))
        mismatches.append(np.abs(log_ratio - log_ratio[0] - predicted).max())
    assert np.abs(predicted).max() > 0.01  # softmax crawls on Hanoi's plateau, but it moves
    ratios = np.array(mismatches[:-1]) / np.array(mismatches[1:])
    assert np.all(ratios > 1.8) and mismatches[-1] < 0.01 * np.abs(predicted).max()


@pytest.mark.parametrize("method, same", [("natural", True), ("multiplicative", True), ("softmax", False),
                                          ("gradient", False)])
def test_the_occupancy_does_not_enter_the_natural_flow(random_mdp, method, same):
    """Where paths start changes every occupancy ``D_0i`` but no ``Q``: the natural
    flow's policies are the same step for step; the first-order flows' are not."""
    counts = (3, 2, 2, 4, 2, 3)
    mdp = random_mdp(seed=5, action_counts=counts)
    spread = random_mdp(seed=5, action_counts=counts, start_distribution=[0.05, 0.1, 0.1, 0.05, 0.6, 0.1])
    runs = [stored_run(m, 0.9, method, 0.1, 3.0)[0] for m in (mdp, spread)]
    occupancies = [dense_evaluation(m, m.uniform_policy(), 0.9)[2] for m in (mdp, spread)]
    assert np.abs(occupancies[0] - occupancies[1]).max() > 0.5
    difference = np.abs(runs[0] - runs[1]).max()
    if same:
        assert difference < 1e-12
    else:
        assert difference > 1e-2

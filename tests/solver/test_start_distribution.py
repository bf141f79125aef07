"""Start distributions ``p0`` in the solver: the one-hot case is the paper's start
state bit for bit, and a spread ``p0`` is the ``p0``-average of single starts.

Independent routes: the old single-start formulas (row ``s_0`` of ``D``, ``V_0``,
the solve with ``e_0``), evaluations of the same MDP started in each state alone
(every quantity is linear in the start), and a plain value iteration on the dense
arrays (``dense_optimum`` in ``tests/conftest.py``). The Monte Carlo check of ``<n>`` and ``C`` under ``p0`` is in
``test_counters.py`` (case ``lam0.85-p0``).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import himo
from himo.mdp import MDP
from himo.solver.counters import counter_correlations, start_occupancy, successor_representation
from himo.solver.evaluation import evaluate, factorize, reachable_states
from himo.solver.value_iteration import value_iteration

LAM = 0.9
P0 = np.array([0.1, 0.0, 0.6, 0.3, 0.0])


def restarted(mdp: MDP, **start) -> MDP:
    """The same MDP with another start (``start=`` or ``start_distribution=``)."""
    return MDP.from_pairs(
        name=mdp.name, state_labels=mdp.state_labels, action_labels=mdp.action_labels,
        pair_state=mdp.pair_state, pair_action=mdp.pair_action, P=mdp.P, R=mdp.R, **start,
    )


@pytest.fixture(scope="module")
def mdp(random_mdp):
    return random_mdp(seed=11, action_counts=(3, 1, 2, 4, 2))


@pytest.mark.parametrize("s", [0, 3])
def test_one_hot_distribution_is_the_start_state_bit_for_bit(mdp, random_policy, s):
    """``p0 = e_s`` reproduces the single-start formulas exactly, not just closely."""
    single = restarted(mdp, start=s)
    one_hot = restarted(mdp, start_distribution=np.eye(mdp.n_states)[s])
    assert one_hot.start == s
    policy = random_policy(mdp, seed=2)
    # the single-start formulas, written out: row s of D, V_s, the solve with e_s
    D = successor_representation(one_hot, policy, LAM)
    assert np.array_equal(start_occupancy(one_hot, D), D[s])
    ev = evaluate(one_hot, policy, LAM)
    assert ev.objective == ev.value[s]
    e_s = np.zeros(mdp.n_states)
    e_s[s] = 1.0
    assert np.array_equal(ev.occupancy, np.maximum(factorize(one_hot, policy, LAM).solve(e_s, trans="T"), 0.0))
    for a, b in zip(counter_correlations(single, policy, LAM), counter_correlations(one_hot, policy, LAM)):
        assert np.array_equal(a, b)
    # and whole runs
    for method in ("newton", "natural"):
        runs = [himo.solve(m, lam=LAM, method=method, max_iter=30, store_counters=True) for m in (single, one_hot)]
        xr.testing.assert_equal(*runs)  # values bit for bit (NaN equal to NaN)
        assert runs[0].attrs["start_state"] == runs[1].attrs["start_state"] == mdp.state_labels[s]
        assert runs[0].attrs["optimal_objective"] == runs[1].attrs["optimal_objective"]


def test_evaluation_is_the_average_over_start_states(mdp, random_policy):
    """Occupancy, objective and ``<n>``, ``C`` are linear in ``p0``."""
    spread = restarted(mdp, start_distribution=P0)
    policy = random_policy(mdp, seed=5)
    ev = evaluate(spread, policy, LAM)
    singles = [evaluate(restarted(mdp, start=s), policy, LAM) for s in range(mdp.n_states)]
    np.testing.assert_allclose(ev.occupancy, sum(p * e.occupancy for p, e in zip(P0, singles)), rtol=1e-12)
    assert ev.objective == pytest.approx(sum(p * e.objective for p, e in zip(P0, singles)), rel=1e-12)
    np.testing.assert_array_equal(ev.value, singles[0].value)  # V does not depend on the start
    C, n = counter_correlations(spread, policy, LAM)
    per_start = [counter_correlations(restarted(mdp, start=s), policy, LAM) for s in range(mdp.n_states)]
    np.testing.assert_allclose(C, sum(p * c for p, (c, _) in zip(P0, per_start)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(n, sum(p * m for p, (_, m) in zip(P0, per_start)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method", ["newton", "natural", "multiplicative"])
def test_runs_from_a_distribution_reach_its_optimum(mdp, method, dense_optimum):
    spread = restarted(mdp, start_distribution=P0)
    best = float(P0 @ dense_optimum(mdp, LAM))
    optimum = value_iteration(spread, LAM)
    assert optimum.objective == pytest.approx(best, rel=1e-10)
    ds = himo.solve(spread, lam=LAM, method=method, dependent="argmax", tol=1e-9, max_iter=3000, store_counters=False)
    assert ds.attrs["stop_reason"] == "converged"
    assert ds.attrs["optimal_objective"] == pytest.approx(best, rel=1e-10)
    assert float(ds.objective[-1]) == pytest.approx(best, rel=1e-7)
    assert "start_state" not in ds.attrs
    np.testing.assert_array_equal(ds.start_distribution.values, P0)


def test_reachable_states_start_from_every_start_state(random_mdp):
    """State 2 receives no transition: it is reachable only by starting there."""
    base = random_mdp(seed=5, action_counts=(3, 2, 3, 2), unreachable=(2,))
    assert reachable_states(base).tolist() == [True, True, False, True]
    spread = restarted(base, start_distribution=[0.5, 0.0, 0.5, 0.0])
    assert reachable_states(spread).tolist() == [True, True, True, True]

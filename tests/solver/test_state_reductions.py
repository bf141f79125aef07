"""Per-state maximum and choice of a pair vector (the loop's argmax rule and the
advantage's reference action) against a plain loop over states, on both paths:
the action columns and, for very uneven action sets, the pair-order fallback."""

from __future__ import annotations

import numpy as np
import pytest

import himo.mdp
from himo.solver.policy import state_max, top_pairs


def by_loop(mdp, values, threshold, last):
    best, picked = [], []
    for s in range(mdp.n_states):
        pairs = np.arange(mdp.state_offsets[s], mdp.state_offsets[s + 1])
        best.append(values[pairs].max())
        passing = pairs[values[pairs] >= threshold[s]]
        picked.append(passing[-1] if last else passing[0])
    return np.array(best), np.array(picked)


@pytest.mark.parametrize("columns", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_max_and_top_pairs_equal_a_loop(monkeypatch, random_mdp, columns, seed):
    if not columns:
        monkeypatch.setattr(himo.mdp, "COLUMNS_LIMIT", 0)
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 5, 1, 4, 2), n_actions=6)
    assert (mdp.action_columns is not None) == columns
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, size=mdp.n_pairs).astype(float)  # many ties
    for last in (False, True):
        for threshold in (state_max(mdp, values), state_max(mdp, values) - 1.5):
            best, picked = by_loop(mdp, values, threshold, last)
            assert np.array_equal(state_max(mdp, values), best)
            assert np.array_equal(top_pairs(mdp, values, threshold, last=last), picked)


def test_action_columns_repeat_each_states_last_action(random_mdp):
    mdp = random_mdp(seed=4, action_counts=(2, 1, 3))
    np.testing.assert_array_equal(mdp.action_columns, [[0, 2, 3], [1, 2, 4], [1, 2, 5]])
    assert not mdp.action_columns.flags.writeable

"""Per-state maximum and argmax of a pair vector (the loop's argmax rule, the
advantage's reference action, the greedy policy) against a plain loop over states,
on both paths: the action columns and, for very uneven action sets, the pair order."""

from __future__ import annotations

import numpy as np
import pytest

import himo.mdp
from himo.solver.policy import state_argmax, state_max


def by_loop(mdp, values, atol, rtol, ties):
    best, picked = [], []
    for s in range(mdp.n_states):
        pairs = np.arange(mdp.state_offsets[s], mdp.state_offsets[s + 1])
        top = values[pairs].max()
        best.append(top)
        passing = pairs[values[pairs] >= top - atol - rtol * abs(top)]
        picked.append(passing[-1] if ties == "last" else passing[0])
    return np.array(best), np.array(picked)


@pytest.mark.parametrize("columns", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_max_and_argmax_equal_a_loop_on_both_paths(monkeypatch, random_mdp, columns, seed):
    if not columns:
        monkeypatch.setattr(himo.mdp, "COLUMNS_LIMIT", 0)
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 5, 1, 4, 2), n_actions=6)
    assert (mdp.action_columns is not None) == columns
    rng = np.random.default_rng(seed)
    values = rng.integers(-1, 3, size=mdp.n_pairs).astype(float)  # many ties
    values += rng.choice([0.0, 1e-10, 1e-3], size=mdp.n_pairs)  # ties within a band, and not
    for ties in ("first", "last"):
        for atol, rtol in ((0.0, 0.0), (1.5, 0.0), (0.0, 1e-9), (1e-6, 1e-9)):
            best, picked = by_loop(mdp, values, atol, rtol, ties)
            assert np.array_equal(state_max(mdp, values), best)
            assert np.array_equal(state_argmax(mdp, values, atol, ties, rtol=rtol), picked)


def test_action_columns_repeat_each_states_last_action(random_mdp):
    mdp = random_mdp(seed=4, action_counts=(2, 1, 3))
    np.testing.assert_array_equal(mdp.action_columns, [[0, 2, 3], [1, 2, 4], [1, 2, 5]])
    assert not mdp.action_columns.flags.writeable

"""The one per-state argmax (himo.solver.policy.state_argmax) against a loop over states."""

from __future__ import annotations

import numpy as np
import pytest

from himo.errors import ParameterError
from himo.solver.policy import dependent_pairs, state_argmax, state_max
from himo.solver.value_iteration import greedy_policy


def by_loop(mdp, values, atol, ties):
    picked = []
    for s in range(mdp.n_states):
        pairs = np.flatnonzero(mdp.pair_state == s)  # in action order
        best = pairs[values[pairs] >= values[pairs].max() - atol]
        picked.append(best[0] if ties == "first" else best[-1])
    return np.array(picked)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", ["first", "last"])
@pytest.mark.parametrize("atol", [0.0, 1e-6])
def test_state_argmax_matches_a_loop(random_mdp, seed, ties, atol):
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 4, 2, 5, 3))
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, size=mdp.n_pairs).astype(float)  # many exact ties
    values += rng.choice([0.0, 1e-9, 1e-3], size=mdp.n_pairs)  # ties within atol, and not
    np.testing.assert_array_equal(state_argmax(mdp, values, atol, ties), by_loop(mdp, values, atol, ties))
    np.testing.assert_array_equal(state_max(mdp, values), [values[mdp.pair_state == s].max()
                                                           for s in range(mdp.n_states)])


def test_its_users_tie_break(random_mdp):
    """The greedy policy ties to the first action, the argmax dependent rule to the last."""
    mdp = random_mdp(seed=4, action_counts=(3, 2, 4))
    flat = np.zeros(mdp.n_pairs)
    np.testing.assert_array_equal(np.flatnonzero(greedy_policy(mdp, flat)), mdp.state_offsets[:-1])
    uniform = mdp.uniform_policy()
    np.testing.assert_array_equal(dependent_pairs(mdp, "argmax", uniform), dependent_pairs(mdp, "last"))


def test_state_argmax_rejects_nan(random_mdp):
    mdp = random_mdp(seed=0)
    values = np.zeros(mdp.n_pairs)
    values[0] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        state_argmax(mdp, values)

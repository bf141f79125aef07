"""The MDP model: construction, structure and every validation error."""

from __future__ import annotations

import numpy as np
import pytest

from himo.errors import MDPError
from himo.mdp import MDP


def two_state_kwargs(**overrides):
    """A valid MDP: s0 has actions a, b; s1 has action b only."""
    kwargs = dict(
        name="tiny",
        state_labels=["s0", "s1"],
        action_labels=["a", "b"],
        pair_state=[0, 0, 1],
        pair_action=[0, 1, 1],
        P=[[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]],
        R=[1.0, 0.0, 2.0],
        start=0,
    )
    kwargs.update(overrides)
    return kwargs


def test_valid_mdp_structure():
    mdp = MDP.from_pairs(**two_state_kwargs())
    assert (mdp.n_states, mdp.n_actions, mdp.n_pairs, mdp.n_free) == (2, 2, 3, 1)
    assert mdp.actions_per_state.tolist() == [2, 1]
    assert mdp.state_offsets.tolist() == [0, 2, 3]
    assert mdp.available().tolist() == [[True, True], [False, True]]
    assert mdp.pair_index("s0", "b") == 1 and mdp.pair_index(1, "b") == 2
    np.testing.assert_allclose(mdp.uniform_policy(), [0.5, 0.5, 1.0])
    T = mdp.state_transitions(np.array([0.25, 0.75, 1.0])).toarray()
    np.testing.assert_allclose(T, [[0.125, 0.875], [1.0, 0.0]])
    assert mdp.role("start").tolist() == [True, False]
    assert mdp.role("goal").tolist() == [False, False]
    with pytest.raises(MDPError, match="'a' is not available in state 's1'"):
        mdp.pair_index("s1", "a")
    with pytest.raises(MDPError, match="no state labelled 'nope'"):
        mdp.state_index("nope")


def test_pairs_in_any_order_are_sorted_together():
    shuffled = MDP.from_pairs(**two_state_kwargs(
        pair_state=[1, 0, 0], pair_action=[1, 1, 0],
        P=[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], R=[2.0, 0.0, 1.0],
    ))
    sorted_ = MDP.from_pairs(**two_state_kwargs())
    np.testing.assert_array_equal(shuffled.P.toarray(), sorted_.P.toarray())
    np.testing.assert_array_equal(shuffled.R, sorted_.R)
    np.testing.assert_array_equal(shuffled.pair_action, sorted_.pair_action)


def test_start_by_label():
    assert MDP.from_pairs(**two_state_kwargs(start="s1")).start == 1


def test_start_state_is_a_one_hot_start_distribution():
    by_state = MDP.from_pairs(**two_state_kwargs(start="s1"))
    by_distribution = MDP.from_pairs(**two_state_kwargs(start=None, start_distribution=[0.0, 1.0]))
    for mdp in (by_state, by_distribution):
        assert mdp.start_distribution.tolist() == [0.0, 1.0]
        assert mdp.start == 1 and mdp.start_states.tolist() == [1]
        assert not mdp.start_distribution.flags.writeable
        assert "start='s1'" in repr(mdp)


def test_start_distribution_over_several_states():
    p0 = np.array([0.25, 0.75])
    mdp = MDP.from_pairs(**two_state_kwargs(start=None, start_distribution=p0))
    p0[0] = 0.5  # the MDP keeps its own copy
    assert mdp.start_distribution.tolist() == [0.25, 0.75]
    assert mdp.start_states.tolist() == [0, 1]
    assert mdp.role("start").tolist() == [True, True]
    assert "distribution over 2 states" in repr(mdp)
    with pytest.raises(MDPError, match=r"MDP 'tiny' starts from a distribution over 2 states, not from one"):
        mdp.start


@pytest.mark.parametrize(
    "overrides, match",
    [
        pytest.param(dict(P=[[0.5, 0.4], [0.0, 1.0], [1.0, 0.0]]),
                     r"probabilities of pair \(s=s0, a=a\) sum to 0\.9, not 1", id="sum-not-1"),
        pytest.param(dict(P=[[0.5, 0.5], [0.0, 1.0], [1.5, -0.5]]),
                     r"pair \(s=s1, a=b\) has a negative probability", id="negative"),
        pytest.param(dict(pair_state=[0, 0, 0, 1], pair_action=[0, 1, 1, 1],
                          P=[[1, 0], [0, 1], [0, 1], [1, 0]], R=[0, 0, 0, 0]),
                     r"pair \(s=s0, a=b\) is given twice", id="duplicate-pair"),
        pytest.param(dict(state_labels=["s0", "s1", "s2"], P=[[0.5, 0.5, 0], [0, 1, 0], [1, 0, 0]]),
                     r"state 's2' has no available action", id="state-without-action"),
        pytest.param(dict(start=2), r"start index 2 is outside 0\.\.1", id="start-out-of-range"),
        pytest.param(dict(start=-1), r"start index -1", id="start-negative"),
        pytest.param(dict(start="s9"), r"start state 's9' is not a state label", id="start-unknown-label"),
        pytest.param(dict(start=1.0), r"start must be a state index or label, got 1\.0", id="start-float"),
        pytest.param(dict(start=None), r"give exactly one of start \(a state\) and start_distribution",
                     id="no-start"),
        pytest.param(dict(start_distribution=[0.5, 0.5]), r"give exactly one of start", id="two-starts"),
        pytest.param(dict(start=None, start_distribution=[1.5, -0.5]),
                     r"start_distribution of state 's1' is negative \(-0\.5\)", id="p0-negative"),
        pytest.param(dict(start=None, start_distribution=[0.5, 0.4]),
                     r"start_distribution sums to 0\.9, not 1", id="p0-sum-not-1"),
        pytest.param(dict(start=None, start_distribution=[0.0, 0.0]),
                     r"start_distribution puts no probability on any state", id="p0-on-no-state"),
        pytest.param(dict(start=None, start_distribution=[np.nan, 1.0]),
                     r"start_distribution of state 's0' is not finite", id="p0-nan"),
        pytest.param(dict(start=None, start_distribution=[1.0]),
                     r"start_distribution must have one entry per state \(2\), got shape \(1,\)", id="p0-shape"),
        pytest.param(dict(start=None, start_distribution=["a", "b"]),
                     r"start_distribution must be numbers", id="p0-not-numbers"),
        pytest.param(dict(state_labels=["s0", "s0"]), r"state label 's0' is used twice", id="duplicate-state-label"),
        pytest.param(dict(action_labels=["a", "a"]), r"action label 'a' is used twice", id="duplicate-action-label"),
        pytest.param(dict(P=[[0.5, np.nan], [0.0, 1.0], [1.0, 0.0]]), r"not all finite", id="nan-probability"),
        pytest.param(dict(R=[1.0, np.inf, 0.0]), r"reward of pair \(s=s0, a=b\) is not finite", id="infinite-reward"),
        pytest.param(dict(P=[[0.5, 0.5], [0.0, 1.0]]), r"P must have shape \(n_pairs, n_states\)", id="P-shape"),
        pytest.param(dict(R=[1.0, 2.0]), r"one entry per pair", id="R-length"),
        pytest.param(dict(pair_action=[0, 1, 2]), r"action index is outside 0\.\.1", id="action-index"),
        pytest.param(dict(layout=np.zeros((3, 2))), r"layout must have shape \(2, 2\)", id="layout-shape"),
        pytest.param(dict(colour=[1, 2]), r"unknown MDP metadata", id="unknown-metadata"),
        pytest.param(dict(roles={"goal": [True]}), r"role 'goal' must be a mask of 2 states", id="role-shape"),
        pytest.param(dict(cluster=[0, 1, 2]), r"cluster must have one entry per state", id="cluster-shape"),
    ],
)
def test_validation_errors(overrides, match):
    with pytest.raises(MDPError, match=match) as err:
        MDP.from_pairs(**two_state_kwargs(**overrides))
    assert str(err.value).startswith("MDP 'tiny': "), "every validation error names the MDP first"


def test_probability_tolerance():
    """Rows may miss 1 by rounding (1e-12), not by more than PROBABILITY_ATOL."""
    MDP.from_pairs(**two_state_kwargs(P=[[0.5, 0.5 + 1e-12], [0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(MDPError, match="sum to"):
        MDP.from_pairs(**two_state_kwargs(P=[[0.5, 0.5 + 1e-6], [0.0, 1.0], [1.0, 0.0]]))


def test_count_of_bad_pairs_is_reported():
    with pytest.raises(MDPError, match=r"\(2 pair\(s\) affected\)"):
        MDP.from_pairs(**two_state_kwargs(P=[[0.5, 0.4], [0.0, 0.9], [1.0, 0.0]]))


def test_metadata_is_normalised():
    mdp = MDP.from_pairs(**two_state_kwargs(
        layout=[[0, 0], [1, 0]], roles={"goal": [0, 1]}, cluster=[0, 1], attrs={"k": 1},
    ))
    assert mdp.layout.dtype == float and mdp.cluster.dtype == np.int64
    assert mdp.role("goal").tolist() == [False, True]
    assert mdp.attrs == {"k": 1}

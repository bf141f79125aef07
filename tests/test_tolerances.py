"""Each tolerance of himo.tolerances decides where its users tie: a tenth of it inside
ties (or passes), ten times it outside orders (or fails), through the functions that
use it. docs/MATH.md ("Tolerances and tie rules") names these tests; tests/test_docs.py
checks that it names every tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from himo.errors import MDPError, ParameterError
from himo.importers.arrays import ArrayLayoutError, from_arrays
from himo.importers.gymnasium import GymnasiumError, from_gymnasium
from himo.mdp import MDP, path_start
from himo.measures.dataset import path_actions, priority
from himo.solver.policy import validate_policy
from himo.solver.value_iteration import Optimum, best_pairs, optimal_pairs
from himo.measures.orders import earliest, latest, precedence_ranks, precedes, time_sort_keys, tied
from himo.tolerances import (ACTION_VALUE_RTOL, PATH_ACTION_ATOL, PRIORITY_MIN_PD, PRIORITY_RTOL, PROBABILITY_ATOL,
                             action_value_atol, differs_from_one, same_time)

INSIDE, OUTSIDE = 0.1, 10.0  # multiples of a tolerance


def two_state_mdp(P=((0.5, 0.5), (0.0, 1.0), (1.0, 0.0)), R=(1.0, 0.0, 2.0), **start) -> MDP:
    """s0 has actions a, b; s1 has action b only."""
    return MDP.from_pairs(name="tiny", state_labels=["s0", "s1"], action_labels=["a", "b"],
                          pair_state=[0, 0, 1], pair_action=[0, 1, 1], P=[list(row) for row in P], R=list(R),
                          **(start or {"start": 0}))


class OneStateModel:
    """A Gymnasium-like model (``P[s][a]`` lists of outcomes) of one state and one action."""

    initial_state_distrib = np.array([1.0])
    unwrapped = property(lambda self: self)

    def __init__(self, outcomes):
        self.P = {0: {0: outcomes}}


# ---------------------------------------------------------------- PROBABILITY_ATOL
def test_probability_totals_differ_from_one_beyond_the_tolerance():
    totals = 1 + np.array([0.0, INSIDE, -INSIDE, OUTSIDE, -OUTSIDE]) * PROBABILITY_ATOL
    assert differs_from_one(totals).tolist() == [False, False, False, True, True]
    assert not differs_from_one(1 + INSIDE * PROBABILITY_ATOL) and differs_from_one(1 - OUTSIDE * PROBABILITY_ATOL)


@pytest.mark.parametrize("multiple, accepted", [(INSIDE, True), (OUTSIDE, False)])
def test_every_reader_of_given_probabilities_sums_them_alike(multiple, accepted):
    """Transition rows, a start distribution, the two importers and an initial policy."""
    off = multiple * PROBABILITY_ATOL
    mdp = two_state_mdp()
    cases = [
        (lambda: two_state_mdp(P=((0.5, 0.5 + off), (0.0, 1.0), (1.0, 0.0))), MDPError),
        (lambda: two_state_mdp(start_distribution=[0.5, 0.5 + off]), MDPError),
        (lambda: from_arrays("pymdptoolbox", P=np.array([[[0.5, 0.5 + off], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]]),
                             R=np.zeros((2, 2))), ArrayLayoutError),
        (lambda: from_gymnasium(OneStateModel([(0.5, 0, 1.0, False), (0.5 + off, 0, 1.0, False)])), GymnasiumError),
        (lambda: validate_policy(mdp, np.array([0.5, 0.5 + off, 1.0])), ParameterError),
    ]
    for build, error in cases:
        if accepted:
            build()
        else:
            with pytest.raises(error, match="sum") as raised:
                build()
            assert type(raised.value) is error  # the reader's own error, not a later check's


def test_start_probabilities_within_the_tolerance_are_tied():
    p = 0.25
    assert path_start(np.array([p, p + INSIDE * PROBABILITY_ATOL, p, p - INSIDE * PROBABILITY_ATOL])) == 0
    assert path_start(np.array([p, p + OUTSIDE * PROBABILITY_ATOL, p, p - OUTSIDE * PROBABILITY_ATOL])) == 1


# ---------------------------------------------------------------- PATH_ACTION_ATOL
@pytest.mark.parametrize("multiple, action", [(INSIDE, 0), (OUTSIDE, 1)])
def test_path_actions_tie_probabilities_within_the_tolerance(multiple, action):
    """The second action more probable by a tenth of the tolerance is tied (the first
    wins); by ten times it, it is taken."""
    mdp = two_state_mdp()
    lead = multiple * PATH_ACTION_ATOL
    policy = np.array([[0.5 - lead / 2, 0.5 + lead / 2], [0.0, 1.0]])
    assert path_actions(mdp, policy)[0] == action


# --------------------------------------------------------------- ACTION_VALUE_RTOL
@pytest.mark.parametrize("lam", [0.5, 0.9])
def test_action_values_tie_relative_to_the_reward_scale(lam):
    """The absolute tolerance is ACTION_VALUE_RTOL max|R| / (1 - lambda); action values
    closer than it are both optimal, farther ones are not."""
    mdp = two_state_mdp(R=(-3.0, 0.5, 2.0))
    scale = 3.0 / (1 - lam)  # max |R| / (1 - lambda), by hand
    assert action_value_atol(mdp, lam) == pytest.approx(ACTION_VALUE_RTOL * scale, rel=1e-15)
    for multiple, both in [(INSIDE, True), (OUTSIDE, False)]:
        q = np.array([scale, scale - multiple * ACTION_VALUE_RTOL * scale, 1.0])
        optimum = Optimum(value=np.zeros(2), q=q, greedy=np.zeros(3), iterations=0, objective=0.0)
        assert optimal_pairs(mdp, lam, optimum).tolist() == [True, both, True]
        assert best_pairs(mdp, q, action_value_atol(mdp, lam)).tolist() == [True, both, True]


# ---------------------------------------------------------------- PRIORITY_MIN_PD
def test_a_policy_divergence_up_to_the_floor_has_no_priority():
    """A PD that rises to exactly the floor, or a tenth of it, gives no priority; ten
    times the floor gives one."""
    time = np.linspace(0.0, 1.0, 11)
    rise = 1 / (1 + np.exp(-(time - 0.5) / 0.1))
    rise /= rise.max()  # exactly 1 at the end
    pd = np.column_stack([rise * PRIORITY_MIN_PD, rise * INSIDE * PRIORITY_MIN_PD, rise * OUTSIDE * PRIORITY_MIN_PD])
    prio = priority(pd, time)
    assert np.isnan(prio[0]) and np.isnan(prio[1]) and 0.4 <= prio[2] <= 0.6


# ------------------------------------------------------------------ PRIORITY_RTOL
@pytest.mark.parametrize("fine", [False, True], ids=["no grid", "a grid finer than the difference"])
def test_priorities_at_one_time_are_never_ordered(fine):
    """Priorities a tenth of PRIORITY_RTOL apart (relative) are one time: never ordered,
    with no grid (an exact order) or on a grid spaced a thousandth of their difference
    (steps halved far down), and every one of them is named where one is picked; ten
    times apart, they are ordered and named alone."""
    a = 1.7281265556852228  # Hanoi's 210 at foresight 0.9
    for multiple, one_time in [(INSIDE, True), (OUTSIDE, False)]:
        b = a * (1 + multiple * PRIORITY_RTOL)
        grid = np.unique(np.r_[np.arange(0.0, 4.01, 0.25), np.linspace(2 * a - b, 2 * b - a, 3001)]) if fine else None
        assert same_time(a, b) == same_time(b, a) == one_time
        assert precedes(a, b, grid) != one_time and not precedes(b, a, grid)
        assert tied(a, b, grid) == one_time
        times = np.array([b, 3.0, a])
        assert precedence_ranks(times, grid).tolist() == ([0, 2, 0] if one_time else [1, 2, 0])
        assert earliest(times, [0, 1, 2]) == ([0, 2] if one_time else [2])  # in the candidates' order
        assert latest(-times, [2, 1, 0]) == ([2, 0] if one_time else [2])
        keys = time_sort_keys(times)
        assert (keys[0] == keys[2]) == one_time and keys[1] == 3.0
    assert same_time(0.0, 0.0) and not same_time(0.0, 1e-300)

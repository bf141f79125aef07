"""The one rule by which a priority precedes another, the ranks and Kendall's tau-b it
gives, against hand-computed cases and a pair count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from himo.analysis.orders import (
    compare_orders,
    grid_resolution,
    kendall_tau,
    normalized_times,
    pair_signs,
    path_ranks,
    path_resolution,
    precedence_ranks,
    precedes,
    tau_b,
    tied,
)


# ------------------------------------------------------------------ the rule
def test_closer_than_the_resolution_is_tied_farther_is_ordered():
    """Binary fractions, so that no difference is round-off: at resolution 0.25,
    1.0 and 1.125 are tied, 1.0 precedes 1.25 (exactly one resolution apart) and 1.5."""
    assert tied(1.0, 1.125, 0.25) and tied(1.125, 1.0, 0.25)
    assert not precedes(1.0, 1.125, 0.25) and not precedes(1.125, 1.0, 0.25)
    assert precedes(1.0, 1.25, 0.25) and not precedes(1.25, 1.0, 0.25) and not tied(1.0, 1.25, 0.25)
    assert precedes(1.0, 1.5, 0.25)
    # a difference of 1e-9 is a tie at any resolution the grid gives, never an order
    assert tied(1.0, 1.0 + 1e-9, 0.1)
    # resolution 0: an exact order (the DP sweeps), equal values tied
    assert precedes(1.0, 1.0 + 1e-9, 0.0) and tied(2.0, 2.0, 0.0) and not precedes(2.0, 2.0, 0.0)
    np.testing.assert_array_equal(precedes([1.0, 1.0, 1.0], [1.125, 1.25, 0.5], 0.25), [False, True, False])


def test_ties_do_not_chain():
    """0 and 0.2 are tied, 0.2 and 0.4 are tied, but 0 precedes 0.4 (resolution 0.25):
    the rule is pairwise, so the ranks are 0, 0, 1 (chained tie groups would give 0, 0, 0)."""
    times = np.array([0.0, 0.2, 0.4])
    assert tied(times[0], times[1], 0.25) and tied(times[1], times[2], 0.25)
    assert precedes(times[0], times[2], 0.25)
    np.testing.assert_array_equal(precedence_ranks(times, 0.25), [0, 0, 1])
    np.testing.assert_array_equal(pair_signs(times, 0.25), [0, -1, 0])  # pairs (0,1) (0,2) (1,2)


def test_ranks_count_the_priorities_that_precede():
    times = np.array([0.30, 0.10, 0.1004, 0.50, 0.1009])
    np.testing.assert_array_equal(precedence_ranks(times, 1e-3), [3, 0, 0, 4, 0])
    np.testing.assert_array_equal(precedence_ranks(times, 1e-4), [3, 0, 1, 4, 2])
    np.testing.assert_array_equal(precedence_ranks([2.0, 1.0, 1.0, 3.0], 0.0), [2, 0, 0, 3])  # exact ties
    assert precedence_ranks(np.array([]), 0.1).size == 0


@pytest.mark.parametrize("seed", range(5))
def test_equal_ranks_are_tied_and_ranks_never_contradict_the_rule(seed):
    """On random times: states of one rank are tied; a state that precedes another has
    a smaller rank."""
    rng = np.random.default_rng(seed)
    times, resolution = rng.random(15), 0.08
    rank = precedence_ranks(times, resolution)
    for i, j in itertools.permutations(range(times.size), 2):
        if rank[i] == rank[j]:
            assert tied(times[i], times[j], resolution)
        if precedes(times[i], times[j], resolution):
            assert rank[i] < rank[j]


def pair_count_tau_b(x, y):
    """tau-b from its definition: (concordant - discordant) / sqrt((n0 - n1)(n0 - n2))."""
    concordant = discordant = ties_x = ties_y = 0
    pairs = list(itertools.combinations(range(len(x)), 2))
    for i, j in pairs:
        sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        ties_x += sx == 0
        ties_y += sy == 0
        concordant += sx * sy > 0
        discordant += sx * sy < 0
    n0 = len(pairs)
    return (concordant - discordant) / np.sqrt((n0 - ties_x) * (n0 - ties_y))


@pytest.mark.parametrize("seed", range(5))
def test_kendall_tau_with_round_off_ties_is_tau_b_of_the_rounded_times(seed):
    rng = np.random.default_rng(seed)
    times = np.round(rng.random(9), 1) + rng.normal(scale=1e-9, size=9)  # near-ties from round-off
    reference = rng.integers(0, 4, size=9)
    expected = pair_count_tau_b(np.round(times, 1), reference)
    assert kendall_tau(times, reference, resolution=1e-6) == pytest.approx(expected, abs=1e-12)


def test_kendall_tau_counts_pairs_by_the_rule():
    """0, 0.2, 0.4 at resolution 0.25 against the order 0, 1, 2: one pair concordant,
    two tied in the priorities only: tau-b = 1 / sqrt(1 * 3) (chained ties: NaN)."""
    assert kendall_tau([0.0, 0.2, 0.4], [0, 1, 2], 0.25) == pytest.approx(1 / np.sqrt(3))
    assert kendall_tau([0.0, 0.2, 0.4], [0, 1, 2], 0.1) == pytest.approx(1.0)


def test_kendall_tau_extremes_and_missing_values():
    assert kendall_tau([1.0, 2.0, 3.0], [0, 1, 2], 1e-6) == pytest.approx(1.0)
    assert kendall_tau([3.0, 2.0, 1.0], [0, 1, 2], 1e-6) == pytest.approx(-1.0)
    assert kendall_tau([1.0, np.nan, 3.0, 2.0], [0, 5, 2, 1], 1e-6) == pytest.approx(1.0)
    assert np.isnan(kendall_tau([1.0, 1.0 + 1e-9], [0, 1], 1e-6))  # tied: no order
    assert np.isnan(kendall_tau([1.0], [0], 1e-6))


# ------------------------------------------------------------ resolution, ranks
def test_grid_resolution_is_the_widest_spacing_over_the_window():
    time = np.array([0.0, 0.1, 0.2, 0.4, 0.5, 1.5, 1.6])
    assert grid_resolution(time, [0.15, 0.45]) == pytest.approx(0.2)  # [0.2, 0.4] lies inside
    assert grid_resolution(time, [0.1, 0.1]) == pytest.approx(0.1)  # a grid point: both sides
    assert grid_resolution(time, [0.5, np.nan]) == pytest.approx(1.0)  # [0.5, 1.5] meets 0.5
    assert grid_resolution(np.arange(0.0, 3.0, 0.25), [0.6, 2.1]) == pytest.approx(0.25)  # even: the step
    assert np.isnan(grid_resolution(time, [np.nan]))
    assert np.isnan(grid_resolution([0.0], [0.0]))
    with pytest.raises(ValueError, match="outside the time grid"):
        grid_resolution(time, [0.5, 2.0])
    on_path = np.array([True, True, False])
    assert path_resolution([0.15, 0.45, 1.55], on_path, time) == pytest.approx(0.2)  # off-path 1.55 left out


def test_path_ranks_and_normalized_times():
    priorities = np.array([3.0, 1.0, 1.05, np.nan, 2.0, 0.5])
    on_path = np.array([True, True, True, True, True, False])
    # at 0.1, 1.0 and 1.05 are tied (both rank 0); 2.0 comes after both, 3.0 after three
    np.testing.assert_array_equal(path_ranks(priorities, on_path, 0.1), [3, 0, 0, -1, 2, -1])
    np.testing.assert_array_equal(path_ranks(priorities, on_path, 0.01), [3, 0, 1, -1, 2, -1])
    np.testing.assert_allclose(normalized_times(priorities, on_path), [1.0, 0.0, 0.025, np.nan, 0.5, np.nan])
    assert np.isnan(normalized_times([2.0, 2.0], [True, True])).all()


def test_compare_orders_by_hand():
    """Four on-path states at DP sweeps 0..3, priorities 0, 1, 2 and 2.05 on a grid of
    step 0.1: the last two are tied, so of the 6 pairs 5 are concordant, none
    discordant, one tied in the priorities only: tau-b = 5 / sqrt(5 * 6)."""
    time = np.arange(0.0, 3.01, 0.1)
    priorities = np.array([0.0, 1.0, 2.0, 2.05, 0.3])
    on_path = np.array([True, True, True, True, False])
    dp = np.array([0, 1, 2, 3, 9])
    compared = compare_orders(priorities, on_path, dp, time)
    assert compared.resolution == pytest.approx(0.1)
    assert compared.tau == pytest.approx(5 / np.sqrt(30))
    np.testing.assert_array_equal(compared.ranks, [0, 1, 2, 2, -1])
    assert (compared.n_compared, compared.n_groups) == (4, 3)
    # a negative reference (no goal reachable) leaves the state out
    assert compare_orders(priorities, on_path, [0, 1, 2, -1, 9], time).n_compared == 3


@pytest.mark.parametrize("seed", range(5))
def test_tau_b_is_scipys(seed):
    """The pair count of exact orders against scipy's tau-b (an independent
    implementation), ties included."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 5, size=12), rng.integers(0, 4, size=12)
    expected = kendalltau(x, y, variant="b").statistic
    assert tau_b(pair_signs(x, 0.0), pair_signs(y, 0.0)) == pytest.approx(expected, abs=1e-12)
    assert kendall_tau(x, y, 0.0) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(tau_b(pair_signs(np.zeros(4), 0.0), pair_signs(y[:4], 0.0)))

"""The one rule by which a priority precedes another (on the run's time grid), the ranks
and Kendall's tau-b it gives, against hand-computed cases, a brute force and a pair count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from himo.measures.orders import (
    compare_pair_orders,
    compare_orders,
    grid_resolution,
    kendall_tau,
    normalized_times,
    pair_resolution,
    pair_signs,
    path_ranks,
    path_resolution,
    precedence_ranks,
    precedes,
    tau_b,
    tied,
)

#: An even grid of step 0.25 (a binary fraction: no difference below is round-off).
QUARTER = np.arange(0.0, 10.01, 0.25)
#: An uneven grid: steps 0.1, 0.1, 0.2, 0.1, 1.0, 0.1.
UNEVEN = np.array([0.0, 0.1, 0.2, 0.4, 0.5, 1.5, 1.6])


# ------------------------------------------------------------ the resolution
def test_pair_resolution_is_the_widest_spacing_between_the_two():
    assert pair_resolution(UNEVEN, 0.15, 0.45) == pytest.approx(0.2)  # [0.2, 0.4] lies between
    assert pair_resolution(UNEVEN, 0.45, 0.15) == pytest.approx(0.2)  # symmetric
    assert pair_resolution(UNEVEN, 0.05, 0.06) == pytest.approx(0.1)  # inside one interval
    assert pair_resolution(UNEVEN, 0.1, 0.1) == pytest.approx(0.1)  # a grid point: both sides
    assert pair_resolution(UNEVEN, 0.5, 0.5) == pytest.approx(1.0)  # [0.5, 1.5] meets 0.5
    assert pair_resolution(UNEVEN, 0.05, 1.55) == pytest.approx(1.0)
    np.testing.assert_allclose(pair_resolution(UNEVEN, [[0.05], [0.3]], [[0.06, 1.55]]), [[0.1, 1.0], [0.2, 1.0]])
    assert np.isnan(pair_resolution([0.0], 0.0, 0.0))
    with pytest.raises(ValueError, match="outside the time grid"):
        pair_resolution(UNEVEN, 0.5, 2.0)
    with pytest.raises(ValueError, match="1-d"):
        precedes(1.0, 2.0, 0.1)  # a resolution where the grid belongs


@pytest.mark.parametrize("seed", range(3))
def test_pair_resolution_against_a_brute_force(seed):
    rng = np.random.default_rng(seed)
    time = np.cumsum(rng.exponential(size=300))
    a, b = rng.uniform(time[0], time[-1], size=(25, 1)), rng.uniform(time[0], time[-1], size=(1, 25))
    got = pair_resolution(time, a, b)
    for i, j in itertools.product(range(25), range(25)):
        low, high = sorted((a[i, 0], b[0, j]))
        meets = (time[1:] >= low) & (time[:-1] <= high)
        assert got[i, j] == np.diff(time)[meets].max()


def test_grid_resolution_is_the_widest_spacing_over_the_window():
    assert grid_resolution(UNEVEN, [0.15, 0.3, 0.45]) == pytest.approx(0.2)
    assert grid_resolution(UNEVEN, [0.5, np.nan]) == pytest.approx(1.0)
    assert grid_resolution(np.arange(0.0, 3.0, 0.25), [0.6, 2.1]) == pytest.approx(0.25)  # even: the step
    assert np.isnan(grid_resolution(UNEVEN, [np.nan]))
    assert np.isnan(grid_resolution([0.0], [0.0]))
    on_path = np.array([True, True, False])
    assert path_resolution([0.15, 0.45, 1.55], on_path, UNEVEN) == pytest.approx(0.2)  # off-path 1.55 left out


# ------------------------------------------------------------------ the rule
def test_closer_than_the_resolution_is_tied_farther_is_ordered():
    """Step 0.25: 1.0 and 1.125 are tied, 1.0 precedes 1.25 (exactly one step later)."""
    assert tied(1.0, 1.125, QUARTER) and tied(1.125, 1.0, QUARTER)
    assert not precedes(1.0, 1.125, QUARTER) and not precedes(1.125, 1.0, QUARTER)
    assert precedes(1.0, 1.25, QUARTER) and not precedes(1.25, 1.0, QUARTER) and not tied(1.0, 1.25, QUARTER)
    assert precedes(1.0, 1.5, QUARTER)
    # a difference of 1e-9 is a tie on any grid, never an order
    assert tied(1.0, 1.0 + 1e-9, np.linspace(0.0, 2.0, 2001))
    # no grid: an exact order (the DP sweeps), equal values tied
    assert precedes(1.0, 1.0 + 1e-9, None) and tied(2.0, 2.0, None) and not precedes(2.0, 2.0, None)
    np.testing.assert_array_equal(precedes([1.0, 1.0, 1.0], [1.125, 1.25, 0.5], QUARTER), [False, True, False])


def test_the_resolution_is_the_grids_between_the_two():
    """On UNEVEN, 0.05 and 0.3 (0.25 apart, the widest spacing between them 0.2) are
    ordered; 0.45 and 0.6 (0.15 apart, 1.0 between them) are tied; 0.05 and 0.12
    (0.07 apart, 0.1 between) are tied."""
    assert precedes(0.05, 0.3, UNEVEN)
    assert tied(0.45, 0.6, UNEVEN)
    assert tied(0.05, 0.12, UNEVEN)
    # the same two priorities, the same answer whatever else is compared: a late
    # priority on the wide spacing (1.2: tied with 0.3, 0.9 before it) does not tie
    # the early ones (the widest spacing over the window of all three would)
    np.testing.assert_array_equal(precedence_ranks([0.05, 0.3, 1.2], UNEVEN), [0, 1, 1])


def test_ties_do_not_chain():
    """0 and 0.2 are tied, 0.2 and 0.4 are tied, but 0 precedes 0.4 (step 0.25): the
    rule is pairwise, so the ranks are 0, 0, 1 (chained tie groups would give 0, 0, 0)."""
    times = np.array([0.0, 0.2, 0.4])
    assert tied(times[0], times[1], QUARTER) and tied(times[1], times[2], QUARTER)
    assert precedes(times[0], times[2], QUARTER)
    np.testing.assert_array_equal(precedence_ranks(times, QUARTER), [0, 0, 1])
    np.testing.assert_array_equal(pair_signs(times, QUARTER), [0, -1, 0])  # pairs (0,1) (0,2) (1,2)


def test_ranks_count_the_priorities_that_precede():
    times = np.array([0.30, 0.10, 0.1004, 0.50, 0.1009])
    np.testing.assert_array_equal(precedence_ranks(times, np.linspace(0.0, 1.0, 1001)), [3, 0, 0, 4, 0])
    np.testing.assert_array_equal(precedence_ranks(times, np.linspace(0.0, 1.0, 10001)), [3, 0, 1, 4, 2])
    np.testing.assert_array_equal(precedence_ranks([2.0, 1.0, 1.0, 3.0], None), [2, 0, 0, 3])  # exact ties
    assert precedence_ranks(np.array([]), QUARTER).size == 0


@pytest.mark.parametrize("seed", range(5))
def test_equal_ranks_are_tied_and_ranks_never_contradict_the_rule(seed):
    """On random times and a random uneven grid: precedes is transitive, states of one
    rank are tied, and a state that precedes another has a smaller rank."""
    rng = np.random.default_rng(seed)
    time = np.cumsum(rng.exponential(0.05, size=60))
    times = rng.uniform(time[0], time[-1], size=15)
    rank = precedence_ranks(times, time)
    for i, j in itertools.permutations(range(times.size), 2):
        if rank[i] == rank[j]:
            assert tied(times[i], times[j], time)
        if precedes(times[i], times[j], time):
            assert rank[i] < rank[j]
            assert all(precedes(times[i], times[k], time) for k in range(times.size)
                       if precedes(times[j], times[k], time))


# ------------------------------------------------------------ Kendall's tau
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
    assert kendall_tau(times, reference, np.linspace(-1.0, 2.0, 301)) == pytest.approx(expected, abs=1e-12)


def test_kendall_tau_counts_pairs_by_the_rule():
    """0, 0.2, 0.4 at step 0.25 against the order 0, 1, 2: one pair concordant, two
    tied in the priorities only: tau-b = 1 / sqrt(1 * 3) (chained ties: NaN)."""
    assert kendall_tau([0.0, 0.2, 0.4], [0, 1, 2], QUARTER) == pytest.approx(1 / np.sqrt(3))
    assert kendall_tau([0.0, 0.2, 0.4], [0, 1, 2], np.linspace(0.0, 1.0, 11)) == pytest.approx(1.0)


def test_kendall_tau_extremes_and_missing_values():
    grid = np.linspace(0.0, 4.0, 401)
    assert kendall_tau([1.0, 2.0, 3.0], [0, 1, 2], grid) == pytest.approx(1.0)
    assert kendall_tau([3.0, 2.0, 1.0], [0, 1, 2], grid) == pytest.approx(-1.0)
    assert kendall_tau([1.0, np.nan, 3.0, 2.0], [0, 5, 2, 1], grid) == pytest.approx(1.0)
    assert np.isnan(kendall_tau([1.0, 1.0 + 1e-9], [0, 1], grid))  # tied: no order
    assert np.isnan(kendall_tau([1.0], [0], grid))


@pytest.mark.parametrize("seed", range(5))
def test_tau_b_is_scipys(seed):
    """The pair count of exact orders against scipy's tau-b (an independent
    implementation), ties included."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 5, size=12), rng.integers(0, 4, size=12)
    expected = kendalltau(x, y, variant="b").statistic
    assert tau_b(pair_signs(x, None), pair_signs(y, None)) == pytest.approx(expected, abs=1e-12)
    assert kendall_tau(x, y, None) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(tau_b(pair_signs(np.zeros(4), None), pair_signs(y[:4], None)))


# ------------------------------------------------------------ the path's order
def test_path_ranks_and_normalized_times():
    priorities = np.array([3.0, 1.0, 1.05, np.nan, 2.0, 0.5])
    on_path = np.array([True, True, True, True, True, False])
    # step 0.1: 1.0 and 1.05 are tied (both rank 0); 2.0 comes after both, 3.0 after three
    np.testing.assert_array_equal(path_ranks(priorities, on_path, np.linspace(0.0, 4.0, 41)), [3, 0, 0, -1, 2, -1])
    np.testing.assert_array_equal(path_ranks(priorities, on_path, np.linspace(0.0, 4.0, 401)), [3, 0, 1, -1, 2, -1])
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


def test_compare_pair_orders_by_hand():
    """States 0..3 ordered 0 < 1 < 2 < 3 by the first run (0.5 apart on a 0.1 grid); the
    second puts 1 after 2 and 3, and ties 2 with 3 (0.05 apart on its grid): of the 6
    pairs, 3 alike, 2 reversed ((1, 2), (1, 3)), 1 ordered by one run only (2, 3)."""
    grid = np.arange(0.0, 5.0, 0.1)
    first = np.array([1.0, 1.5, 2.0, 2.5])
    second = np.array([1.0, 2.0, 1.5, 1.55])
    found = compare_pair_orders(np.arange(4), first, grid, second, grid)
    assert (found.alike, found.reversed, found.one_only) == (3, 2, 1)
    assert found.reversed_pairs == [(1, 2), (1, 3)]


def test_two_numbers_take_the_rule_of_the_arrays():
    """precedes on two numbers (its fast path) gives the broadcast rule's answer, on random
    grids and priorities, round-off ties and the grid's ends included."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        time = np.cumsum(np.concatenate([[0.0], rng.exponential(size=rng.integers(1, 30))]))
        a = rng.uniform(time[0], time[-1], size=20)
        b = np.concatenate([rng.uniform(time[0], time[-1], size=16), a[:2] * (1 + 1e-12), time[[0, -1]]])
        pairs = [(x, y) for x in a for y in b] + [(y, x) for x in a for y in b]
        expected = precedes(np.array([x for x, _ in pairs]), np.array([y for _, y in pairs]), time)
        assert [precedes(float(x), float(y), time) for x, y in pairs] == list(expected)
        assert [precedes(float(x), float(y), None) for x, y in pairs] == list(
            precedes(np.array([x for x, _ in pairs]), np.array([y for _, y in pairs]), None))

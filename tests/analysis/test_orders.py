"""Tie groups and Kendall's tau-b, against hand-computed cases and a pair count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from himo.analysis.orders import kendall_tau, tie_groups


def test_tie_groups_chain_near_equal_times():
    times = np.array([0.30, 0.10, 0.1004, 0.50, 0.1009])
    np.testing.assert_array_equal(tie_groups(times, 1e-3), [1, 0, 0, 2, 0])
    np.testing.assert_array_equal(tie_groups(times, 1e-4), [3, 0, 1, 4, 2])


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
def test_kendall_tau_is_tau_b_of_the_tie_groups(seed):
    rng = np.random.default_rng(seed)
    times = np.round(rng.random(9), 1) + rng.normal(scale=1e-9, size=9)  # near-ties from round-off
    reference = rng.integers(0, 4, size=9)
    expected = pair_count_tau_b(np.round(times, 1), reference)
    assert kendall_tau(times, reference, resolution=1e-6) == pytest.approx(expected, abs=1e-12)


def test_kendall_tau_extremes_and_missing_values():
    assert kendall_tau([1.0, 2.0, 3.0], [0, 1, 2], 1e-6) == pytest.approx(1.0)
    assert kendall_tau([3.0, 2.0, 1.0], [0, 1, 2], 1e-6) == pytest.approx(-1.0)
    assert kendall_tau([1.0, np.nan, 3.0, 2.0], [0, 5, 2, 1], 1e-6) == pytest.approx(1.0)
    assert np.isnan(kendall_tau([1.0, 1.0 + 1e-9], [0, 1], 1e-6))  # one tie group: no order
    assert np.isnan(kendall_tau([1.0], [0], 1e-6))

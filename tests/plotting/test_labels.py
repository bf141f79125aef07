"""Labels moved apart along one axis (himo.plotting.labels.spread), against hand-placed cases."""

from __future__ import annotations

import numpy as np
import pytest

from himo.plotting.labels import spread


def test_labels_far_apart_stay_where_they_want():
    np.testing.assert_array_equal(spread([3.0, 0.0, 10.0], gap=1.0), [3.0, 0.0, 10.0])


def test_overlapping_labels_are_centred_on_their_mean_in_their_order():
    # 0 and 0.5 overlap: centred on 0.25, 1 apart; 3 is left alone
    np.testing.assert_allclose(spread([0.5, 0.0, 3.0], gap=1.0), [0.75, -0.25, 3.0])
    # three at one place: centred on it, in index order
    np.testing.assert_allclose(spread([2.0, 2.0, 2.0], gap=0.5), [1.5, 2.0, 2.5])


def test_groups_that_collide_after_centring_merge():
    # 0, 0.2 -> -0.4, 0.6, which then meets 1.2: the three centred on their mean 0.4667
    placed = spread([0.0, 0.2, 1.2], gap=1.0)
    np.testing.assert_allclose(placed, np.mean([0.0, 0.2, 1.2]) + np.array([-1.0, 0.0, 1.0]))


@pytest.mark.parametrize("seed", range(5))
def test_spread_keeps_the_gap_the_order_and_the_range(seed):
    rng = np.random.default_rng(seed)
    wanted = rng.uniform(0, 10, size=12)
    placed = spread(wanted, gap=0.6, low=0.0, high=10.0)
    order = np.argsort(wanted, kind="stable")
    assert np.all(np.diff(placed[order]) >= 0.6 - 1e-12)
    assert placed.min() >= 0.0 - 1e-12 and placed.max() <= 10.0 + 1e-12
    assert np.abs(placed - wanted).max() < 12 * 0.6  # moved by at most the room they need


def test_the_range_pushes_labels_in():
    np.testing.assert_allclose(spread([9.8, 10.0], gap=1.0, high=10.0), [9.0, 10.0])
    np.testing.assert_allclose(spread([-1.0], gap=1.0, low=0.0), [0.0])
    assert spread([], gap=1.0).size == 0

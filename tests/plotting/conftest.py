"""Fixtures of the plotting tests: the synthetic measures of synthetic_measures.py."""

from __future__ import annotations

import pytest
import xarray as xr
from synthetic_measures import graph_measures, grid_measures


@pytest.fixture
def graph_ds() -> xr.Dataset:
    return graph_measures()


@pytest.fixture
def grid_ds() -> xr.Dataset:
    return grid_measures()

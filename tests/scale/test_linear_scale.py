"""The iterative linear solver on larger MDPs: chosen by ``auto`` (its memory is
tests/scale/test_scale.py::test_a_200x200_grid_holds_no_square_array; benchmarks/
measures its speed)."""

from __future__ import annotations

import numpy as np
import pytest

import himo
from himo.solver.linear import AUTO_MIN_STATES, choose_linear_solver
from himo.solver.loop import SolverSettings, run_himo

pytestmark = pytest.mark.slow  # large grids and towers


def test_auto_takes_the_iterative_solver_on_a_large_grid():
    side = int(np.ceil(np.sqrt(AUTO_MIN_STATES)))
    mdp = himo.make_env("grid", rows=side, cols=side)
    assert choose_linear_solver("auto", mdp.n_states, 0.95) == "iterative"
    run = run_himo(mdp, SolverSettings(lam=0.95, method="natural", step=0.1, max_iter=2, dependent="argmax"))
    assert run.linear_solver == "iterative" and run.linear.used == "iterative"

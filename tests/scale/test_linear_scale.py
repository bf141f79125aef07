"""The iterative linear solver on larger MDPs: chosen by ``auto``, and no dense
``n_states x n_states`` array (benchmarks/ measures its speed)."""

from __future__ import annotations

import tracemalloc

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


def test_iterative_path_allocates_no_square_array():
    """The loop on a 200x200 grid: the iterative solver adds state vectors to the
    direct path's peak, nothing of size n_states^2 (tracemalloc sees numpy, not SuperLU)."""
    n_states = 200 * 200
    mdp = himo.make_env("grid", rows=200, cols=200)
    peaks = {}
    for linear_solver in ("direct", "iterative", "direct"):  # the first direct run builds the cached pattern
        settings = SolverSettings(lam=0.95, method="natural", step=0.1, max_iter=2, dependent="argmax",
                                  thin=2, linear_solver=linear_solver)
        tracemalloc.start()
        try:
            run = run_himo(mdp, settings)
            peaks[linear_solver] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert run.linear.used == linear_solver
    assert peaks["iterative"] < n_states**2 * 8 / 100, f"peak {peaks['iterative'] / 2**20:.0f} MiB"
    # the Krylov vectors and the previous solutions of both systems: a few dozen state vectors
    assert peaks["iterative"] <= peaks["direct"] + 32 * 8 * n_states, peaks

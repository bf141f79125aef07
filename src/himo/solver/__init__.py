"""The exact HIMO solver: Algorithm 1 (``newton``), its exact sparse equivalent
(``natural``), the always-feasible ``multiplicative`` step, and value iteration as
the reference optimum."""

from himo.solver.loop import Run, SolverSettings, run_himo
from himo.solver.value_iteration import Optimum, value_iteration

__all__ = ["Run", "SolverSettings", "run_himo", "Optimum", "value_iteration"]

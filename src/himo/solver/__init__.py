"""The exact HIMO solver: Algorithm 1 (``newton``), its exact sparse equivalent
(``natural``), the always-feasible ``multiplicative`` step, and value iteration as
the reference optimum. The settings of a run are defined once, in
:mod:`himo.solver.settings`."""

from himo.solver.loop import Run, run_himo
from himo.solver.settings import SolverSettings, setting_schemas
from himo.solver.value_iteration import Optimum, value_iteration

__all__ = ["Run", "SolverSettings", "setting_schemas", "run_himo", "Optimum", "value_iteration"]

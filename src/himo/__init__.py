"""himo: hierarchical model-based policy optimization (the natural path gradient).

The public entry points::

    mdp = himo.make_env("hanoi", n_disks=3)      # a registered environment
    himo.save_mdp(mdp, "hanoi.nc")               # the netCDF MDP file format
    mdp = himo.load_mdp("hanoi.nc")
    trajectory = himo.solve(mdp, lam=0.9, method="newton", step=0.1)

``solve`` returns an :class:`xarray.Dataset` described in :mod:`himo.trajectory`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import numpy as np
import xarray as xr

from himo.envs import available_envs, make_env, register_env
from himo.errors import HimoError, ParameterError
from himo.mdp import MDP
from himo.mdpfile import load_mdp, save_mdp
from himo.solver import SolverSettings, run_himo, value_iteration
from himo.solver.linear import DEFAULT_LINEAR_SOLVER
from himo.trajectory import trajectory_dataset

try:
    __version__ = version("himo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def solve(
    mdp: MDP,
    lam: float = 0.9,
    method: str = "natural",
    step: float = 1.0,
    max_iter: int = 1000,
    tol: float = 1e-6,
    dependent: str = "last",
    e_form: str = "exact",
    thin: int = 1,
    linear_solver: str = DEFAULT_LINEAR_SOLVER,
    initial_policy: np.ndarray | None = None,
    snapshots_between: int = 3,
    store_counters: bool | None = None,
    progress: bool = False,
    provenance: dict | None = None,
) -> xr.Dataset:
    """Run HIMO on ``mdp`` from the uniform prior (Eq. 22) and return its trajectory.

    Parameters
    ----------
    lam
        The foresight ``lambda`` in (0, 1): the path goes on after each step with
        probability ``lambda`` (paper section 7.2).
    method
        ``"newton"`` (Algorithm 1 as printed, dense C and I), ``"natural"`` (the same
        step, exact, sparse) or ``"multiplicative"`` (always feasible); see
        :mod:`himo.solver.steps`.
    step
        The step size alpha of each iteration (Eq. 20 is printed with 1); for
        ``newton`` and ``natural`` it is halved when a step would leave the feasible
        set.
    max_iter, tol
        Stop after ``max_iter`` steps, or once ``max |pi (Q - V)| < tol``.
    dependent
        Which action of each state is dependent (Eq. 4): the ``"last"`` or ``"first"``
        available action (fixed), or ``"argmax"``, the most probable action, re-chosen
        at every iteration.
    e_form
        ``"exact"`` (with lambda) or ``"printed"`` (Algorithm 1's E, newton only).
    thin
        Keep every ``thin``-th iteration in the dataset (and always the last).
    linear_solver
        ``"auto"``, ``"direct"`` or ``"iterative"``: how each iteration solves for its
        values and occupancy (see :mod:`himo.solver.linear`); every choice gives the
        same iterates to 1e-9, and the trajectory records which one ran.
    initial_policy
        A strictly positive ``(n_pairs,)`` policy to start from instead of the prior.
    snapshots_between
        How many snapshots of C and I between the first and the last.
    store_counters
        Store C and I (``None``: only when the MDP is small enough for dense C).
    progress
        Print iteration, objective and time per iteration to stderr.
    provenance
        Extra attributes for the dataset (for example the workflow's config).
    """
    if not isinstance(snapshots_between, (int, np.integer)) or snapshots_between < 0:
        raise ParameterError(f"snapshots_between must be a non-negative integer, got {snapshots_between!r}")
    settings = SolverSettings(
        lam=lam, method=method, step=step, max_iter=max_iter, tol=tol,
        dependent=dependent, e_form=e_form, thin=thin, linear_solver=linear_solver,
    )
    run = run_himo(mdp, settings, initial_policy=initial_policy, progress=progress)
    optimum = value_iteration(mdp, lam)
    return trajectory_dataset(
        mdp, run, settings, optimum,
        snapshots_between=snapshots_between, store_counters=store_counters, provenance=provenance,
    )


__all__ = [
    "MDP",
    "HimoError",
    "available_envs",
    "load_mdp",
    "make_env",
    "register_env",
    "save_mdp",
    "solve",
    "value_iteration",
]

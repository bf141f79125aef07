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
from himo.importers import from_arrays, from_gymnasium
from himo.mdp import MDP
from himo.mdpfile import load_mdp, save_mdp
from himo.solver import SolverSettings, run_himo, value_iteration
from himo.solver.counters import EForm
from himo.solver.features import as_features
from himo.solver.linear import LinearSolverName
from himo.solver.policy import DependentRule
from himo.solver.settings import document_settings
from himo.solver.steps import Method, StepRule
from himo.trajectory import trajectory_dataset

try:
    __version__ = version("himo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


@document_settings
def solve(
    mdp: MDP,
    lam: float = SolverSettings.lam,
    method: Method = SolverSettings.method,
    step: float = SolverSettings.step,
    step_rule: StepRule = SolverSettings.step_rule,
    max_iter: int = SolverSettings.max_iter,
    tol: float = SolverSettings.tol,
    dependent: DependentRule = SolverSettings.dependent,
    e_form: EForm = SolverSettings.e_form,
    storage_budget: float = SolverSettings.storage_budget,
    linear_solver: LinearSolverName = SolverSettings.linear_solver,
    prior_seed: int = SolverSettings.prior_seed,
    prior_concentration: float = SolverSettings.prior_concentration,
    initial_policy: np.ndarray | None = None,
    snapshots_between: int = 3,
    store_counters: bool | None = None,
    progress: bool = False,
    provenance: dict | None = None,
    features=None,
) -> xr.Dataset:
    """Run HIMO on ``mdp`` from the uniform prior (Eq. 22; or a prior drawn near it, ``prior_seed``)
    and return its trajectory.

    The keyword arguments from ``lam`` to ``linear_solver`` are the solver settings, defined
    (with their defaults and constraints) in :mod:`himo.solver.settings`; with the
    defaults a run converges to value iteration's optimum.

    Parameters
    ----------
    mdp
        The MDP (:class:`himo.MDP`), for example from :func:`himo.make_env` or
        :func:`himo.load_mdp`.
    {solver_settings}
    initial_policy
        A strictly positive ``(n_pairs,)`` policy to start from instead of the prior
        (not with ``prior_seed``).
    snapshots_between
        How many snapshots of C and I between the first and the last.
    store_counters
        Store C and I (``None``: only when the MDP is small enough for dense C).
    progress
        Print iteration, objective and time per iteration to stderr.
    provenance
        Extra attributes for the dataset (for example the workflow's config).
    features
        A log-linear policy ``pi_ij ~ exp(phi_ij . theta)`` from ``theta = 0``: an array
        ``(n_pairs, n_features)`` in the MDP's pair order, or an xarray variable
        ``phi(pair, feature)`` or ``phi(state, action, feature)`` (or a dataset holding it);
        each step is then the natural path gradient in ``theta`` (``method`` natural, the
        default; docs/MATH.md, identity 12), and the trajectory stores ``theta``.
    """
    if not isinstance(snapshots_between, (int, np.integer)) or snapshots_between < 0:
        raise ParameterError(f"snapshots_between must be a non-negative integer, got {snapshots_between!r}")
    settings = SolverSettings(
        lam=lam, method=method, step=step, step_rule=step_rule, max_iter=max_iter, tol=tol,
        dependent=dependent, e_form=e_form, storage_budget=storage_budget, linear_solver=linear_solver,
        prior_seed=prior_seed, prior_concentration=prior_concentration,
    )
    if features is not None:
        features = as_features(mdp, features)
    run = run_himo(mdp, settings, initial_policy=initial_policy, progress=progress, features=features)
    optimum = value_iteration(mdp, settings.lam)
    return trajectory_dataset(
        mdp, run, settings, optimum,
        snapshots_between=snapshots_between, store_counters=store_counters, provenance=provenance,
        features=features,
    )


__all__ = [
    "MDP",
    "HimoError",
    "available_envs",
    "from_arrays",
    "from_gymnasium",
    "load_mdp",
    "make_env",
    "register_env",
    "save_mdp",
    "solve",
    "value_iteration",
]

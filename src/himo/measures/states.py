"""What a measures dataset says about its states: one reader per concept.

The claims (:mod:`himo.verdicts.claims`), the panels (:mod:`himo.plotting.panels`)
and the tests read the states of a run only through these functions, so that a
role, the start, the goal, the optimal path, the state graph and the rooms have one
definition each. The dataset is the measures dataset of ``docs/CONTRACTS.md``
(:func:`himo.measures.dataset.measures_dataset`); every reader returns state
indices, positions along the ``state`` coordinate, whose labels are
:func:`labels`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from himo.errors import HimoError
from himo.mdp import path_start, role_mask

#: The variables that make a dataset a grid world.
GRID_VARIABLES = ("cell_row", "cell_col", "wall")


def labels(ds: xr.Dataset) -> list[str]:
    """The state labels, in the order of the ``state`` coordinate."""
    return [str(s) for s in ds["state"].values]


def has_role(ds: xr.Dataset, name: str) -> bool:
    """Whether the dataset names the role (``role_<name>``; the start is named when
    the dataset names its start state or start distribution)."""
    return start_states(ds).size > 0 if name == "start" else f"role_{name}" in ds


def role(ds: xr.Dataset, name: str) -> np.ndarray:
    """Boolean mask of the states with a role, by the rule of :meth:`himo.mdp.MDP.role`:
    ``"start"`` is every start state (:func:`start_states`), another name the
    variable ``role_<name>``, and a role the dataset does not name holds no state."""
    var = f"role_{name}"
    roles = {name: ds[var].values} if var in ds else {}
    return role_mask(roles, name, ds.sizes["state"], start_states(ds))


def only_state(mask: np.ndarray) -> int | None:
    """The index of the one state of ``mask``; None when it holds none or several."""
    members = np.flatnonzero(mask)
    return int(members[0]) if members.size == 1 else None


def start_distribution(ds: xr.Dataset) -> np.ndarray | None:
    """``p0``, the probability that a path starts in each state, as the MDP file
    stores it: the variable ``start_distribution(state)`` (paths that start in
    several states), else one-hot on the attribute ``start_state`` (a label);
    None if the dataset names neither."""
    if "start_distribution" in ds:
        return np.asarray(ds["start_distribution"].values, dtype=float)
    label = ds.attrs.get("start_state")
    names = labels(ds)
    if label is None or str(label) not in names:
        return None
    p0 = np.zeros(len(names))
    p0[names.index(str(label))] = 1.0
    return p0


def start_states(ds: xr.Dataset) -> np.ndarray:
    """The states a path may start in (``p0 > 0``), ascending; none if the dataset names none."""
    p0 = start_distribution(ds)
    return np.zeros(0, dtype=int) if p0 is None else np.flatnonzero(p0 > 0)


def start(ds: xr.Dataset) -> int | None:
    """The start state of the optimal path: the one start state, or, when paths start
    in several, the most probable (the first on ties; :func:`himo.mdp.path_start`).
    None if the dataset names no start."""
    p0 = start_distribution(ds)
    return None if p0 is None else path_start(p0)


def goal(ds: xr.Dataset) -> int | None:
    """The goal state (role ``goal``); None unless exactly one state has that role."""
    return only_state(role(ds, "goal"))


def optimal_path(ds: xr.Dataset) -> np.ndarray:
    """The states of the optimal path from :func:`start`, in visiting order (start first).

    Read from ``optimal_path_position`` (0 = start, -1 = off the path); empty when the
    dataset has no path.
    """
    if "optimal_path_position" not in ds:
        return np.zeros(0, dtype=int)
    position = np.asarray(ds["optimal_path_position"].values).astype(int)
    on = np.flatnonzero(position >= 0)
    return on[np.argsort(position[on], kind="stable")]


def on_path(ds: xr.Dataset) -> np.ndarray:
    """Boolean mask of the states on the optimal path; every state when the dataset
    has no path (a figure of data without one draws every state as on it)."""
    if "optimal_path_position" not in ds:
        return np.ones(ds.sizes["state"], dtype=bool)
    return np.asarray(ds["optimal_path_position"].values).astype(int) >= 0


def edges(ds: xr.Dataset) -> np.ndarray | None:
    """``(n_edges, 2)`` the state graph, ``edge_source(edge)`` and ``edge_target(edge)``.

    The undirected transition graph of the run's MDP without self-loops, each edge
    once with the lower state index first (:func:`himo.measures.dataset.state_graph`).
    None when the dataset has no graph (a measures file from before it was stored).
    """
    if "edge_source" not in ds or "edge_target" not in ds:
        return None
    pairs = np.column_stack([np.asarray(ds["edge_source"].values), np.asarray(ds["edge_target"].values)])
    n = ds.sizes["state"]
    if pairs.dtype.kind not in "iu" or (pairs.size and (pairs.min() < 0 or pairs.max() >= n)):
        raise HimoError(f"edge_source and edge_target must be state indices in 0..{n - 1}")
    return pairs.astype(int).reshape(-1, 2)


def is_grid(ds: xr.Dataset) -> bool:
    """Whether the dataset is a grid world: it places each state in a cell of a wall map."""
    return all(name in ds for name in GRID_VARIABLES)


def rooms(ds: xr.Dataset) -> np.ndarray | None:
    """The room of each state of a grid world; -1 for the doorways; None if not a grid.

    A room is a connected set of open cells (4-neighbours) once the doorways (role
    ``bottleneck``) are removed. Rooms are numbered 0, 1, ... in the order of their
    first state. A wormhole joins no rooms: it is a jump, not a shared wall opening.
    """
    if not is_grid(ds):
        return None
    rows = np.asarray(ds["cell_row"].values).astype(int)
    cols = np.asarray(ds["cell_col"].values).astype(int)
    open_cells = ~np.asarray(ds["wall"].values).astype(bool)
    doorway = role(ds, "bottleneck")
    open_cells[rows[doorway], cols[doorway]] = False
    component, _ = ndimage.label(open_cells)  # 4-connectivity; 0 = wall or doorway
    room = component[rows, cols] - 1
    ids, first = np.unique(room[room >= 0], return_index=True)
    rank = np.empty(ids.size, dtype=int)
    rank[np.argsort(first, kind="stable")] = np.arange(ids.size)
    return np.where(room >= 0, rank[np.searchsorted(ids, room)], -1)

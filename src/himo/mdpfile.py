"""MDP files: netCDF in a dense form a user can write with xarray alone, and a sparse one.

Dense form (the default for small MDPs)
---------------------------------------
======================================  ============================================
coordinates ``state``, ``action``,      string labels
``next_state``
``P(state, action, next_state)``        ``P(next_state | state, action)``
``R(state, action)``                    expected reward of each pair; or
``R(state, action, next_state)``        reward of each transition (himo takes the
                                        expectation under ``P``)
``available(state, action)``            optional, 0/1 (default: all available);
                                        ``P`` and ``R`` of unavailable pairs are
                                        ignored
attribute ``start_state``               the label of the start state; or
``start_distribution(state)``           the probability that a path starts in each
                                        state (non-negative, summing to 1), for
                                        paths that start in several states
======================================  ============================================

Exactly one of the two is given; himo writes the attribute when paths start in one
state and the variable otherwise.

Sparse form (``himo_format = "sparse-pairs"``), which himo writes when the dense
``P`` would be large: coordinates ``state`` and ``action``; per pair
``pair_state(pair)`` and ``pair_action(pair)`` (integer indices into those
coordinates) and ``R(pair)``; per nonzero transition ``transition_pair(transition)``,
``transition_next_state(transition)`` (indices) and ``transition_probability``.

Both forms may carry optional plotting metadata: ``layout_x(state)``,
``layout_y(state)``, ``cluster(state)``, ``role_<name>(state)`` (0/1),
``cell_row(state)``, ``cell_col(state)`` and ``wall(row, col)``; and attributes
``name`` and ``env_<key>`` (the builder's parameters).
"""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp
import xarray as xr

from himo.errors import MDPError, MDPFileError
from himo.io import read_netcdf, write_netcdf
from himo.mdp import MDP
from himo.provenance import package_versions

SPARSE_FORMAT = "sparse-pairs"
#: Above this many entries in the dense ``P``, :func:`save_mdp` writes the sparse form.
DENSE_LIMIT = 2_000_000

Form = Literal["auto", "dense", "sparse"]
#: The forms :func:`save_mdp` writes (``auto``: dense unless :data:`DENSE_LIMIT` is exceeded).
FORMS = typing.get_args(Form)


# ----------------------------------------------------------------------- writing
def mdp_to_dataset(mdp: MDP, form: Form = "auto") -> xr.Dataset:
    """The MDP as an xarray Dataset in the dense or sparse file form."""
    if form == "auto":
        form = "dense" if mdp.n_states**2 * mdp.n_actions <= DENSE_LIMIT else "sparse"
    if form not in ("dense", "sparse"):
        raise MDPFileError(f"form must be 'auto', 'dense' or 'sparse', got {form!r}")
    ds = _dense_dataset(mdp) if form == "dense" else _sparse_dataset(mdp)
    ds = ds.assign_coords(state=list(mdp.state_labels), action=list(mdp.action_labels))
    ds = ds.merge(metadata_variables(mdp)).merge(start_variables(mdp))
    ds.attrs.update(
        title=str(mdp.attrs.get("title", mdp.name)),
        name=mdp.name,
        **start_attrs(mdp),
        n_states=mdp.n_states,
        n_pairs=mdp.n_pairs,
        **{f"env_{k}": v for k, v in mdp.attrs.items() if k != "title"},
        **package_versions(),
    )
    return ds


def save_mdp(mdp: MDP, path: str | os.PathLike, form: Form = "auto") -> None:
    """Write ``mdp`` to a netCDF MDP file (atomically)."""
    write_netcdf(mdp_to_dataset(mdp, form), path)


def _dense_dataset(mdp: MDP) -> xr.Dataset:
    P = np.zeros((mdp.n_states, mdp.n_actions, mdp.n_states))
    P[mdp.pair_state, mdp.pair_action, :] = mdp.P.toarray()
    R = np.zeros((mdp.n_states, mdp.n_actions))
    R[mdp.pair_state, mdp.pair_action] = mdp.R
    return xr.Dataset(
        {
            "P": (("state", "action", "next_state"), P, {"long_name": "transition probability", "units": "1"}),
            "R": (("state", "action"), R, {"long_name": "expected reward", "units": "reward"}),
            "available": (("state", "action"), mdp.available().astype(np.int8), {"long_name": "action available"}),
        },
        coords={"next_state": list(mdp.state_labels)},
    )


def _sparse_dataset(mdp: MDP) -> xr.Dataset:
    coo = mdp.P.tocoo()
    return xr.Dataset(
        {
            "pair_state": ("pair", mdp.pair_state, {"long_name": "state index of the pair"}),
            "pair_action": ("pair", mdp.pair_action, {"long_name": "action index of the pair"}),
            "R": ("pair", mdp.R, {"long_name": "expected reward", "units": "reward"}),
            "transition_pair": ("transition", coo.row.astype(np.int64)),
            "transition_next_state": ("transition", coo.col.astype(np.int64)),
            "transition_probability": ("transition", coo.data, {"units": "1"}),
        },
        attrs={"himo_format": SPARSE_FORMAT},
    )


def start_attrs(mdp: MDP) -> dict:
    """``start_state``, the label of the start state, when paths start in one state
    (MDP and trajectory files share this and :func:`start_variables`)."""
    states = mdp.start_states
    return {"start_state": mdp.state_labels[states[0]]} if states.size == 1 else {}


def start_variables(mdp: MDP) -> xr.Dataset:
    """``start_distribution(state)``, when paths start in several states."""
    if mdp.start_states.size == 1:
        return xr.Dataset()
    return xr.Dataset(
        {"start_distribution": ("state", np.array(mdp.start_distribution),
                                {"long_name": "start distribution", "units": "1"})}
    )


def metadata_variables(mdp: MDP) -> xr.Dataset:
    """The MDP's optional plotting metadata as variables (layout, cluster, roles, grid),
    named as the MDP file stores them; the measures carry the same."""
    out = {}
    if mdp.layout is not None:
        out["layout_x"] = ("state", mdp.layout[:, 0], {"long_name": "layout x"})
        out["layout_y"] = ("state", mdp.layout[:, 1], {"long_name": "layout y"})
    if mdp.cluster is not None:
        out["cluster"] = ("state", mdp.cluster, {"long_name": "cluster"})
    for role, mask in mdp.roles.items():
        out[f"role_{role}"] = ("state", mask.astype(np.int8), {"long_name": f"state is {role}"})
    if mdp.cells is not None:
        out["cell_row"] = ("state", mdp.cells[:, 0], {"long_name": "grid row"})
        out["cell_col"] = ("state", mdp.cells[:, 1], {"long_name": "grid column"})
    if mdp.walls is not None:
        out["wall"] = (("row", "col"), mdp.walls.astype(np.int8), {"long_name": "wall"})
    return xr.Dataset(out)


# ----------------------------------------------------------------------- reading
def load_mdp(path: str | os.PathLike) -> MDP:
    """Read an MDP file in the dense or the sparse form.

    Raises :class:`MDPFileError` naming the file and what is wrong with it.
    """
    path = Path(path)
    ds = read_netcdf(path, "MDP", error=MDPFileError)
    try:
        return mdp_from_dataset(ds, name=str(ds.attrs.get("name", path.stem)))
    except (MDPError, MDPFileError) as err:
        raise MDPFileError(f"{path}: {err}") from None


def mdp_from_dataset(ds: xr.Dataset, name: str = "mdp") -> MDP:
    """Build an :class:`MDP` from a Dataset in either file form."""
    for coord in ("state", "action"):
        if coord not in ds.coords:
            raise MDPFileError(f"missing coordinate {coord!r}")
    states = [str(s) for s in ds["state"].values]
    actions = [str(a) for a in ds["action"].values]
    if ds.attrs.get("himo_format") == SPARSE_FORMAT:
        pair_state, pair_action, P, R = _read_sparse(ds, len(states))
    else:
        pair_state, pair_action, P, R = _read_dense(ds, states, actions)
    return MDP.from_pairs(
        name=name,
        state_labels=states,
        action_labels=actions,
        pair_state=pair_state,
        pair_action=pair_action,
        P=P,
        R=R,
        **_read_start(ds),
        **_read_metadata(ds),
    )


def _read_start(ds: xr.Dataset) -> dict:
    """``start`` (a label) from the attribute, or ``start_distribution`` from the variable."""
    has_state, has_distribution = "start_state" in ds.attrs, "start_distribution" in ds
    if has_state and has_distribution:
        raise MDPFileError("both the attribute 'start_state' and the variable 'start_distribution' "
                           "are given: keep one")
    if has_distribution:
        return {"start_distribution": _require(ds, "start_distribution", ("state",)).astype(float)}
    if has_state:
        return {"start": str(ds.attrs["start_state"])}
    raise MDPFileError("missing global attribute 'start_state' (the label of the start state) "
                       "or variable 'start_distribution(state)'")


def _require(ds: xr.Dataset, name: str, dims: tuple[str, ...]) -> np.ndarray:
    if name not in ds:
        raise MDPFileError(f"missing variable {name}{dims}")
    var = ds[name]
    if var.dims != dims:
        var = var.transpose(*dims) if set(var.dims) == set(dims) else None
        if var is None:
            raise MDPFileError(f"variable {name} must have dimensions {dims}, has {ds[name].dims}")
    values = np.asarray(var.values)
    if values.dtype.kind not in "fiub":
        raise MDPFileError(f"variable {name} must be numeric, has dtype {values.dtype}")
    return values


def _read_dense(ds: xr.Dataset, states: list[str], actions: list[str]):
    if "next_state" not in ds.coords:
        raise MDPFileError("missing coordinate 'next_state'")
    if [str(s) for s in ds["next_state"].values] != states:
        raise MDPFileError("coordinate 'next_state' must list the same labels as 'state', in order")
    P = _require(ds, "P", ("state", "action", "next_state")).astype(float)
    if "available" in ds:
        available = _require(ds, "available", ("state", "action")).astype(bool)
    else:
        available = np.ones(P.shape[:2], dtype=bool)
    if "R" not in ds:
        raise MDPFileError("missing variable R(state, action) or R(state, action, next_state)")
    if ds["R"].ndim == 3:
        R_full = _require(ds, "R", ("state", "action", "next_state")).astype(float)
        R = np.where(P > 0, P * R_full, 0.0).sum(axis=2)  # R_ij = sum_k p_ijk R_ijk
    else:
        R = _require(ds, "R", ("state", "action")).astype(float)
    pair_state, pair_action = np.nonzero(available)
    has_nan = np.isnan(P[pair_state, pair_action]).any(axis=1) | np.isnan(R[pair_state, pair_action])
    if has_nan.any():
        x = int(np.flatnonzero(has_nan)[0])
        raise MDPFileError(
            f"P or R is NaN in the available pair (s={states[pair_state[x]]}, a={actions[pair_action[x]]})"
        )
    return pair_state, pair_action, sp.csr_matrix(P[pair_state, pair_action]), R[pair_state, pair_action]


def _read_sparse(ds: xr.Dataset, n_states: int):
    pair_state = _require(ds, "pair_state", ("pair",)).astype(np.int64)
    pair_action = _require(ds, "pair_action", ("pair",)).astype(np.int64)
    R = _require(ds, "R", ("pair",)).astype(float)
    rows = _require(ds, "transition_pair", ("transition",)).astype(np.int64)
    cols = _require(ds, "transition_next_state", ("transition",)).astype(np.int64)
    probs = _require(ds, "transition_probability", ("transition",)).astype(float)
    if rows.size and (rows.min() < 0 or rows.max() >= pair_state.size):
        raise MDPFileError("transition_pair holds an index outside the pairs")
    if cols.size and (cols.min() < 0 or cols.max() >= n_states):
        raise MDPFileError("transition_next_state holds an index outside the states")
    P = sp.csr_matrix((probs, (rows, cols)), shape=(pair_state.size, n_states))
    return pair_state, pair_action, P, R


def _read_metadata(ds: xr.Dataset) -> dict:
    meta: dict = {}
    if "layout_x" in ds and "layout_y" in ds:
        meta["layout"] = np.column_stack([ds["layout_x"].values, ds["layout_y"].values])
    if "cluster" in ds:
        meta["cluster"] = ds["cluster"].values
    meta["roles"] = {
        name.removeprefix("role_"): ds[name].values.astype(bool) for name in ds.data_vars if name.startswith("role_")
    }
    if "cell_row" in ds and "cell_col" in ds:
        meta["cells"] = np.column_stack([ds["cell_row"].values, ds["cell_col"].values])
    if "wall" in ds:
        meta["walls"] = ds["wall"].values.astype(bool)
    attrs = {k.removeprefix("env_"): v for k, v in ds.attrs.items() if k.startswith("env_")}
    if "title" in ds.attrs and ds.attrs["title"] != ds.attrs.get("name"):
        attrs["title"] = ds.attrs["title"]  # the writer's default title is the name: not an attribute
    meta["attrs"] = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in attrs.items()}
    return meta

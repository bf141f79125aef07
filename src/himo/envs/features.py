"""Registered feature sets for log-linear policies (:mod:`himo.solver.features`).

A feature set is a function of an MDP returning its :class:`~himo.solver.features.Features`,
registered under a name like an environment's builder (:func:`register_features`);
:func:`load_features` resolves a name or a netCDF file (a variable ``phi(pair, feature)``
or ``phi(state, action, feature)``), as ``himo solve --features`` and the workflow's
``features:`` key do. Registered here:

``tabular``
    one-hot per pair: the log-linear policy is then the softmax of free logits, and the
    natural path gradient in ``theta`` gives the ``multiplicative`` iterates on every state
    the start reaches (docs/MATH.md, identity 12).
``room-direction``, ``tabular+room-direction``
    grid worlds: one feature per (room, action), shared by every cell of the room; the
    rooms are the connected open areas once the doorways (the ``bottleneck`` cells) are
    taken out, and the doorways form one group of their own, ``doorway``.
``cluster-move``, ``tabular+cluster-move``
    MDPs with a ``cluster`` (the Tower of Hanoi: the peg of the largest disk): one feature
    per (cluster, action), the action being the move type ``a->b``.

The ``tabular+`` sets put the coarse features beside the tabular ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import scipy.ndimage

from himo.errors import FeaturesError
from himo.mdp import MDP, pair_labels
from himo.registry import Registry
from himo.solver.features import Features, as_features

_REGISTRY = Registry("feature set")
#: The group of the doorway cells in ``room-direction``.
DOORWAY = "doorway"


def register_features(name: str) -> Callable[[Callable[[MDP], Features]], Callable[[MDP], Features]]:
    """Decorator: register ``builder(mdp) -> Features`` under ``name``."""
    return _REGISTRY.register(name)


def available_features() -> list[str]:
    """Names of the registered feature sets, sorted."""
    return _REGISTRY.names()


def load_features(mdp: MDP, spec: str) -> Features:
    """The features ``spec`` names for ``mdp``: a registered feature set, else a netCDF file
    with the variable ``phi`` (checked by :func:`~himo.solver.features.as_features`)."""
    if spec in _REGISTRY:
        return _REGISTRY[spec](mdp)
    path = Path(spec)
    if not path.is_file():
        raise FeaturesError(f"features {spec!r}: no registered feature set of that name "
                            f"({', '.join(available_features())}) and no such file")
    import xarray as xr

    try:
        with xr.open_dataset(path) as ds:
            ds.load()
    except (OSError, ValueError) as err:
        raise FeaturesError(f"features {spec!r}: not a readable netCDF file ({err})") from None
    return as_features(mdp, ds, source=str(spec))


def one_hot_pairs(mdp: MDP) -> tuple[np.ndarray, list[str]]:
    """The tabular features: ``(n_pairs, n_pairs)`` identity, named by the pairs."""
    return np.eye(mdp.n_pairs), pair_labels(mdp)


def group_action_features(mdp: MDP, group: np.ndarray, group_names: list[str]) -> tuple[np.ndarray, list[str]]:
    """One feature per (group, action) that some pair has: 1 on the pairs of that action in the
    states of that group. ``group`` is ``(n_states,)`` indices into ``group_names``."""
    keys = sorted({(int(group[s]), int(a)) for s, a in zip(mdp.pair_state, mdp.pair_action)})
    column = {key: k for k, key in enumerate(keys)}
    values = np.zeros((mdp.n_pairs, len(keys)))
    values[np.arange(mdp.n_pairs), [column[(int(group[s]), int(a))] for s, a in
                                    zip(mdp.pair_state, mdp.pair_action)]] = 1.0
    return values, [f"{group_names[g]}|{mdp.action_labels[a]}" for g, a in keys]


def grid_rooms(mdp: MDP) -> tuple[np.ndarray, list[str]]:
    """``(room of each state, room names)`` of a grid world: the connected open areas without
    the doorways (the ``bottleneck`` role), numbered in row-major order of their first cell,
    and the doorways as one group :data:`DOORWAY`."""
    if mdp.walls is None or mdp.cells is None or "bottleneck" not in mdp.roles:
        raise FeaturesError(f"features room-direction: MDP {mdp.name!r} is not a grid world with doorways "
                            "(it needs walls, cells and the bottleneck role)")
    doorway = np.asarray(mdp.roles["bottleneck"], dtype=bool)
    open_area = ~np.asarray(mdp.walls, dtype=bool)
    rows, cols = mdp.cells[:, 0], mdp.cells[:, 1]
    open_area[rows[doorway], cols[doorway]] = False
    labelled, n_rooms = scipy.ndimage.label(open_area)  # 4-connected, row-major numbering
    room = labelled[rows, cols] - 1
    room[doorway] = n_rooms
    return room, [f"room{k + 1}" for k in range(n_rooms)] + [DOORWAY]


def _features(name: str, parts: list[tuple[np.ndarray, list[str]]]) -> Features:
    values = np.hstack([values for values, _ in parts])
    return Features(values=values, names=tuple(n for _, names in parts for n in names), source=name)


@register_features("tabular")
def tabular(mdp: MDP) -> Features:
    return _features("tabular", [one_hot_pairs(mdp)])


@register_features("room-direction")
def room_direction(mdp: MDP) -> Features:
    return _features("room-direction", [group_action_features(mdp, *grid_rooms(mdp))])


@register_features("tabular+room-direction")
def tabular_room_direction(mdp: MDP) -> Features:
    return _features("tabular+room-direction", [one_hot_pairs(mdp), group_action_features(mdp, *grid_rooms(mdp))])


def clusters(mdp: MDP) -> tuple[np.ndarray, list[str]]:
    """``(cluster of each state, cluster names)`` from the MDP's ``cluster`` (Hanoi: the peg
    of the largest disk)."""
    if mdp.cluster is None or np.any(mdp.cluster < 0):
        raise FeaturesError(f"features cluster-move: MDP {mdp.name!r} has no cluster for every state")
    meaning = str(mdp.attrs.get("cluster_meaning", "cluster")).replace(" ", "-")
    return mdp.cluster, [f"{meaning}={k}" for k in range(int(mdp.cluster.max()) + 1)]


@register_features("cluster-move")
def cluster_move(mdp: MDP) -> Features:
    return _features("cluster-move", [group_action_features(mdp, *clusters(mdp))])


@register_features("tabular+cluster-move")
def tabular_cluster_move(mdp: MDP) -> Features:
    return _features("tabular+cluster-move", [one_hot_pairs(mdp), group_action_features(mdp, *clusters(mdp))])

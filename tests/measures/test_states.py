"""The readers of a measures dataset's states (himo.measures.states) against the MDP they came from."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.sparse as sp
import xarray as xr
from scipy.sparse.csgraph import connected_components

import himo
from himo.measures import states
from himo.measures.dataset import measures_dataset, optimal_path
from himo.errors import HimoError

ENVIRONMENTS = ("hanoi", "fourrooms", "wormhole")


@functools.lru_cache(maxsize=None)
def short_run(env: str):
    """An environment and the measures of a few iterations on it (enough for the states' readers)."""
    mdp = himo.make_env(env)
    trajectory = himo.solve(mdp, lam=0.9, method="natural", step=0.5, max_iter=5, dependent="argmax",
                            store_counters=False)
    return mdp, trajectory, measures_dataset(trajectory, mdp)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_roles_start_goal_are_the_mdps(env):
    mdp, _, ds = short_run(env)
    assert states.labels(ds) == list(mdp.state_labels)
    for name in [*mdp.roles, "start", "no_such_role"]:
        np.testing.assert_array_equal(states.role(ds, name), mdp.role(name), err_msg=name)
    assert not states.has_role(ds, "no_such_role") and states.has_role(ds, "goal")
    assert states.start(ds) == mdp.start
    assert states.goal(ds) == int(np.flatnonzero(mdp.role("goal"))[0])


def test_goal_is_none_unless_exactly_one():
    _, _, ds = short_run("hanoi")
    assert states.goal(ds.drop_vars("role_goal")) is None
    two = ds.copy()
    two["role_goal"] = ("state", np.r_[1, 1, np.zeros(ds.sizes["state"] - 2)].astype(np.int8))
    assert states.goal(two) is None
    assert states.start(ds.assign_attrs(start_state="nowhere")) is None


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_optimal_path_is_the_measures_path(env):
    mdp, trajectory, ds = short_run(env)
    final = trajectory["policy"].transpose("iteration", "state", "action").values[-1]
    expected = optimal_path(mdp, final)
    np.testing.assert_array_equal(states.optimal_path(ds), expected)
    assert " ".join(states.labels(ds)[s] for s in states.optimal_path(ds)) == ds.attrs["optimal_path"]
    on = np.zeros(mdp.n_states, bool)
    on[expected] = True
    np.testing.assert_array_equal(states.on_path(ds), on)
    without = ds.drop_vars("optimal_path_position")
    assert states.optimal_path(without).size == 0 and states.on_path(without).all()


@pytest.mark.parametrize("env, n_rooms", [("fourrooms", 4), ("wormhole", 4)])
def test_rooms_are_the_components_of_the_graph_without_doorways(env, n_rooms):
    """Rooms from the wall map (ndimage) equal the connected components of the
    transition graph once the doorways and the wormhole's jump are removed."""
    mdp, _, ds = short_run(env)
    room = states.rooms(ds)
    doorway = mdp.role("bottleneck")
    np.testing.assert_array_equal(room < 0, doorway)
    assert sorted(set(room[~doorway])) == list(range(n_rooms))
    # rooms are numbered in the order of their first state
    firsts = [int(np.flatnonzero(room == r)[0]) for r in range(n_rooms)]
    assert firsts == sorted(firsts)
    jump = mdp.role("wormhole_entrance") | mdp.role("wormhole_exit")
    edges = np.array([(i, k) for i, k in states.edges(ds)
                      if not (doorway[i] or doorway[k] or (jump[i] and jump[k]))])
    keep = np.flatnonzero(~doorway)
    graph = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(mdp.n_states,) * 2)
    _, component = connected_components(graph.tocsr()[keep][:, keep], directed=False)
    # the same partition: each room is one component and each component one room
    pairs = set(zip(room[keep].tolist(), component.tolist()))
    assert len(pairs) == n_rooms == len(set(component.tolist()))


def test_rooms_only_in_grid_worlds():
    _, _, ds = short_run("hanoi")
    assert not states.is_grid(ds) and states.rooms(ds) is None


def test_edges_must_be_state_indices():
    _, _, ds = short_run("hanoi")
    assert states.edges(ds.drop_vars("edge_target")) is None
    bad = ds.copy()
    bad["edge_target"] = ("edge", np.full(ds.sizes["edge"], ds.sizes["state"]))
    with pytest.raises(HimoError, match="state indices"):
        states.edges(bad)
    labels = ds.copy()
    labels["edge_source"] = ("edge", np.array(states.labels(ds))[ds.edge_source.values])
    with pytest.raises(HimoError, match="state indices"):
        states.edges(labels)


def test_rooms_join_cells_that_share_a_side_not_a_corner():
    """Two open cells that touch only at a corner are two rooms; a doorway is none."""
    walls = np.array([list(row) for row in ["wwwww", "w.www", "ww..w", "wwwww"]]) == "w"
    rows, cols = np.nonzero(~walls)  # (1,1); (2,2), (2,3)
    ds = xr.Dataset(
        {"cell_row": ("state", rows), "cell_col": ("state", cols), "wall": (("row", "col"), walls.astype(np.int8))},
        coords={"state": ["a", "b", "c"]},
    )
    np.testing.assert_array_equal(states.rooms(ds), [0, 1, 1])
    ds["role_bottleneck"] = ("state", np.array([0, 1, 0], dtype=np.int8))
    np.testing.assert_array_equal(states.rooms(ds), [0, -1, 1])

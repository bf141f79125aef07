"""Runs whose paths start in several states (a start distribution ``p0``) through the
measures, the states' readers, the claims and the figures.

Taxi (Gymnasium's Taxi-v4: 300 equally likely start states of its 500) is the case
the issue names; a small open grid with two unequal start states checks the
choice of the optimal path's start and the grid panel. Independent routes: the
occupancy as the ``p0``-average of the rows of a dense successor representation
``D = (I - lambda T)^-1``, and the path's start by hand.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from matplotlib.figure import Figure

import himo
from himo.measures import states
from himo.verdicts.claims import CLAIMS, decide_H3
from himo.verdicts.judging import NOT, NOT_EVALUATED, evaluate_claims
from himo.measures.dataset import measures_dataset
from himo.io import read_netcdf, write_netcdf
from himo.mdp import MDP, path_start
from himo.plotting import figures, panels

LAM = 0.9


@functools.lru_cache(maxsize=None)
def taxi_run():
    """Taxi and the measures of a short run on it (the readers need no converged policy)."""
    pytest.importorskip("gymnasium")
    mdp = himo.from_gymnasium("Taxi-v4")
    trajectory = himo.solve(mdp, lam=LAM, method="natural", step=1.0, max_iter=6, store_counters=False)
    return mdp, trajectory, measures_dataset(trajectory, mdp)


def two_start_grid(p0_first: float) -> MDP:
    """A small open grid (3 x 4 cells) started in two cells."""
    mdp = himo.make_env("grid", rows=3, cols=4)
    p0 = np.zeros(mdp.n_states)
    p0[[0, mdp.n_states - 2]] = [p0_first, 1 - p0_first]
    return MDP.from_pairs(
        name=mdp.name, state_labels=mdp.state_labels, action_labels=mdp.action_labels,
        pair_state=mdp.pair_state, pair_action=mdp.pair_action, P=mdp.P, R=mdp.R,
        start_distribution=p0, roles={k: v for k, v in mdp.roles.items() if k != "start"},
        cells=mdp.cells, walls=mdp.walls, attrs=dict(mdp.attrs),
    )


# ------------------------------------------------------------------ the rule
def test_path_start_is_the_most_probable_start_first_on_ties():
    assert path_start(np.array([0.0, 0.2, 0.5, 0.3])) == 2
    assert path_start(np.array([0.0, 0.5, 0.0, 0.5])) == 1
    # equal up to round-off is a tie, not an order
    assert path_start(np.array([0.25 - 1e-15, 0.25, 0.25 + 1e-15, 0.25])) == 0
    assert path_start(np.eye(5)[3]) == 3


def test_mdp_path_start_and_single_start():
    mdp = two_start_grid(0.3)
    assert mdp.path_start == mdp.n_states - 2
    with pytest.raises(himo.HimoError, match="distribution over 2 states"):
        _ = mdp.start
    assert himo.make_env("hanoi").path_start == himo.make_env("hanoi").start


# -------------------------------------------------------------------- Taxi
def test_taxi_measures_carry_the_start_distribution():
    mdp, trajectory, ds = taxi_run()
    assert mdp.start_states.size == 300
    assert "start_state" not in ds.attrs
    np.testing.assert_array_equal(ds["start_distribution"].values, mdp.start_distribution)
    np.testing.assert_array_equal(states.start_states(ds), mdp.start_states)
    np.testing.assert_array_equal(states.role(ds, "start"), mdp.role("start"))
    assert states.has_role(ds, "start")
    assert states.start(ds) == mdp.path_start == mdp.start_states[0]  # uniform: the first start state


def test_taxi_optimal_path_starts_at_the_path_start():
    mdp, _, ds = taxi_run()
    path = states.optimal_path(ds)
    assert path[0] == mdp.path_start
    assert ds.attrs["optimal_path"].split()[0] == mdp.state_labels[mdp.path_start]


def test_taxi_occupancy_and_cd_are_from_p0():
    """``D_0s`` is ``p0 . D[:, s]``, ``D = (I - lambda T)^-1`` dense, at the first and last iteration."""
    mdp, trajectory, ds = taxi_run()
    policy = trajectory["policy"].transpose("iteration", "state", "action").values
    occupancy = []
    for t in (0, -1):
        pairs = policy[t][mdp.pair_state, mdp.pair_action]
        T = mdp.state_transitions(pairs).toarray()
        D = np.linalg.inv(np.eye(mdp.n_states) - LAM * T)
        occupancy.append(mdp.start_distribution @ D)
    np.testing.assert_allclose(ds["final_occupancy"].values, occupancy[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ds["CD"].values[-1], occupancy[1] - occupancy[0], rtol=1e-8, atol=1e-10)


def test_taxi_round_trip_through_the_file(tmp_path):
    _, _, ds = taxi_run()
    write_netcdf(ds, tmp_path / "measures.nc")
    back = read_netcdf(tmp_path / "measures.nc", "measures")
    np.testing.assert_array_equal(states.start_states(back), states.start_states(ds))
    assert states.start(back) == states.start(ds)


def test_taxi_claims_run_and_h3_reads_the_path_start():
    mdp, _, ds = taxi_run()
    records = evaluate_claims(CLAIMS, [ds])
    assert records["G1"]["verdict"] != NOT_EVALUATED
    verdict, numbers = decide_H3(ds)
    assert numbers["start"] == mdp.state_labels[mdp.path_start]
    assert numbers["start_priority"] == ds["priority"].values[mdp.path_start]
    # six iterations: another on-path state peaks later than the path start, by more than
    # the time grid resolves, so H3 is not replicated on this run
    assert numbers["latest_other_on_path"] - numbers["start_priority"] > numbers["resolution"]
    assert verdict == NOT


def test_taxi_figure_marks_every_start_state():
    mdp, _, ds = taxi_run()
    fig = figures.dynamics_figure(ds, normalized=False)
    assert [a.get_title(loc="left") for a in fig.axes] == list("ABCDEF")
    assert fig.axes[1].get_ylabel() == "PD [nats]"  # normalized=False: the raw PD of Eq. 12
    ax = fig.axes[0]  # panel A, the state space
    starts = [t for t in ax.texts if t.get_gid() == "mark:S"]
    assert len(starts) == 300
    styles = panels.state_styles(ds)
    assert all(styles.colour[i] == panels.START_COLOUR for i in mdp.start_states)


# -------------------------------------------------------------------- a grid
def test_grid_with_two_starts_path_measures_and_panel():
    mdp = two_start_grid(0.3)
    trajectory = himo.solve(mdp, lam=LAM, method="natural", step=1.0, max_iter=40, store_counters=False)
    ds = measures_dataset(trajectory, mdp)
    assert states.start(ds) == mdp.n_states - 2  # p0 = 0.7 there
    assert states.optimal_path(ds)[0] == mdp.n_states - 2
    ax = Figure().add_subplot()
    panels.plot_state_space(ax, ds)
    marked = {t.get_position() for t in ax.texts if t.get_text().startswith("S")}
    assert marked == {(int(mdp.cells[s, 1]), int(mdp.cells[s, 0])) for s in mdp.start_states}

"""The bottleneck lift (himo.verdicts.lift): by hand on synthetic runs, against a
brute-force recomputation on real runs, the claims' claimed states on the paper
environments, and the `himo lift` command."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import himo
from himo.cli import main
from himo.io import write_netcdf
from himo.measures.dataset import measures_dataset
from himo.verdicts import lift
from himo.verdicts.claims import CLAIMS
from himo.verdicts.judging import Claim, NOT

sys.path.insert(0, str(Path(__file__).parents[1] / "plotting"))
from synthetic_baselines import distance_order, run  # noqa: E402


def claim_of(paper_env: str, claimed) -> Claim:
    return Claim(id="X", figure="1", paper_env=paper_env, paper_text="", definition="",
                 decide=lambda ds: (NOT, {}), claimed=claimed)


def with_chain_graph(ds: xr.Dataset) -> xr.Dataset:
    """The synthetic run's state graph: its path as a chain (start 0 ... goal), and the
    off-path states hung beside the bottleneck (state 2): 6 - 2 - 7."""
    n_path = int((ds["optimal_path_position"] >= 0).sum())
    edges = [(i, i + 1) for i in range(n_path - 1)] + [(2, n_path), (2, n_path + 1)]
    return ds.assign(edge_source=("edge", np.array([a for a, _ in edges])),
                     edge_target=("edge", np.array([b for _, b in edges])))


# ------------------------------------------------------------------ by hand
def test_lift_by_hand_of_a_swap():
    """Path h0 (start) ... h5 (goal) with the priorities of the distance, h1 and h2
    swapped: ranks (goal first) h5 1, h4 2, h3 3, h1 4, h2 5, h0 6; DP ranks by distance
    h2 4, h1 5. The bottleneck h2 is crossed from h1: lifts -1 and +1."""
    order = distance_order("hanoi")
    order[[1, 2]] = order[[2, 1]]
    ds = with_chain_graph(run("hanoi", "hanoi", "natural", 0.9, order))
    rows = lift.run_rows(ds, [claim_of("hanoi", lambda ds: [(2, "bottleneck")])])
    assert [(r["state"], r["role"], r["dp_rank"], r["rank"], r["lift"], r["tied"]) for r in rows] == [
        ("h2", "bottleneck", 4, 5, -1, False), ("h1", "before bottleneck", 5, 4, 1, False)]
    assert rows[0]["run"] == "hanoi" and rows[0]["foresight"] == 0.9 and rows[0]["on_path"]


def test_the_dp_order_has_no_lift_and_ties_are_marked():
    """Priorities in the DP order give lift 0 everywhere; two priorities closer than the
    grid (0.1) are tied, and both rows say with which state."""
    ds = with_chain_graph(run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi")))
    claims = [claim_of("hanoi", lambda ds: [(2, "bottleneck"), (3, "other")])]
    assert {r["lift"] for r in lift.run_rows(ds, claims)} == {0}
    close = distance_order("hanoi")
    close[2] = close[3] + 0.05  # h2 within the 0.1 grid of h3
    rows = {r["state"]: r for r in lift.run_rows(with_chain_graph(run("hanoi", "hanoi", "natural", 0.9, close)),
                                                 claims)}
    assert rows["h2"]["tied"] and rows["h2"]["tied_with"] == "h3"
    assert rows["h3"]["tied"] and rows["h3"]["tied_with"] == "h2"
    assert not rows["h1"]["tied"]


def test_an_off_path_bottleneck_has_no_rank_and_is_crossed_from_farther_away():
    """A claimed state off the path keeps its row without ranks; the state it is crossed
    from is its graph neighbour one step farther from the goal (h6 - h7 hang on h2:
    distances 6 and 7, so h6 is crossed from h7)."""
    ds = with_chain_graph(run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi")))
    assert lift.crossed_from(ds, 6) is None  # h6's neighbour h2 is nearer the goal; h7 is not its neighbour
    ds = ds.assign(edge_source=("edge", np.append(ds["edge_source"].values, 6)),
                   edge_target=("edge", np.append(ds["edge_target"].values, 7)))
    assert lift.crossed_from(ds, 6) == 7
    (row, before) = lift.run_rows(ds, [claim_of("hanoi", lambda ds: [(6, "door")])])
    assert (row["state"], row["on_path"], row["rank"], row["dp_rank"], row["lift"]) == ("h6", False, None, None, None)
    assert (before["state"], before["role"], before["on_path"]) == ("h7", "before door", False)


def test_claims_of_other_environments_and_unnamable_states_are_skipped():
    ds = run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi"))

    def no_wormhole(ds):
        from himo.verdicts.judging import NotEvaluable
        raise NotEvaluable("no wormhole")

    claims = [claim_of("fourrooms", lambda ds: [(2, "door")]), claim_of("hanoi", no_wormhole)]
    assert lift.run_rows(ds, claims) == []


def test_a_claimed_state_that_crosses_into_another_is_not_repeated():
    """The second of two consecutive claimed states is crossed from the first: no extra row."""
    ds = with_chain_graph(run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi")))
    rows = lift.run_rows(ds, [claim_of("hanoi", lambda ds: [(2, "a"), (3, "b")])])
    assert [(r["state"], r["role"]) for r in rows] == [("h2", "a"), ("h1", "before a"), ("h3", "b")]


# ---------------------------------------------------- real runs, independently
def brute_force_lift(ds: xr.Dataset, state: int) -> int:
    """DP rank minus rank with the tie rule written out: a precedes b when b - a is at
    least the widest spacing of every grid interval that meets [a, b]."""
    prio = ds["priority"].values.astype(float)
    time = ds["time"].values.astype(float)
    path = [s for s in range(prio.size) if ds["optimal_path_position"].values[s] >= 0 and np.isfinite(prio[s])]
    spacing = np.diff(time)

    def precedes(a: float, b: float) -> bool:
        lo, hi = min(a, b), max(a, b)
        widest = max(spacing[i] for i in range(spacing.size) if time[i + 1] >= lo and time[i] <= hi)
        return b - a >= widest

    rank = 1 + sum(precedes(prio[o], prio[state]) for o in path)
    dp = ds["dp_priority"].values
    dp_rank = 1 + sum(dp[o] < dp[state] for o in path)
    return int(dp_rank - rank)


@pytest.fixture(scope="module")
def paper_runs():
    runs = []
    for name, lam in (("hanoi", 0.95), ("fourrooms", 0.9), ("wormhole", 0.97)):
        mdp = himo.make_env(name)
        trajectory = himo.solve(mdp, lam=lam, provenance={"env_key": f"{name}-lam{lam}", "paper_env": name})
        runs.append(measures_dataset(trajectory, mdp))
    return runs


def test_the_claimed_states_of_the_paper_environments(paper_runs):
    named = {ds.attrs["paper_env"]: [(ds["state"].values[s], role) for s, role in lift.claimed_states(ds, CLAIMS)]
             for ds in paper_runs}
    assert named == {"hanoi": [("011", "bridge"), ("211", "bridge")],
                     "fourrooms": [("r7c9", "entry doorway"), ("r10c6", "entry doorway")],
                     "wormhole": [("r4c4", "wormhole entrance"), ("r9c8", "wormhole exit")]}


def test_lift_agrees_with_a_brute_force_recomputation(paper_runs):
    rows = lift.lift_table(paper_runs)
    assert {r["paper_env"] for r in rows} == {"hanoi", "fourrooms", "wormhole"}
    checked = 0
    for ds in paper_runs:
        labels = [str(s) for s in ds["state"].values]
        for row in (r for r in rows if r["run"] == ds.attrs["env_key"]):
            if row["on_path"]:
                assert row["lift"] == brute_force_lift(ds, labels.index(row["state"])), row
                checked += 1
    assert checked >= 8
    assert any(r["lift"] not in (0, None) for r in rows)  # these foresights move states off the DP order


@pytest.mark.slow
def test_lift_command_writes_table_and_figure_all_or_none(paper_runs, tmp_path, capsys):
    paths = []
    for ds in paper_runs:
        paths.append(str(tmp_path / f"{ds.attrs['env_key']}.nc"))
        write_netcdf(ds, paths[-1])
    out = {name: tmp_path / name for name in ("lift.csv", "lift.png", "lift.pdf")}
    args = ["--csv", str(out["lift.csv"]), "--png", str(out["lift.png"]), "--pdf", str(out["lift.pdf"])]
    assert main(["lift", *paths, *args]) == 0
    table = list(csv.DictReader(out["lift.csv"].open()))
    assert tuple(table[0]) == lift.LIFT_COLUMNS and len(table) == len(lift.lift_table(paper_runs))
    first = {name: path.read_bytes() for name, path in out.items()}
    assert main(["lift", *paths, *args]) == 0
    assert first == {name: path.read_bytes() for name, path in out.items()}  # the same bytes
    for path in out.values():
        path.unlink()
    assert main(["lift", paths[0], str(tmp_path / "missing.nc"), *args]) == 2
    assert "missing.nc" in capsys.readouterr().err
    assert not any(path.exists() for path in out.values())

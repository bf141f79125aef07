"""`himo measures` and `himo run` round trips through files (and `himo claims` on their output)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import xarray as xr

from himo import make_env, save_mdp, solve
from himo.measures.dataset import (
    TIME_SERIES,
    counter_difference,
    max_normalize,
    measures_dataset,
    policy_divergence,
    time_derivative,
    time_series,
)
from himo.cli import main
from himo.io import write_netcdf
from himo.verdicts.claims import CLAIMS


def test_measures_and_claims_cli_round_trip(tmp_path):
    mdp = make_env("hanoi", n_disks=2)
    save_mdp(mdp, tmp_path / "h.nc")
    traj = solve(mdp, lam=0.9, method="natural", step=0.2, max_iter=200, dependent="argmax",
                 provenance={"env_key": "hanoi", "paper_env": "hanoi"})
    write_netcdf(traj, tmp_path / "t.nc")
    assert main(["measures", str(tmp_path / "t.nc"), str(tmp_path / "h.nc"), str(tmp_path / "m.nc")]) == 0
    with xr.open_dataset(tmp_path / "m.nc") as ds:
        ds = ds.load()
    expected = measures_dataset(traj, mdp)
    for name in ("PD", "CD", "priority", "objective", "on_optimal_path", "optimal_path_position", "final_occupancy",
                 "layout_x", "cluster", "role_goal", "role_bottleneck", "edge_source", "edge_target"):
        np.testing.assert_array_equal(ds[name].values, expected[name].values, err_msg=name)
    # the series computed on reading the file are, bit for bit, those the measures once
    # stored: Eq. 12-14 and the velocities computed from the trajectory in one go
    assert not set(TIME_SERIES) - {"PD", "CD"} & set(ds.variables)
    time = traj["time"].values
    pd = policy_divergence(traj["policy"].values, traj["policy"].values[0])
    cd = counter_difference(traj["occupancy"].values)
    once_stored = {"PD": pd, "CD": cd, "PD_norm": max_normalize(pd), "CD_norm": max_normalize(cd, absolute=True),
                   "dPD_dt": time_derivative(pd, time), "dCD_dt": time_derivative(cd, time),
                   "dPD_norm_dt": time_derivative(max_normalize(pd), time),
                   "dCD_norm_dt": time_derivative(max_normalize(cd, absolute=True), time)}
    for name, values in once_stored.items():
        np.testing.assert_array_equal(time_series(ds, name).values, values, err_msg=name)
        assert time_series(ds, name).dims == ("iteration", "state")
    assert ds.attrs["env_key"] == "hanoi" and ds.attrs["foresight"] == 0.9
    for key in traj.attrs:
        assert key in ds.attrs, key
    assert list(ds.time.values) == list(traj.time.values)

    outs = []
    for i in range(2):
        js, md = tmp_path / f"c{i}.json", tmp_path / f"c{i}.md"
        assert main(["claims", str(tmp_path / "m.nc"), "--json", str(js), "--md", str(md)]) == 0
        outs.append((js.read_bytes(), md.read_bytes()))
    assert outs[0] == outs[1]
    data = json.loads(outs[0][0])
    assert set(data) == {claim.id for claim in CLAIMS} >= {"H1", "H2", "H3", "H4", "R1", "W1", "W2", "W3", "G1", "N1"}
    assert data["H1"]["run"] == "hanoi"


def test_measures_cli_errors(tmp_path, capsys):
    assert main(["measures", str(tmp_path / "no.nc"), str(tmp_path / "no2.nc"), str(tmp_path / "m.nc")]) == 2
    assert "himo: error:" in capsys.readouterr().err
    assert not (tmp_path / "m.nc").exists()


# ------------------------------------------------------------------- himo run
def test_run_writes_what_solve_then_measures_write(run_entry, tmp_path):
    """Each run of `himo run` gives the bytes `himo solve` and then `himo measures` give."""
    mdp = make_env("hanoi", n_disks=2)
    save_mdp(mdp, tmp_path / "h.nc")
    entries = [run_entry(tmp_path, "a"), run_entry(tmp_path, "b", lam=0.8, method="gradient", step=1.0)]
    assert main(["run", str(tmp_path / "h.nc"), "--runs", json.dumps(entries)]) == 0
    for entry in entries:
        settings = [arg for name, value in entry["settings"].items() for arg in (f"--{name.replace('_', '-')}",
                                                                                   str(value))]
        alone_t, alone_m = tmp_path / "alone-t.nc", tmp_path / "alone-m.nc"
        assert main(["solve", str(tmp_path / "h.nc"), str(alone_t), *settings,
                     "--provenance", json.dumps(entry["provenance"])]) == 0
        assert main(["measures", str(alone_t), str(tmp_path / "h.nc"), str(alone_m)]) == 0
        assert alone_t.read_bytes() == open(entry["trajectory"], "rb").read()
        assert alone_m.read_bytes() == open(entry["measures"], "rb").read()


def test_run_counters_as_solve_counters(run_entry, tmp_path):
    """A run's "counters" is `himo solve --counters`: no leaves C and I out."""
    mdp = make_env("hanoi", n_disks=2)
    save_mdp(mdp, tmp_path / "h.nc")
    entries = [run_entry(tmp_path, "auto"), {**run_entry(tmp_path, "no"), "counters": "no"}]
    assert main(["run", str(tmp_path / "h.nc"), "--runs", json.dumps(entries)]) == 0
    with xr.open_dataset(entries[0]["trajectory"]) as kept, xr.open_dataset(entries[1]["trajectory"]) as left:
        assert "C" in kept and "C" not in left and "I" not in left
        assert "store_counters=False" in left.attrs["counters"]


def test_run_builds_the_mdp_as_env_does(run_entry, tmp_path):
    """`himo run --env` solves the MDP `himo env` writes, and writes the same file."""
    assert main(["env", "hanoi", str(tmp_path / "h.nc"), "--param", "n_disks=2"]) == 0
    from_file, built = [run_entry(tmp_path, "file")], [run_entry(tmp_path, "built")]
    built[0]["provenance"] = from_file[0]["provenance"]
    assert main(["run", str(tmp_path / "h.nc"), "--runs", json.dumps(from_file)]) == 0
    assert main(["run", "--env", "hanoi", "--param", "n_disks=2", "--save-mdp", str(tmp_path / "b.nc"),
                 "--runs", json.dumps(built)]) == 0
    assert (tmp_path / "b.nc").read_bytes() == (tmp_path / "h.nc").read_bytes()
    for name in ("trajectory", "measures"):
        assert open(built[0][name], "rb").read() == open(from_file[0][name], "rb").read(), name


@pytest.mark.parametrize("source, words", [
    ([], ["the MDP file or --env"]),
    (["h.nc", "--env", "hanoi"], ["not both"]),
    (["h.nc", "--save-mdp", "x.nc"], ["--save-mdp go with --env"]),
    (["--env", "hanio"], ["unknown environment 'hanio'"]),
])
def test_run_source_errors(run_entry, tmp_path, capsys, source, words):
    entries = json.dumps([run_entry(tmp_path, "a")])
    assert main(["run", *[str(tmp_path / w) if w.endswith(".nc") else w for w in source], "--runs", entries]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error:") and all(word in err for word in words), err
    assert not list(tmp_path.glob("*.nc"))


@pytest.mark.parametrize("runs, words", [
    ("not json", ["--runs is not valid JSON"]),
    ("[]", ["non-empty JSON list"]),
    ('[{"trajectory": "t.nc"}]', ["--runs[0]", "the keys trajectory, measures, settings, provenance"]),
    (None, ["--runs[1].settings", "alpha"]),
    (None, ["--runs[1].settings", "lam must be"]),
    (None, ["--runs[1].counters", "auto, yes, no"]),
])
def test_run_errors_name_the_run_and_write_nothing(run_entry, tmp_path, capsys, runs, words):
    mdp = make_env("hanoi", n_disks=2)
    save_mdp(mdp, tmp_path / "h.nc")
    if runs is None:
        second = run_entry(tmp_path, "b", **({"alpha": 0.1} if "alpha" in words else {"lam": 1.5}
                                             if "lam must be" in words else {}))
        if "--runs[1].counters" in words:
            second["counters"] = "maybe"
        runs = json.dumps([run_entry(tmp_path, "a"), second])
    assert main(["run", str(tmp_path / "h.nc"), "--runs", runs]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error:") and all(word in err for word in words), err
    assert not list(tmp_path.glob("a-*.nc"))  # every run is checked before any is solved

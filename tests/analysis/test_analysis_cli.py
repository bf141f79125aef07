"""`himo measures` and `himo claims` round trips through files."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from himo import make_env, save_mdp, solve
from himo.analysis.measures import measures_dataset
from himo.cli import main
from himo.io import write_netcdf


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
    for name in ("PD", "CD", "PD_norm", "CD_norm", "dPD_dt", "dCD_dt", "dPD_norm_dt", "dCD_norm_dt",
                 "priority", "objective", "on_optimal_path", "optimal_path_position", "final_occupancy",
                 "layout_x", "cluster", "role_goal", "role_bottleneck", "edge_source", "edge_target"):
        np.testing.assert_array_equal(ds[name].values, expected[name].values, err_msg=name)
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
    assert set(data) == {"H1", "H2", "H3", "H4", "R1", "W1", "W2", "G1"}
    assert data["H1"]["run"] == "hanoi"


def test_measures_cli_errors(tmp_path, capsys):
    assert main(["measures", str(tmp_path / "no.nc"), str(tmp_path / "no2.nc"), str(tmp_path / "m.nc")]) == 2
    assert "himo: error:" in capsys.readouterr().err
    assert not (tmp_path / "m.nc").exists()

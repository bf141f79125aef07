"""`himo claims` through files: the robustness tables, all or none written."""

from __future__ import annotations

import csv
import json

from himo import make_env, save_mdp
from himo.cli import main


def test_claims_cli_writes_the_robustness_tables(run_entry, tmp_path):
    mdp = make_env("hanoi", n_disks=2)
    save_mdp(mdp, tmp_path / "h.nc")
    entries = [run_entry(tmp_path, "hanoi"), run_entry(tmp_path, "hanoi-lam0.8", lam=0.8)]
    assert main(["run", str(tmp_path / "h.nc"), "--runs", json.dumps(entries)]) == 0
    measures = [entry["measures"] for entry in entries]
    outputs = {option: tmp_path / f"out-{option.strip('-')}" for option in ("--json", "--md", "--csv", "--ranks")}
    args = [word for option, path in outputs.items() for word in (option, path)]
    assert main(["claims", *measures, *map(str, args)]) == 0
    robustness = list(csv.DictReader(outputs["--csv"].open()))
    assert {(r["env_key"], r["priority"]) for r in robustness if r["claim"] == "H2"} == {
        (key, p) for key in ("hanoi", "hanoi-lam0.8") for p in ("peak", "half")}
    assert {r["group"] for r in robustness} == {"main", "foresight"}
    ranks = list(csv.DictReader(outputs["--ranks"].open()))
    assert {r["role"] for r in ranks} >= {"start", "goal"}
    # the bad input of one run stops the command before any file is written
    for path in outputs.values():
        path.unlink()
    assert main(["claims", *measures, str(tmp_path / "h.nc"), *map(str, args)]) == 2
    assert not any(path.exists() for path in outputs.values())

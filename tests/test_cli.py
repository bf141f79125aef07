"""The command line: round trips through files, and one clean error line for bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import himo
from himo.cli import main
from himo.solver.value_iteration import value_iteration


def test_env_then_solve_round_trip(tmp_path, capsys):
    env, traj = tmp_path / "hanoi.nc", tmp_path / "out" / "trajectory.nc"
    assert main(["env", "hanoi", str(env), "--param", "n_disks=2", "--param", "goal_reward=2.5"]) == 0
    mdp = himo.load_mdp(env)
    built = himo.make_env("hanoi", n_disks=2, goal_reward=2.5)
    np.testing.assert_array_equal(mdp.P.toarray(), built.P.toarray())
    np.testing.assert_array_equal(mdp.R, built.R)
    assert mdp.attrs["n_disks"] == 2 and mdp.attrs["goal_reward"] == 2.5

    args = ["solve", str(env), str(traj), "--lam", "0.8", "--method", "newton", "--dependent", "argmax",
            "--step", "0.5", "--max-iter", "200", "--provenance", '{"env_key": "hanoi2", "config": {"a": 1}}']
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"{traj}: converged after ")
    with xr.open_dataset(traj) as ds:
        stored = ds.load()
    direct = himo.solve(built, lam=0.8, method="newton", dependent="argmax", step=0.5, max_iter=200)
    np.testing.assert_array_equal(stored.policy.values, direct.policy.values)
    np.testing.assert_array_equal(stored.objective.values, direct.objective.values)
    assert stored.attrs["env_key"] == "hanoi2" and stored.attrs["config"] == '{"a": 1}'
    assert stored.attrs["foresight"] == 0.8 and stored.attrs["method"] == "newton"
    assert sorted(p.name for p in traj.parent.iterdir()) == ["trajectory.nc"]


def test_envs_lists_the_environments(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for name in ("hanoi", "fourrooms", "wormhole", "grid"):
        assert f"{name}:" in out
    assert "n_disks=3" in out


def test_underflowed_run_says_how_to_avoid_it(tmp_path, capsys, random_mdp):
    """A huge multiplicative step that rounds an improving action's probability to 0
    is not reported as converged (it was, with the objective 3 % below the optimum)."""
    path, out = tmp_path / "mdp.nc", tmp_path / "t.nc"
    himo.save_mdp(random_mdp(seed=0, action_counts=(3, 2, 4, 2, 3, 2)), path)
    assert main(["solve", str(path), str(out), "--method", "multiplicative", "--step", "1e5"]) == 0
    err = capsys.readouterr().err
    assert f"{out}: underflow after " in err and "a smaller --step avoids this" in err
    with xr.open_dataset(out) as ds:
        assert ds.attrs["converged"] == 0 and "probability 0" in ds.attrs["stop_note"]


def test_unfinished_run_says_how_to_finish_it(tmp_path, capsys):
    env, traj = tmp_path / "hanoi.nc", tmp_path / "t.nc"
    assert main(["env", "hanoi", str(env)]) == 0
    assert main(["solve", str(env), str(traj), "--max-iter", "5", "--counters", "no"]) == 0
    err = capsys.readouterr().err
    assert f"{traj}: max_iter after 5 iterations" in err
    assert "the policy flow is still moving" in err and "--max-iter lets it finish" in err


@pytest.mark.parametrize("method, stop", [("natural", "stalled"), ("newton", "ill_conditioned")])
def test_solve_says_how_the_run_stopped(tmp_path, capsys, random_mdp, method, stop):
    """What ``himo solve`` reports: with no options, a converged run (the numbers behind
    it: tests/solver/test_convergence.py); with a fixed dependent rule, the stall of the
    documented finding and the option that avoids it. Both runs are written."""
    path, out, last = tmp_path / "mdp.nc", tmp_path / "trajectory.nc", tmp_path / "last.nc"
    himo.save_mdp(random_mdp(seed=2, action_counts=(3, 1, 2, 4, 1, 2, 3), unreachable=(4,)), path)
    assert main(["solve", str(path), str(out)]) == 0
    assert capsys.readouterr().err.startswith(f"{out}: converged after ")
    assert main(["solve", str(path), str(last), "--method", method, "--dependent", "last"]) == 0
    err = capsys.readouterr().err
    assert f"{last}: {stop} after " in err and "--dependent argmax avoids this" in err
    with xr.open_dataset(out) as converged, xr.open_dataset(last) as stalled:
        assert converged.attrs["stop_reason"] == "converged" and stalled.attrs["stop_reason"] == stop


@pytest.fixture
def hanoi_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mdp") / "hanoi.nc"
    himo.save_mdp(himo.make_env("hanoi", n_disks=2), path)
    return path


@pytest.fixture
def garbage_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mdp") / "garbage.nc"
    path.write_text("not netCDF\n")
    return path


BAD_INPUTS = {
    "unknown-env": (["env", "hanoy", "{out}"], "unknown environment 'hanoy'"),
    "param-typo": (["env", "hanoi", "{out}", "--param", "n_disk=4"], "has no parameter(s) 'n_disk'"),
    "param-without-value": (["env", "hanoi", "{out}", "--param", "n_disks"], "--param takes KEY=VALUE"),
    "param-out-of-range": (["env", "hanoi", "{out}", "--param", "n_disks=0"], "n_disks must be"),
    "lam-1.5": (["solve", "{mdp}", "{out}", "--lam", "1.5"], "lam must be a finite number in (0, 1), got 1.5"),
    "negative-step": (["solve", "{mdp}", "{out}", "--step", "-1"], "step must be a finite number > 0, got -1"),
    "infinite-step": (["solve", "{mdp}", "{out}", "--step", "inf"], "step must be a finite number > 0, got inf"),
    "negative-max-iter": (["solve", "{mdp}", "{out}", "--max-iter", "-1"], "max_iter must be an integer >= 0"),
    "negative-snapshots": (["solve", "{mdp}", "{out}", "--snapshots-between", "-5"],
                           "snapshots_between must be a non-negative integer"),
    "storage-budget-0": (["solve", "{mdp}", "{out}", "--storage-budget", "0"],
                         "storage_budget must be a finite number > 0, got 0"),
    "printed-with-natural": (["solve", "{mdp}", "{out}", "--e-form", "printed"], "e_form='printed'"),
    "provenance-not-json": (["solve", "{mdp}", "{out}", "--provenance", "[oops"], "--provenance is not valid JSON"),
    "malformed-mdp-file": (["solve", "{garbage}", "{out}"], "not a readable netCDF MDP file"),
    "missing-mdp-file": (["solve", "{missing}", "{out}"], "no such MDP file"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_gives_one_error_line_and_no_file(tmp_path, capsys, hanoi_file, garbage_file, case):
    template, message = BAD_INPUTS[case]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "result.nc"
    paths = dict(out=out, mdp=hanoi_file, garbage=garbage_file, missing=tmp_path / "absent.nc")
    argv = [arg.format(**paths) for arg in template]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("himo: error: ")
    assert message in lines[0]
    assert captured.out == ""
    assert list(out_dir.iterdir()) == [], "neither the output nor a *.part file may be left"
    if "{garbage}" in template:
        assert str(garbage_file) in lines[0]


def test_python_dash_m_himo_help():
    result = subprocess.run([sys.executable, "-m", "himo", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: himo")
    for command in ("envs", "env", "solve"):
        assert command in result.stdout


def test_unwritable_output_folder_is_one_line_error(tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert main(["env", "hanoi", str(blocked / "out.nc")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("himo: error:")


@pytest.mark.parametrize("report_text, message", [
    (None, "No such file or directory"),
    ("# a report without its summary\n", "no '## Summary' section"),
    ("## Summary\nthe summary\n\n## Next\n", "no '## Conclusion' section"),
    ("## Summary\nthe summary\n\n## Conclusion\nso\n\n## Next\n", "the README has no replication summary"),
])
def test_the_readme_copier_prints_errors_as_himo_does(tmp_path, capsys, report_text, message):
    """``himo readme`` (``make readme``) reports as every command does: one line
    ``himo: error: ...``, status 2, the README untouched."""
    report, readme = tmp_path / "report.txt", tmp_path / "readme.txt"
    if report_text is not None:
        report.write_text(report_text)
    readme.write_text("# no marks\n")
    assert main(["readme", str(report), str(readme)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("himo: error: ") and message in err[0]
    assert readme.read_text() == "# no marks\n"


def test_import_checks_and_rewrites_an_mdp_file(tmp_path, capsys):
    P = np.zeros((2, 2, 2))
    P[0, 0, 1] = P[0, 1, 0] = P[1, :, 1] = 1.0
    ds = xr.Dataset(
        {"P": (("state", "action", "next_state"), P), "R": (("state", "action"), [[0.0, 0.0], [1.0, 1.0]])},
        coords={"state": ["a", "b"], "action": ["go", "stay"], "next_state": ["a", "b"]},
        attrs={"start_state": "a"},
    )
    ds.to_netcdf(tmp_path / "in.nc")
    assert main(["import", str(tmp_path / "in.nc"), str(tmp_path / "out.nc")]) == 0
    assert himo.load_mdp(tmp_path / "out.nc").n_pairs == 4
    ds["P"][0, 0, 1] = 0.5  # no longer sums to 1
    ds.to_netcdf(tmp_path / "bad.nc")
    assert main(["import", str(tmp_path / "bad.nc"), str(tmp_path / "bad_out.nc")]) == 2
    assert "sum to 0.5" in capsys.readouterr().err
    assert not (tmp_path / "bad_out.nc").exists()

"""The Snakemake workflow (workflow/Snakefile): DAG, lint, runs, reruns, a bad config.

The real runs use tests/workflow/config.test.yaml (the Tower of Hanoi only, a short
run) in temporary working directories (``snakemake -s workflow/Snakefile
--directory TMP``), with a copy of the himo package first on PYTHONPATH: the
workflow takes the package files each job's command runs as its inputs
(himo.pipeline.sources), so a test can edit the copy to check that a code change
plans the jobs that depend on it, without touching the repository. The config's
resolution and each kind of bad config are unit tests in test_pipeline.py, the
code inputs in test_sources.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from himo.measures import states
from himo.pipeline import config as pipeline

# All of them run snakemake; those marked slow run real jobs (about 100 s in all
# on 2 cores). `make test` runs them all; `-m "not slow"` keeps the checks
# that run no job (dry runs, lint, a bad config), as `make lint-workflow` does.
pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
TEST_CONFIG = Path(__file__).with_name("config.test.yaml")
PAPER_CONFIG = REPO / "config" / "config.yaml"
SCHEMA_FILE = REPO / "workflow" / "schemas" / "config.schema.yaml"
SLURM_PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"
BIN = Path(sys.executable).parent

#: Lints accepted on purpose. The rules run the `himo` of the project's virtual
#: environment (requirements.lock, `make setup`); a conda environment per rule
#: would also need himo installed from this checkout, which a conda environment
#: file cannot express portably.
ACCEPTED_LINTS = {"Specify a conda environment or container for each rule."}


def snakemake(workdir, *args, config=TEST_CONFIG, pythonpath=None, cwd=None, timeout=300):
    """Run snakemake on the workflow; the CompletedProcess, output captured."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    command = [sys.executable, "-m", "snakemake", "--cores", "2"]
    if workdir is not None:
        command += ["-s", str(SNAKEFILE), "--directory", str(workdir)]
    if config is not None:
        command += ["--configfile", str(config)]
    return subprocess.run(
        command + list(args), cwd=cwd or workdir or REPO, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


def output_of(proc) -> str:
    return proc.stdout + proc.stderr


def assert_ok(proc):
    assert proc.returncode == 0, output_of(proc)[-6000:]


def jobs_of(proc) -> dict[str, int]:
    """{rule: count} from the 'Job stats' table of a (dry) run."""
    text = output_of(proc)
    if "Job stats" not in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
            if m.group(1) != "total"}


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of the himo package, to be edited by the code-change tests."""
    root = tmp_path_factory.mktemp("src")
    shutil.copytree(REPO / "src" / "himo", root / "himo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, package_copy):
    """A complete run of the test configuration in a fresh working directory."""
    workdir = tmp_path_factory.mktemp("run1")
    proc = snakemake(workdir, pythonpath=package_copy)
    assert_ok(proc)
    return workdir


OUTPUTS = [
    "results/hanoi/env.nc", "results/hanoi/trajectory.nc", "results/hanoi/measures.nc",
    "results/claims.json", "results/claims.md", "results/robustness.csv", "results/priority_ranks.csv",
    "figures/fig1.png", "figures/fig1.pdf", "figures/robustness.png", "figures/robustness.pdf",
    "figures/priority_ranks.png", "figures/priority_ranks.pdf", "figures/baselines.png", "figures/baselines.pdf",
    "results/baselines.csv", "results/replication.md", "results/metadata.yaml",
    "results/bottleneck_lift.csv", "figures/lift.png", "figures/lift.pdf",
]
LOGS = ["results/logs/run_hanoi.log", "results/claims.log", "figures/fig1.log", "figures/robustness.log"]


# ------------------------------------------------------------------- the DAG
@pytest.mark.parametrize("where", ["repo-root", "other-directory"])
def test_dry_run_of_the_paper_config(where, tmp_path):
    """From the repository root `snakemake -n` finds workflow/Snakefile, its default
    profile and config/config.yaml; the sweeps add runs that read their environment's MDP."""
    if where == "repo-root":
        proc = snakemake(None, "-n", config=None, cwd=REPO)
    else:
        proc = snakemake(tmp_path, "-n", config=PAPER_CONFIG)
    assert_ok(proc)
    text = output_of(proc)
    assert "workflow/profiles/default" in text
    if where == "repo-root":
        return  # what remains to be done depends on results/ in the checkout
    # 3 paper environments, their step-cost variants and in-room placements (8 MDPs, each built
    # by its jobs); the sweeps' runs solve and measure on their environment's MDP, a group of
    # runs per job
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    runs = pipeline.resolve_runs(pipeline.validate_config(config, SCHEMA_FILE))
    jobs = pipeline.resolve_jobs(runs, config["runs_per_job"])
    assert jobs_of(proc) == {**{name: 1 for name in jobs}, "figure": 3, "claims": 1,
                             "baselines": 1, "lift": 1, "robustness_figures": 1, "replication": 1, "all": 1}
    for key in ("hanoi", "fourrooms", "wormhole"):
        for variant in ("lam0.8", "lam0.995", "step1", "step0.03", "rule-multiplicative", "dependent-last",
                        "stepcost", "gradient-lam0.9", "softmax-lam0.8"):
            assert f"results/{key}-{variant}/measures.nc" in text
            assert f"results/{key}-{variant}/trajectory.nc" not in text  # variant_trajectories is off
            assert f"figures/{key}-{variant}.png" not in text  # variant_figures is off
        assert f"results/{key}/trajectory.nc" in text  # the paper environments' own runs keep theirs
    for figure in ("fig1", "fig2", "figS1", "robustness", "priority_ranks"):
        assert f"figures/{figure}.pdf" in text
    # the sweep's settings reach the command line, and so does the provenance; the
    # sweep's run solves its environment's MDP, which one job writes to a file
    assert "results/hanoi-lam0.8/env.nc" not in text
    assert len(re.findall(r"--save-mdp results/hanoi/env.nc", text)) == 1
    (job,) = [line for line in text.splitlines() if line.startswith("Shell command: himo run --env hanoi ")
              and '"results/hanoi-lam0.8/measures.nc"' in line]
    words = shlex.split(job)
    listed = json.loads(words[words.index("--runs") + 1])
    (entry,) = [e for e in listed if e["provenance"]["env_key"] == "hanoi-lam0.8"]
    assert entry["settings"]["lam"] == 0.8 and entry["settings"]["method"] == "natural"
    assert entry["provenance"]["paper_env"] == "hanoi" and entry["measures"] == "results/hanoi-lam0.8/measures.nc"
    assert entry["trajectory"] is None


def test_variant_figures_are_drawn_when_asked(tmp_path):
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    config["variant_figures"] = True
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, "-n", config=tmp_path / "config.yaml")
    assert_ok(proc)
    assert jobs_of(proc)["figure"] == 3 + len(pipeline.resolve_runs(pipeline.validate_config(config, SCHEMA_FILE))) - 3
    assert "figures/hanoi-lam0.8.png" in output_of(proc)


def test_lint():
    """`snakemake --lint` finds nothing but the lints accepted above."""
    proc = snakemake(None, "--lint", config=None, cwd=REPO)
    lints = set(re.findall(r"^\s+\* (.+?):?$", output_of(proc), re.M))
    assert lints <= ACCEPTED_LINTS, output_of(proc)
    assert proc.returncode == 0 or lints, output_of(proc)


def test_slurm_profile_sets_the_resources_of_the_workflows_rules(tmp_path):
    """workflow/profiles/slurm gives resources to exactly the rules that run a job, apart
    from the run jobs (named after the config's environments, they take its
    default-resources): Snakemake silently ignores a rule the profile names that the
    workflow lacks (renamed or removed), and a new rule missing from the profile would
    run with the defaults meant for the run jobs. The rules are the workflow's own, as
    `snakemake --list-rules` prints them (a name a line, then its docstring)."""
    proc = snakemake(tmp_path, "--list-rules", config=PAPER_CONFIG)
    assert_ok(proc)
    rules = set(re.findall(r"^(\w+)(?: \(.*\))?$", proc.stdout, re.M))
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    runs = pipeline.resolve_runs(pipeline.validate_config(config, SCHEMA_FILE))
    run_jobs = set(pipeline.resolve_jobs(runs, config["runs_per_job"]))
    assert run_jobs < rules, sorted(run_jobs - rules)
    named = set(yaml.safe_load(SLURM_PROFILE.read_text())["set-resources"])
    assert not named - rules, f"the SLURM profile names rules the workflow lacks: {sorted(named - rules)}"
    # `all` is the default target: it runs no job
    assert not rules - run_jobs - {"all"} - named, \
        f"the SLURM profile lacks rules of the workflow: {sorted(rules - run_jobs - {'all'} - named)}"


# ------------------------------------------------------------------ real runs
@pytest.mark.slow
def test_run_makes_every_output(first_run):
    for path in OUTPUTS + LOGS:
        assert (first_run / path).is_file(), path
    with xr.open_dataset(first_run / "results/hanoi/trajectory.nc") as trajectory:
        assert trajectory.attrs["env_key"] == "hanoi"
        assert trajectory.attrs["paper_env"] == "hanoi"
        entry = json.loads(trajectory.attrs["config"])
        assert entry["env"] == "hanoi"
        assert entry["solver"]["max_iter"] == 200 and entry["solver"]["method"] == "natural"
    claims = json.loads((first_run / "results/claims.json").read_text())
    assert "H1" in claims


@pytest.mark.slow
def test_report(first_run, package_copy):
    """`snakemake --report report.html` gathers the figures and results/claims.md, captioned."""
    proc = snakemake(first_run, "--report", "report.html", pythonpath=package_copy)
    assert_ok(proc)
    html = (first_run / "report.html").read_text()
    assert '"figures/fig1.png"' in html and '"results/claims.md"' in html and '"results/replication.md"' in html
    assert "the dynamics of HIMO on one run" in html


@pytest.mark.slow
def test_second_run_has_nothing_to_do(first_run, package_copy):
    proc = snakemake(first_run, pythonpath=package_copy)
    assert_ok(proc)
    assert "Nothing to be done" in output_of(proc)


#: Every job of the test config.
EVERY_STAGE = {"run_hanoi", "figure", "claims", "baselines", "lift", "robustness_figures", "replication", "all"}

#: {edited file of the package: (the jobs the edit must plan, whether those only)}.
#: Every `himo` command runs himo/__init__.py (which imports the environments, the
#: MDP file format and the solver), cli.py and the subcommand plugins, so editing
#: those reruns every stage; a subcommand's own code reruns its stage and what follows
#: (the rule: himo.pipeline.sources, tested in test_sources.py).
CODE_EDITS = {
    "__init__.py": (EVERY_STAGE, True),
    "cli.py": (EVERY_STAGE, True),
    "provenance.py": (EVERY_STAGE, True),
    "mdpfile.py": (EVERY_STAGE, True),
    "envs/hanoi.py": (EVERY_STAGE, True),
    "solver/loop.py": (EVERY_STAGE, True),
    "measures/dataset.py": ({"run_hanoi", "figure", "claims", "baselines", "lift", "robustness_figures",
                             "replication", "all"}, False),
    "verdicts/robustness.py": ({"claims", "robustness_figures", "replication", "all"}, True),
    "verdicts/lift.py": ({"lift", "replication", "all"}, True),  # the report reads its table
    "verdicts/replication.py": ({"replication", "all"}, True),
    "verdicts/templates/replication.j2": ({"replication", "all"}, True),
    "verdicts/templates/claims.j2": ({"claims", "robustness_figures", "replication", "all"}, True),
    "plotting/robustness.py": ({"robustness_figures", "replication", "all"}, True),
    "plotting/panels.py": ({"figure", "baselines", "lift", "robustness_figures", "replication", "all"}, True),
    "plotting/himo.mplstyle": ({"figure", "baselines", "lift", "robustness_figures", "replication", "all"},
                               True),
}


def edit_and_dry_run(workdir, package_copy, edited, edit=b"\n# an edit\n"):
    """`snakemake -n` after appending `edit` to a file of the package copy (then restored).

    Snakemake 9 reruns a job when an input is newer than its outputs *and* its
    checksum differs from the recorded one: touching a file is not an edit.
    """
    source = package_copy / "himo" / edited
    assert source.is_file(), f"{edited} is not in the package: update this test"
    original = source.read_bytes()
    try:
        source.write_bytes(original + edit)
        later = time.time() + 5
        os.utime(source, (later, later))
        return snakemake(workdir, "-n", pythonpath=package_copy)
    finally:
        source.write_bytes(original)


@pytest.mark.slow
@pytest.mark.parametrize("edited", list(CODE_EDITS))
def test_code_change_reruns_what_depends_on_it(first_run, package_copy, edited):
    """Editing a file of the package plans the stage(s) it feeds and everything after."""
    planned, only = CODE_EDITS[edited]
    proc = edit_and_dry_run(first_run, package_copy, edited)
    assert_ok(proc)
    jobs = set(jobs_of(proc))
    assert jobs == planned if only else jobs >= planned, output_of(proc)


@pytest.mark.slow
def test_an_undone_edit_reruns_nothing(first_run, package_copy):
    """A file edited and restored is newer than the outputs, with the same checksum."""
    proc = edit_and_dry_run(first_run, package_copy, "__init__.py", edit=b"")
    assert_ok(proc)
    assert "Nothing to be done" in output_of(proc)


@pytest.mark.slow
def test_two_clean_runs_are_identical(first_run, package_copy, tmp_path):
    """Same config, same code: byte-identical figures, identical datasets and claims."""
    assert_ok(snakemake(tmp_path, pythonpath=package_copy))
    for path in OUTPUTS:
        a, b = first_run / path, tmp_path / path
        if path.endswith(".nc"):
            with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
                assert da.load().identical(db.load()), path
        else:
            assert a.read_bytes() == b.read_bytes(), path


# --------------------------------------------------------------- bad configs
def test_bad_config_stops_before_any_job(tmp_path):
    """A bad key or value stops Snakemake before any job, with the message naming it
    (each kind of bad config is a unit test of himo.pipeline.config in test_pipeline.py)."""
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["solver"]["method"] = "newtonn"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    workdir.mkdir()
    proc = snakemake(workdir, config=path)
    text = output_of(proc)
    assert proc.returncode != 0, text
    assert "config: solver.method: 'newtonn' is not one of" in text, text
    assert "Traceback" not in text and "Select jobs to execute" not in text, text
    assert not (workdir / "results").exists()


# ------------------------------------------------------------ extending it
TWO_ROOMS = """\
; Two rooms joined by one doorway: not one of the paper's layouts.
wwwwwwwww
wS..w...w
w.......w
w...w..Gw
wwwwwwwww
"""


def write_chain_mdp(path):
    """A 4-state chain written with xarray alone (the dense MDP file form)."""
    states, actions = ["s0", "s1", "s2", "s3"], ["left", "right", "STOP"]
    P = np.zeros((4, 3, 4))
    R = np.zeros((4, 3))
    for s in range(4):
        P[s, 0, max(s - 1, 0)] = 1
        P[s, 1, min(s + 1, 3)] = 1
        P[s, 2, s] = 1
    R[3, 2] = 1.0
    ds = xr.Dataset(
        {"P": (("state", "action", "next_state"), P), "R": (("state", "action"), R)},
        coords={"state": states, "action": actions, "next_state": states},
        attrs={"start_state": "s0"},
    )
    ds.to_netcdf(path)


@pytest.mark.slow
def test_a_new_environment_needs_only_a_config_entry(tmp_path, package_copy):
    """A map with another room layout, an MDP file written with xarray, an open
    `grid` room and a Gymnasium environment (FrozenLake, not slippery): one config
    entry each, and the DAG builds their trajectories, measures, figures and claims
    rows; FrozenLake's figure is a grid."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "tworooms.txt").write_text(TWO_ROOMS)
    write_chain_mdp(tmp_path / "chain.nc")
    config = {
        "environments": {
            "tworooms": {"map": "maps/tworooms.txt", "params": {"goal_reward": 1.0}},
            "chain": {"mdp": "chain.nc", "figure_style": "normalized"},
            "openroom": {"env": "grid", "params": {"rows": 3, "cols": 4}},
            "frozenlake": {"gymnasium": "FrozenLake-v1", "params": {"is_slippery": False}},
        },
        "solver": {"method": "natural", "max_iter": 300},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, config=path, pythonpath=package_copy)
    assert_ok(proc)
    claims = (tmp_path / "results/claims.json").read_text()
    for key in config["environments"]:
        for stage in ("env", "trajectory", "measures"):
            assert (tmp_path / f"results/{key}/{stage}.nc").is_file(), (key, stage)
        assert (tmp_path / f"figures/{key}.png").is_file(), key
        assert (tmp_path / f"figures/{key}.pdf").is_file(), key
        assert f'"{key}"' in claims, key
        with xr.open_dataset(tmp_path / f"results/{key}/trajectory.nc") as trajectory:
            assert trajectory.attrs["env_key"] == key
            assert trajectory.attrs["paper_env"] == ""
    with xr.open_dataset(tmp_path / "results/frozenlake/measures.nc") as lake:
        assert states.is_grid(lake) and lake.sizes["state"] == 16
        assert states.labels(lake)[states.start(lake)] == "0" and states.labels(lake)[states.goal(lake)] == "15"
        assert lake.attrs["stop_reason"] == "converged"
    with xr.open_dataset(tmp_path / "results/frozenlake/env.nc") as lake:
        assert json.loads(lake.attrs["env_gymnasium_kwargs"]) == {"is_slippery": False}
